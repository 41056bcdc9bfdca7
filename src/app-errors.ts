import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError } from "./api/errors";
import { log } from "./log";

/** The one error and not-found handling, shared by the app and the lazily loaded admin API. */

export function handleNotFound(c: Context): Response {
	return c.json({ error: { message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404);
}

export function handleError(error: Error, c: Context): Response {
	if (error instanceof ApiError) {
		return c.json({ error: { message: error.message, ...(error.issues ? { issues: error.issues } : {}) } }, error.status);
	}
	if (error instanceof HTTPException) return c.json({ error: { message: error.message } }, error.status);
	log("error", "unhandled", { method: c.req.method, path: new URL(c.req.url).pathname, error: error.message });
	return c.json({ error: { message: "Internal error; see the Worker logs" } }, 500);
}
