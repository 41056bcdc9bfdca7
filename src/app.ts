import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { api } from "./api";
import { ApiError } from "./api/errors";
import { handleHook } from "./hook/ingress";
import { handleSample } from "./hook/sample-ingress";
import { log } from "./log";

/** Hook ingress, admin API and health; everything else is the designer's static assets. */
export const app = new Hono<{ Bindings: Env }>()
	.all("/hook/:flowId", handleHook)
	.all("/hook/:flowId/*", handleHook)
	.all("/sample/:flowId/:token", handleSample)
	.get("/healthz", async (c) => {
		const d1 = await c.env.DB.prepare("SELECT 1")
			.first()
			.then(() => "ok")
			.catch((error: Error) => error.message);
		return c.json(
			{ ok: d1 === "ok", version: c.env.BUILD_SHA, d1, queue: typeof c.env.EXECUTIONS?.send === "function" ? "bound" : "missing" },
			d1 === "ok" ? 200 : 503,
		);
	})
	.route("/api", api)
	.all("*", (c) => c.env.ASSETS.fetch(c.req.raw))
	.notFound((c) => c.json({ error: { message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404))
	.onError((error, c) => {
		if (error instanceof ApiError) {
			return c.json({ error: { message: error.message, ...(error.issues ? { issues: error.issues } : {}) } }, error.status);
		}
		if (error instanceof HTTPException) return c.json({ error: { message: error.message } }, error.status);
		log("error", "unhandled", { method: c.req.method, path: new URL(c.req.url).pathname, error: error.message });
		return c.json({ error: { message: "Internal error; see the Worker logs" } }, 500);
	});
