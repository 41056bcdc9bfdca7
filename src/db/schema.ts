import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The single source of truth for D1. Migrations in migrations/ are generated from this file. */

const timestamps = {
	createdAt: integer("created_at", { mode: "number" }).notNull().default(sql`(unixepoch('subsec') * 1000)`),
	updatedAt: integer("updated_at", { mode: "number" }).notNull().default(sql`(unixepoch('subsec') * 1000)`),
};

export const credentialComponents = ["webhook", "petstore"] as const;
export const credentialTypes = ["none", "basic", "apiKey", "hmac", "standardWebhooks", "petstore"] as const;

export const credentials = sqliteTable("credentials", {
	id: text("id").primaryKey(),
	component: text("component", { enum: credentialComponents }).notNull(),
	name: text("name").notNull(),
	type: text("type", { enum: credentialTypes }).notNull(),
	/** Non-secret settings: username, header name, algorithm, base URL. */
	details: text("details", { mode: "json" }).$type<CredentialDetails>().notNull(),
	/** AES-GCM sealed JSON of the secret values (see crypto/seal.ts); never returned by the API. */
	sealedSecrets: text("sealed_secrets").notNull(),
	/** The secret being rotated out, sealed too, valid until previousExpiresAt. */
	sealedPrevious: text("sealed_previous"),
	previousExpiresAt: integer("previous_expires_at", { mode: "number" }),
	...timestamps,
});

export interface CredentialDetails {
	username?: string;
	headerName?: string;
	algorithm?: "sha256" | "sha512";
	baseUrl?: string;
}

/** paused: accepts hooks like running, but holds its deliveries until resumed (stopped: accepts none, delivers what it has). */
export const flowStatuses = ["draft", "running", "paused", "stopped"] as const;
export type FlowStatus = (typeof flowStatuses)[number];
/** The statuses in which /hook accepts requests. */
export const acceptingStatuses: readonly FlowStatus[] = ["running", "paused"];

export const flows = sqliteTable("flows", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	status: text("status", { enum: flowStatuses }).notNull().default("draft"),
	/** The definition being edited; publishing copies it into flow_versions. */
	draft: text("draft", { mode: "json" }),
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
		definition: text("definition", { mode: "json" }).notNull(),
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
		input: text("input", { mode: "json" }),
		/** The request sent to the action (method, url, body; never the key). */
		request: text("request", { mode: "json" }),
		response: text("response", { mode: "json" }),
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
