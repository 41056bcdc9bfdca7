/**
 * @module
 * The single source of truth for D1. Migrations in migrations/ are generated from this file.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import * as z from "zod";

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

export const credentialComponents = ["webhook", "petstore", "http"] as const;

export const credentials = sqliteTable("credentials", {
	id: text("id").primaryKey(),
	component: text("component", { enum: credentialComponents }).notNull(),
	name: text("name").notNull(),
	/** "petstore", or one of the webhook or http component's auth types (components/webhook-types.ts, components/http/credential.ts). */
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
	/** HTTP apiKey: where the key goes and under which name. */
	in: z.enum(["header", "query"]).optional(),
	keyName: z.string().optional(),
	/** HTTP OAuth2 client credentials (the client secret is sealed). */
	tokenUrl: z.string().optional(),
	clientId: z.string().optional(),
	scope: z.string().optional(),
	audience: z.string().optional(),
});
export type CredentialDetails = z.infer<typeof credentialDetailsSchema>;

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

/** filtered: a filter step said no (final, counted, searchable, never alerted). */
export const executionStatuses = ["queued", "retrying", "succeeded", "failed", "filtered"] as const;

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
		/** Every step run so far (flows/step-machine.ts StepRun), in the order they ran; written with the status, in the same statement. */
		steps: text("steps", { mode: "json" }).$type<JsonColumns["stepRuns"]>(),
		/** A failed execution of several steps: what its steps produced, so a manual retry resumes at the failed step. */
		resume: text("resume", { mode: "json" }).$type<JsonColumns["resumeState"]>(),
	},
	(t) => [
		index("executions_flow_received").on(t.flowId, t.receivedAt),
		index("executions_flow_status").on(t.flowId, t.status),
		// Run-log search (src/api/executions.ts): newest first within a status or a version.
		index("executions_flow_status_received").on(t.flowId, t.status, t.receivedAt),
		index("executions_flow_version_received").on(t.flowId, t.version, t.receivedAt),
	],
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

/**
 * Per-minute counters of one flow, kept by the run-log writer as executions change state
 * (src/db/queries/stats.ts); `minute` is the epoch ms of the minute's start.
 */
export const statsMinutes = sqliteTable(
	"stats_minutes",
	{
		flowId: text("flow_id").notNull(),
		minute: integer("minute", { mode: "number" }).notNull(),
		received: integer("received").notNull().default(0),
		succeeded: integer("succeeded").notNull().default(0),
		failed: integer("failed").notNull().default(0),
		authFailures: integer("auth_failures").notNull().default(0),
		/** The flow's backlog after the minute's last change; null when it did not change in that minute. */
		queued: integer("queued"),
	},
	(t) => [primaryKey({ columns: [t.flowId, t.minute] }), index("stats_minutes_minute").on(t.minute)],
);

/** Latency histogram per flow and minute: `bin` indexes LATENCY_BINS_MS (src/db/queries/stats.ts). */
export const statsLatency = sqliteTable(
	"stats_latency",
	{
		flowId: text("flow_id").notNull(),
		minute: integer("minute", { mode: "number" }).notNull(),
		bin: integer("bin").notNull(),
		count: integer("count").notNull().default(0),
	},
	(t) => [primaryKey({ columns: [t.flowId, t.minute, t.bin] }), index("stats_latency_minute").on(t.minute)],
);

/** Running totals per flow (never purged), for /api/metrics, and the backlog gauge the buckets copy. */
export const flowTotals = sqliteTable("flow_totals", {
	flowId: text("flow_id").primaryKey(),
	received: integer("received").notNull().default(0),
	succeeded: integer("succeeded").notNull().default(0),
	failed: integer("failed").notNull().default(0),
	authFailures: integer("auth_failures").notNull().default(0),
	queued: integer("queued").notNull().default(0),
});

/** Executions that became failed, written with the run log; the alert cron turns them into execution.failed alerts. */
export const failureEvents = sqliteTable(
	"failure_events",
	{
		seq: integer("seq").primaryKey({ autoIncrement: true }),
		flowId: text("flow_id").notNull(),
		executionId: text("execution_id").notNull(),
		at: integer("at", { mode: "number" }).notNull(),
		error: text("error"),
	},
	(t) => [index("failure_events_flow_seq").on(t.flowId, t.seq), index("failure_events_at").on(t.at)],
);

