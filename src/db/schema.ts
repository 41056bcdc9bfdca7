import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import * as z from "zod";

/** The single source of truth for D1. Migrations in migrations/ are generated from this file. */

const timestamps = {
	createdAt: integer("created_at", { mode: "number" }).notNull().default(sql`(unixepoch('subsec') * 1000)`),
	updatedAt: integer("updated_at", { mode: "number" }).notNull().default(sql`(unixepoch('subsec') * 1000)`),
};

/**
 * The shapes of the JSON columns. The areas that own them declare them by augmenting this
 * interface (`declare module "../db/schema"` in flows/definition.ts), so rows come out typed while
 * the database layer imports none of its callers (the dependency rule in README.md).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging.
export interface JsonColumns {}

export const credentialComponents = ["webhook", "petstore"] as const;

export const credentials = sqliteTable("credentials", {
	id: text("id").primaryKey(),
	component: text("component", { enum: credentialComponents }).notNull(),
	name: text("name").notNull(),
	/** "petstore", or one of the webhook component's auth types (components/webhook-types.ts decides which). */
	type: text("type").notNull(),
	/** Non-secret settings: username, header name, algorithm, base URL. */
	details: text("details", { mode: "json" }).$type<CredentialDetails>().notNull(),
	/** AES-GCM sealed JSON of the secret values (see crypto/seal.ts); never returned by the API. */
	sealedSecrets: text("sealed_secrets").notNull(),
	/** The secret being rotated out, sealed too, valid until previousExpiresAt. */
	sealedPrevious: text("sealed_previous"),
	previousExpiresAt: integer("previous_expires_at", { mode: "number" }),
	...timestamps,
});

/** A credential's non-secret settings, as stored and as the API shows them (api/responses.ts). */
export const credentialDetailsSchema = z.object({
	username: z.string().optional(),
	headerName: z.string().optional(),
	algorithm: z.enum(["sha1", "sha256", "sha512"]).optional(),
	baseUrl: z.string().optional(),
	/** Generic HMAC options (absent on credentials made before them: hex, optional <algorithm>= prefix, {body}). */
	encoding: z.enum(["hex", "base64"]).optional(),
	prefix: z.string().optional(),
	signedContent: z.string().optional(),
	timestampHeader: z.string().optional(),
	toleranceSeconds: z.number().optional(),
	/** Square: the URL Square signs together with the body. */
	notificationUrl: z.string().optional(),
});
export type CredentialDetails = z.infer<typeof credentialDetailsSchema>;

export const flowStatuses = ["draft", "running", "stopped"] as const;

export const flows = sqliteTable("flows", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	status: text("status", { enum: flowStatuses }).notNull().default("draft"),
	/** The definition being edited; publishing copies it into flow_versions. */
	draft: text("draft", { mode: "json" }).$type<JsonColumns["draft"]>(),
	/** The published version new executions run on; null until the first publish. */
	liveVersion: integer("live_version"),
	...timestamps,
});

export const flowVersions = sqliteTable(
	"flow_versions",
	{
		flowId: text("flow_id")
			.notNull()
			.references(() => flows.id, { onDelete: "cascade" }),
		version: integer("version").notNull(),
		definition: text("definition", { mode: "json" }).$type<JsonColumns["definition"]>().notNull(),
		createdAt: timestamps.createdAt,
	},
	(t) => [primaryKey({ columns: [t.flowId, t.version] })],
);

export const executionStatuses = ["queued", "retrying", "succeeded", "failed"] as const;

export const executions = sqliteTable(
	"executions",
	{
		/** 32 lowercase hex: the requestId the hook answered with. */
		id: text("id").primaryKey(),
		flowId: text("flow_id").notNull(),
		version: integer("version").notNull(),
		status: text("status", { enum: executionStatuses }).notNull(),
		receivedAt: integer("received_at", { mode: "number" }).notNull(),
		finishedAt: integer("finished_at", { mode: "number" }),
		attemptCount: integer("attempt_count").notNull().default(0),
		durationMs: integer("duration_ms"),
		/** The message the hook produced (body fields + _method, _headers, …). */
		input: text("input", { mode: "json" }).$type<JsonColumns["input"]>(),
		/** The request sent to the action (method, url, body; never the key). */
		request: text("request", { mode: "json" }).$type<JsonColumns["actionRequest"]>(),
		response: text("response", { mode: "json" }).$type<JsonColumns["actionResponse"]>(),
		error: text("error"),
	},
	(t) => [index("executions_flow_received").on(t.flowId, t.receivedAt), index("executions_flow_status").on(t.flowId, t.status)],
);

export const attemptOutcomes = ["succeeded", "retry", "failed"] as const;

export const attempts = sqliteTable(
	"attempts",
	{
		executionId: text("execution_id")
			.notNull()
			.references(() => executions.id, { onDelete: "cascade" }),
		n: integer("n").notNull(),
		startedAt: integer("started_at", { mode: "number" }).notNull(),
		durationMs: integer("duration_ms").notNull(),
		/** HTTP status from the action, null for a network error, timeout or validation failure. */
		status: integer("status"),
		outcome: text("outcome", { enum: attemptOutcomes }).notNull(),
		error: text("error"),
	},
	(t) => [primaryKey({ columns: [t.executionId, t.n] })],
);

export type CredentialRow = typeof credentials.$inferSelect;
export type FlowRow = typeof flows.$inferSelect;
export type ExecutionRow = typeof executions.$inferSelect;
export type ExecutionStatus = (typeof executionStatuses)[number];
