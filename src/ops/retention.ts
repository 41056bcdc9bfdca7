/**
 * @module
 * The Cron Trigger's purge. Executions older than RETENTION_DAYS are deleted (D1 enforces foreign
 * keys, so their attempts go with them by ON DELETE CASCADE); after PAYLOAD_RETENTION_DAYS an
 * execution keeps its row, status and attempts but loses its input, request and response bodies.
 * Only finished executions are touched: a queued or retrying one is still written by its flow object.
 */
import { and, inArray, isNotNull, lt, or } from "drizzle-orm";
import { getDb } from "../db/client";
import { executions } from "../db/schema";
import { log } from "../log";

const DAY_MS = 86_400_000;
/** Rows per statement: small enough that one statement stays far inside D1's per-query time limit. */
export const RETENTION_BATCH_ROWS = 500;
/** Statements per kind and run: 2 × 20 stays under the 50 D1 queries of a free-plan invocation. The rest waits for the next run. */
const MAX_BATCHES = 20;
const FINISHED = ["succeeded", "failed"] as const;

interface RetentionResult {
	executionsDeleted: number;
	payloadsCleared: number;
	/** False when a kind hit MAX_BATCHES: more is due and the next run continues. */
	complete: boolean;
}

/** Days from a var; a missing or invalid value skips that purge rather than guessing how much to delete. */
function days(env: Env, name: "RETENTION_DAYS" | "PAYLOAD_RETENTION_DAYS"): number | null {
	const value = Number(env[name]);
	if (Number.isFinite(value) && value > 0) return value;
	log("error", "retention.invalid_setting", { name, value: env[name] });
	return null;
}

/**
 * Runs `statement` until it touches fewer than a full batch of rows, or MAX_BATCHES times. Rows are
 * counted from RETURNING: D1's meta.changes also counts the attempts deleted by the cascade.
 */
async function inBatches(statement: () => Promise<unknown[]>): Promise<{ rows: number; complete: boolean }> {
	let rows = 0;
	for (let batch = 0; batch < MAX_BATCHES; batch++) {
		const changed = (await statement()).length;
		rows += changed;
		if (changed < RETENTION_BATCH_ROWS) return { rows, complete: true };
	}
	return { rows, complete: false };
}

export async function purgeExpired(env: Env, nowMs: number): Promise<RetentionResult> {
	const startedAt = Date.now();
	const db = getDb(env.DB);
	const finished = inArray(executions.status, FINISHED);
	const result: RetentionResult = { executionsDeleted: 0, payloadsCleared: 0, complete: true };

	const retentionDays = days(env, "RETENTION_DAYS");
	if (retentionDays !== null) {
		const expired = db
			.select({ id: executions.id })
			.from(executions)
			.where(and(finished, lt(executions.receivedAt, nowMs - retentionDays * DAY_MS)))
			.limit(RETENTION_BATCH_ROWS);
		const deleted = await inBatches(() => db.delete(executions).where(inArray(executions.id, expired)).returning({ id: executions.id }));
		result.executionsDeleted = deleted.rows;
		result.complete &&= deleted.complete;
	}

	const payloadDays = days(env, "PAYLOAD_RETENTION_DAYS");
	if (payloadDays !== null) {
		const withBodies = db
			.select({ id: executions.id })
			.from(executions)
			.where(
				and(
					finished,
					lt(executions.receivedAt, nowMs - payloadDays * DAY_MS),
					or(isNotNull(executions.input), isNotNull(executions.request), isNotNull(executions.response)),
				),
			)
			.limit(RETENTION_BATCH_ROWS);
		const cleared = await inBatches(() =>
			db
				.update(executions)
				.set({ input: null, request: null, response: null })
				.where(inArray(executions.id, withBodies))
				.returning({ id: executions.id }),
		);
		result.payloadsCleared = cleared.rows;
		result.complete &&= cleared.complete;
	}

	log(result.complete ? "info" : "warn", "retention", { ...result, ms: Date.now() - startedAt });
	return result;
}
