import { Hono } from "hono";
import { timingSafeEqualText } from "../crypto/timing-safe";
import { accessConfig, verifyAccessJwt } from "./access";
import { alertTargetsRoutes } from "./alert-targets";
import { componentsRoutes } from "./components";
import { credentialsRoutes } from "./credentials";
import { ApiError } from "./errors";
import { executionsRoutes, flowExecutionsRoutes } from "./executions";
import { exportImportRoutes } from "./export-import";
import { flowSettingsRoutes } from "./flow-settings";
import { flowsRoutes } from "./flows";
import { flowReplayRoutes, jobsRoutes } from "./jobs";
import { metricsRoutes } from "./metrics";
import { openapiRoutes } from "./openapi";
import { rotateKeyRoutes } from "./rotate-key";
import { flowSamplesRoutes, mappingsRoutes } from "./samples";
import { statsRoutes } from "./stats";

/** The admin API: everything behind the bearer token (or a Cloudflare Access JWT, when configured), nothing cached. */
export const api = new Hono<{ Bindings: Env }>()
	.use(async (c, next) => {
		c.header("cache-control", "no-store");
		const token = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
		if (!c.env.ADMIN_TOKEN) throw new ApiError(503, "ADMIN_TOKEN is not configured: set it with `wrangler secret put ADMIN_TOKEN`");
		if (!token || !(await timingSafeEqualText(token, c.env.ADMIN_TOKEN))) {
			const access = accessConfig(c.env);
			const assertion = c.req.header("cf-access-jwt-assertion");
			if (!access || !assertion) throw new ApiError(401, "Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>`");
			const verdict = await verifyAccessJwt(assertion, access, Date.now());
			if (!verdict.ok) throw new ApiError(401, `Cloudflare Access token refused: ${verdict.reason}`);
		}
		await next();
	})
	.route("/alert-targets", alertTargetsRoutes)
	.route("/components", componentsRoutes)
	.route("/credentials", credentialsRoutes)
	.route("/flow-settings", flowSettingsRoutes)
	.route("/flows", flowsRoutes)
	.route("/flows", flowExecutionsRoutes)
	.route("/flows", flowSamplesRoutes)
	.route("/flows", flowReplayRoutes)
	.route("/jobs", jobsRoutes)
	.route("/executions", executionsRoutes)
	.route("/mappings", mappingsRoutes)
	.route("/metrics", metricsRoutes)
	.route("/stats", statsRoutes)
	.route("/", exportImportRoutes)
	.route("/openapi.json", openapiRoutes)
	.route("/admin/rotate-key", rotateKeyRoutes)
	// An unknown /api path is an API error, not a page of the designer.
	.all("*", (c) => {
		throw new ApiError(404, `No API route for ${c.req.method} ${new URL(c.req.url).pathname}`);
	});
