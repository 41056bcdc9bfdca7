/**
 * @module
 * The HTTP app: `/hook`, `/sample` and `/healthz` on the hot path; `/api` loaded on first use;
 * everything else is the designer's static assets.
 */
import { type Context, Hono } from "hono";
import { handleError, handleNotFound } from "./api/errors";
import { handleHook } from "./hook/ingress";
import { handleSample } from "./hook/sample-ingress";

type AppContext = Context<{ Bindings: Env }>;

/** The admin API is imported on first use, so an isolate that only serves hooks never evaluates it. */
async function handleApi(c: AppContext): Promise<Response> {
	const { apiApp } = await import("./api/app");
	return apiApp.fetch(c.req.raw, c.env, c.executionCtx);
}

/** What the Worker itself answers (JSON), as opposed to the designer's assets, which public/_headers covers. */
const isWorkerPath = (path: string) => /^\/(hook|sample|api)(\/|$)|^\/healthz$/.test(path);

/** Hook ingress, admin API and health; everything else is the designer's static assets. */
export const app = new Hono<{ Bindings: Env }>()
	.use(async (c, next) => {
		await next();
		// A JSON answer is never sniffed into something a browser would render.
		if (isWorkerPath(c.req.path)) c.res.headers.set("x-content-type-options", "nosniff");
	})
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
	.all("/api", handleApi)
	.all("/api/*", handleApi)
	.all("*", (c) => c.env.ASSETS.fetch(c.req.raw))
	.notFound(handleNotFound)
	.onError(handleError);
