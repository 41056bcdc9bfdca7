/**
 * @module
 * The one home of errors outside the hook endpoint: the admin API's error (`{"error":{"message",
 * "issues"?}}`), its request validation, and the error and not-found handlers the app and the
 * lazily loaded admin API share. Nothing here loads zod (`@hono/zod-validator` only wraps hono's
 * validator), so the hook path may import it.
 */
import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodType } from "zod";
import { log } from "../log";

export class ApiError extends Error {
	constructor(
		readonly status: 400 | 401 | 404 | 409 | 413 | 422 | 500 | 503,
		message: string,
		readonly issues?: unknown[],
	) {
		super(message);
	}
}

export const notFound = (what: string, id: string) => new ApiError(404, `${what} ${id} does not exist`);

/**
 * The first row a query answers (a select, or an update's `.returning()`), or the API's 404 for
 * `what` `id`: a row that is not there, or was deleted meanwhile, is never cast into existence.
 */
export async function firstOrNotFound<T>(rows: Promise<readonly T[]>, what: string, id: string): Promise<T> {
	const [row] = await rows;
	if (row === undefined) throw notFound(what, id);
	return row;
}

/** zod validation of a JSON body or query whose failure becomes a 400 listing every issue. */
export function valid<T extends ZodType>(target: "json" | "query" | "param", schema: T) {
	return zValidator(target, schema, (result) => {
		if (!result.success) {
			const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
			throw new ApiError(
				400,
				`Invalid request ${target === "json" ? "body" : target}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`,
				issues,
			);
		}
	});
}

/** A part of a request checked after routing (an `auth` whose schema depends on the stored credential), with the same 400 as `valid`. */
export function parsedOr400<T extends ZodType>(schema: T, value: unknown, at: string): T["_zod"]["output"] {
	const result = schema.safeParse(value);
	if (result.success) return result.data;
	const issues = result.error.issues.map((i) => ({ path: [at, ...i.path].join("."), message: i.message }));
	throw new ApiError(400, `Invalid request body: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
}

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
