/**
 * @module
 * Bulk replay. A job walks the executions its filters select, oldest first, one chunk per
 * hookflow-jobs queue message, so a large selection never holds one invocation for long and its
 * progress is visible. `replay` hands each input to the flow object as a new execution on the live
 * version (the same `accept` the queue consumer calls, with receivedAt increasing in the original
 * order, so the flow's ordering holds); `retryFailed` uses the object's retry, keeping history.
 */
import { and, asc, count, eq, gt, or, sql } from "drizzle-orm";
import { randomHexId } from "../crypto/encoding";
import { getDb } from "../db/client";
import { type RunLogFilters, runLogConditions } from "../db/queries/run-log-search";
import { type ExecutionRow, executions, flows, type JobMode, type JobRow, jobs, replays } from "../db/schema";
import { acceptExecutions } from "../delivery/consumer";
import { type RetryRequest, retryExecutions } from "../delivery/flow-control";
import type { ExecutionMessage } from "../delivery/messages";
import { scopedId } from "../flows/execution-ids";
import { errorMessage, log } from "../log";

export const REPLAY_CHUNK = 50;
const RETRY_DELAY_SECONDS = 5;

export interface JobMessage {
	jobId: string;
}

interface JobCursor {
	receivedAt: number;
	id: string;
	/** The last receivedAt given to a replayed execution: the next chunk continues after it. */
	stamp: number;
}

/** The retry path's request for a failed execution. */
export function retryRequestFor(row: ExecutionRow): RetryRequest {
	return {
		id: row.id,
		version: row.version,
		receivedAt: row.receivedAt,
		message: row.input ?? {},
		attemptCount: row.attemptCount,
	};
}

/** What a job selects: its filters, up to when it was created (so it never picks up its own replays), failed ones for retryFailed. */
function selection(job: Pick<JobRow, "flowId" | "mode" | "filters" | "createdAt">) {
	const { filters } = job;
	return runLogConditions(job.flowId, {
		...filters,
		to: Math.min(filters.to ?? job.createdAt, job.createdAt),
		status: job.mode === "retryFailed" ? "failed" : filters.status,
	});
}

export async function startJob(env: Env, flowId: string, mode: JobMode, filters: RunLogFilters, nowMs = Date.now()): Promise<JobRow> {
	const db = getDb(env.DB);
	const job = { id: randomHexId(), flowId, mode, filters, createdAt: nowMs, updatedAt: nowMs };
	const [counted] = await db.select({ n: count() }).from(executions).where(selection(job));
	const total = counted?.n ?? 0;
	const [row] = await db
		.insert(jobs)
		.values({ ...job, total, state: total === 0 ? "done" : "running", finishedAt: total === 0 ? nowMs : null })
		.returning();
	if (!row) throw new Error("The job was not stored");
	if (row.state === "running") await env.JOBS.send({ jobId: row.id } satisfies JobMessage, { contentType: "json" });
	return row;
}

/** Stops a running job before its next chunk; the chunk in progress, if any, completes. */
export async function cancelJob(env: Env, jobId: string, nowMs = Date.now()): Promise<boolean> {
	const cancelled = await getDb(env.DB)
		.update(jobs)
		.set({ state: "cancelled", finishedAt: nowMs, updatedAt: nowMs })
		.where(and(eq(jobs.id, jobId), eq(jobs.state, "running")))
		.returning({ id: jobs.id });
	return cancelled.length > 0;
}

/** Handles one chunk; returns whether more remain. */
export async function runJobChunk(env: Env, jobId: string): Promise<boolean> {
	const db = getDb(env.DB);
	const [job] = await db.select().from(jobs).where(eq(jobs.id, jobId)).limit(1);
	if (job?.state !== "running") return false;
	const cursor = job.cursor ? (JSON.parse(job.cursor) as JobCursor) : null;
	const rows = await db
		.select()
		.from(executions)
		.where(
			and(
				selection(job),
				cursor
					? or(
							gt(executions.receivedAt, cursor.receivedAt),
							and(eq(executions.receivedAt, cursor.receivedAt), gt(executions.id, cursor.id)),
						)
					: undefined,
			),
		)
		.orderBy(asc(executions.receivedAt), asc(executions.id))
		.limit(REPLAY_CHUNK);
	const usable = rows.filter((row) => row.input !== null);
	let stamp = Math.max(Date.now(), (cursor?.stamp ?? 0) + 1);
	if (usable.length > 0 && job.mode === "replay") {
		const [live] = await db.select({ version: flows.liveVersion }).from(flows).where(eq(flows.id, job.flowId)).limit(1);
		if (!live?.version) return failJob(env, job, "The flow has no published version to replay on");
		const items: ExecutionMessage[] = [];
		for (const row of usable) {
			// Deterministic ids: a chunk run twice (a queue retry) is deduplicated by the flow object.
			const id = await scopedId(job.flowId, `replay:${job.id}`, row.id);
			items.push({ id, flowId: job.flowId, version: live.version, receivedAt: stamp++, message: row.input ?? {} });
		}
		stamp--;
		// The links first, so a replay never shows up in the run log without its original.
		await db
			.insert(replays)
			.values(items.map((item, i) => ({ executionId: item.id, replayOf: usable[i]?.id ?? "", jobId: job.id })))
			.onConflictDoNothing();
		await acceptExecutions(env, job.flowId, items);
	} else if (usable.length > 0) {
		await retryExecutions(env, job.flowId, usable.filter((row) => row.status === "failed").map(retryRequestFor));
	}
	const last = rows.at(-1);
	const more = rows.length === REPLAY_CHUNK;
	const now = Date.now();
	// Progress is recorded even when the job was cancelled meanwhile: this chunk did happen.
	await db
		.update(jobs)
		.set({
			done: sql`${jobs.done} + ${rows.length}`,
			skipped: sql`${jobs.skipped} + ${rows.length - usable.length}`,
			cursor: last ? JSON.stringify({ receivedAt: last.receivedAt, id: last.id, stamp } satisfies JobCursor) : job.cursor,
			updatedAt: now,
			...(more ? {} : { state: sql`CASE WHEN ${jobs.state} = 'running' THEN 'done' ELSE ${jobs.state} END`, finishedAt: now }),
		})
		.where(eq(jobs.id, job.id));
	return more;
}

async function failJob(env: Env, job: JobRow, error: string): Promise<false> {
	const now = Date.now();
	await getDb(env.DB).update(jobs).set({ state: "failed", error, finishedAt: now, updatedAt: now }).where(eq(jobs.id, job.id));
	return false;
}

/** The hookflow-jobs consumer: one chunk per message, then the next message, until the job is done or cancelled. */
export async function handleJobQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
	for (const message of batch.messages) {
		const { jobId } = message.body as JobMessage;
		try {
			if (await runJobChunk(env, jobId)) await env.JOBS.send({ jobId } satisfies JobMessage, { contentType: "json" });
			message.ack();
		} catch (error) {
			log("error", "job.chunk_failed", { jobId, attempt: message.attempts, error: errorMessage(error) });
			message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
		}
	}
}
