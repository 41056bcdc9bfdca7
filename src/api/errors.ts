import { zValidator } from "@hono/zod-validator";
import type { ZodType } from "zod";

/** The admin API's one error shape: {"error":{"message","issues"?}}. */
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