export const alertFormats = ["standardWebhooks", "slack"] as const;
export const alertEvents = ["execution.failed", "flow.lagging", "flow.auth_failures", "flow.recovered"] as const;
export type AlertFormat = (typeof alertFormats)[number];
export type AlertEvent = (typeof alertEvents)[number];

export interface AlertThresholds {
	/** flow.lagging when the oldest queued execution is older than this. */
	lagSeconds: number;
	/** flow.auth_failures when more 401s than this arrived in the last 5 minutes. */
	authFailures: number;
}

export interface AlertDelivery {
	at: number;
	ok: boolean;
	/** The receiver's HTTP status; null for a network error or timeout. */
	status: number | null;
	event: AlertEvent | "test";
	error: string | null;
}

export const alertTargets = sqliteTable("alert_targets", {
	id: text("id").primaryKey(),
	url: text("url").notNull(),
	format: text("format", { enum: alertFormats }).notNull(),
	/** Null: every flow. */
	flowId: text("flow_id").references(() => flows.id, { onDelete: "cascade" }),
	/** Null: every event. */
	events: text("events", { mode: "json" }).$type<AlertEvent[]>(),
	thresholds: text("thresholds", { mode: "json" }).$type<AlertThresholds>().notNull(),
	/** The whsec_ signing secret of a standardWebhooks target, AES-GCM sealed (crypto/seal.ts); shown once when created. */
	sealedSecret: text("sealed_secret"),
	/** The origin the target was created from: execution links in alerts point to its designer. */
	origin: text("origin").notNull(),
	lastDelivery: text("last_delivery", { mode: "json" }).$type<AlertDelivery>(),
	...timestamps,
});

/** Per target, flow and event kind: whether the condition holds, when the last alert went out, what waits for the next. */
export const alertState = sqliteTable(
	"alert_state",
	{
		targetId: text("target_id")
			.notNull()
			.references(() => alertTargets.id, { onDelete: "cascade" }),
		flowId: text("flow_id").notNull(),
		kind: text("kind", { enum: alertEvents }).notNull(),
		active: integer("active", { mode: "boolean" }).notNull().default(false),
		lastSentAt: integer("last_sent_at", { mode: "number" }),
		/** Occurrences held back by the 5-minute limit, counted in the next alert. */
		pending: integer("pending").notNull().default(0),
		/** execution.failed: the last failure_events.seq already alerted. */
		cursor: integer("cursor").notNull().default(0),
	},
	(t) => [primaryKey({ columns: [t.targetId, t.flowId, t.kind] })],
);

export const jobModes = ["retryFailed", "replay"] as const;
export const jobStates = ["running", "done", "cancelled", "failed"] as const;
export type JobMode = (typeof jobModes)[number];
export type JobState = (typeof jobStates)[number];

/** Bulk replay jobs (src/ops/replay.ts), worked through in chunks by the hookflow-jobs queue. */
export const jobs = sqliteTable("jobs", {
	id: text("id").primaryKey(),
	flowId: text("flow_id")
		.notNull()
		.references(() => flows.id, { onDelete: "cascade" }),
	mode: text("mode", { enum: jobModes }).notNull(),
	filters: text("filters", { mode: "json" }).$type<JsonColumns["runLogFilters"]>().notNull(),
	state: text("state", { enum: jobStates }).notNull(),
	total: integer("total").notNull(),
	done: integer("done").notNull().default(0),
	/** Matching executions that could not be replayed (payload purged by retention). */
	skipped: integer("skipped").notNull().default(0),
	/** The last execution handled, oldest first: `receivedAt:id`. */
	cursor: text("cursor"),
	error: text("error"),
	finishedAt: integer("finished_at", { mode: "number" }),
	...timestamps,
});

/** Replayed executions and the ones they replay (the flow object's run log knows nothing of replays). */
export const replays = sqliteTable(
	"replays",
	{
		executionId: text("execution_id").primaryKey(),
		replayOf: text("replay_of").notNull(),
		jobId: text("job_id").notNull(),
	},
	(t) => [index("replays_replay_of").on(t.replayOf)],
);

export type AlertTargetRow = typeof alertTargets.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type CredentialRow = typeof credentials.$inferSelect;
export type FlowRow = typeof flows.$inferSelect;
export type ExecutionRow = typeof executions.$inferSelect;
export type ExecutionStatus = (typeof executionStatuses)[number];
