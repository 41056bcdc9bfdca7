/**
 * @module
 * Bulk replay. A job walks the executions its filters select, oldest first, one chunk per
 * hookflow-jobs queue message, so a large selection never holds one invocation for long and its
 * progress is visible. `replay` hands each input to the flow object as a new execution on the live
 * version (the same `accept` the queue consumer calls, with receivedAt increasing in the original
 * order, so the flow's ordering holds); `retryFailed` uses the object's retry, keeping history.
 * A job always ends: done, cancelled, or failed with the reason (a chunk that keeps failing, or a
 * job that stopped making progress).
 */
import { and, asc, count, eq, gt, or, sql } from "drizzle-orm";
import * as z from "zod";
import { randomHexId } from "../crypto/encoding";
import { getDb } from "../db/client";
import { chunked, rowsPerInsert } from "../db/limits";
import { type RunLogFilters, runLogConditions } from "../db/queries/run-log-search";
import { type ExecutionRow, executions, flows, type JobMode, type JobRow, jobs, replays } from "../db/schema";
import { acceptExecutions } from "../delivery/consumer";
import { type RetryRequest, retryExecutions } from "../delivery/flow-control";
import type { ExecutionMessage } from "../delivery/messages";
import { scopedId } from "../flows/execution-ids";
import { resumeAfterFailure } from "../flows/step-machine";
import { errorMessage, log } from "../log";

export const REPLAY_CHUNK = 50;
const RETRY_DELAY_SECONDS = 5;
/**
 * Tries of one chunk before the job is failed with the last error. Below the queue's max_retries
 * (wrangler.toml: 10), so the job says why it stopped before the queue would drop its message.
 */
export const CHUNK_ATTEMPTS = 5;
/** A running job whose progress has not moved for this long lost its queue message: it is failed, not left running. */
export const JOB_STALL_MS = 15 * 60_000;
/** Replay links per INSERT: three columns each, under D1's 100 bound parameters. */
const LINKS_PER_INSERT = rowsPerInsert(replays);

/** The hookflow-jobs message, validated where it is consumed like the executions queue's. */
export const jobMessageSchema = z.object({ jobId: z.string().regex(/^[0-9a-f]{32}$/, "Job ids are 32 lowercase hex characters") }).strict();
export type JobMessage = z.infer<typeof jobMessageSchema>;

interface JobCursor {
	receivedAt: number;
	id: string;
	/** The last receivedAt given to a replayed execution: the next chunk continues after it. */
	stamp: number;
}

/** The INSERTs of a chunk's replay links, each inside D1's bound-parameter limit. */
export function linkInserts(db: ReturnType<typeof getDb>, links: (typeof replays.$inferInsert)[]) {
	return chunked(links, LINKS_PER_INSERT).map((chunk) => db.insert(replays).values(chunk).onConflictDoNothing());
}

/** The retry path's request for a failed execution. */
export function retryRequestFor(row: ExecutionRow): RetryRequest {
	return {
		id: row.id,
		version: row.version,
		receivedAt: row.receivedAt,
		message: row.input ?? {},
		attemptCount: row.attemptCount,
		// A failed execution of several steps resumes at the failed step: what succeeded is kept.
		resume: row.resume ? resumeAfterFailure({ ...row.resume, runs: row.steps ?? [] }) : null,
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
	if (row.state !== "running") return row;
	try {
		await env.JOBS.send({ jobId: row.id } satisfies JobMessage, { contentType: "json" });
	} catch (error) {
		log("error", "job.queue_failed", { jobId: row.id, error: errorMessage(error) });
		return failJob(env, row.id, "The job could not be queued; start it again");
	}
	return row;
}

/**
 * The job as it stands, a stalled one failed first: a running job whose progress has not moved for
 * JOB_STALL_MS lost its queue message (or its chunks keep failing past the queue's retries).
 */
export async function currentJob(env: Env, jobId: string, nowMs = Date.now()): Promise<JobRow | undefined> {
	const db = getDb(env.DB);
	const [row] = await db.select().from(jobs).where(eq(jobs.id, jobId)).limit(1);
	if (row?.state !== "running" || row.updatedAt >= nowMs - JOB_STALL_MS) return row;
	const [stalled] = await db
		.update(jobs)
		.set({
			state: "failed",
			error: `No progress for ${JOB_STALL_MS / 60_000} minutes (its queue message was lost); done counts what it replayed, start another job for the rest`,
			finishedAt: nowMs,
			updatedAt: nowMs,
		})
		// Only if nothing moved it meanwhile.
		.where(and(eq(jobs.id, jobId), eq(jobs.state, "running"), eq(jobs.updatedAt, row.updatedAt)))
		.returning();
	return stalled ?? (await db.select().from(jobs).where(eq(jobs.id, jobId)).limit(1))[0];
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
		if (!live?.version) {
			await failJob(env, job.id, "The flow has no published version to replay on");
			return false;
		}
		const items: ExecutionMessage[] = [];
		for (const row of usable) {
			// Deterministic ids: a chunk run twice (a queue retry) is deduplicated by the flow object.
			const id = await scopedId(job.flowId, `replay:${job.id}`, row.id);
			items.push({ id, flowId: job.flowId, version: live.version, receivedAt: stamp++, message: row.input ?? {} });
		}
		stamp--;
		// The links first, so a replay never shows up in the run log without its original; one batch
		// (a transaction) of inserts small enough for D1's bound-parameter limit.
		const [first, ...rest] = linkInserts(
			db,
			items.map((item, i) => ({ executionId: item.id, replayOf: usable[i]?.id ?? "", jobId: job.id })),
		);
		if (first) await db.batch([first, ...rest]);
		await acceptExecutions(env, job.flowId, items);
	} else if (usable.length > 0) {
		await retryExecutions(env, job.flowId, usable.filter((row) => row.status === "failed").map(retryRequestFor));
	}
	const last = rows.at(-1);
	const more = rows.length === REPLAY_CHUNK;
	const now = Date.now();
	// Progress is recorded even when the job was cancelled meanwhile: this chunk did happen.
	const [after] = await db
		.update(jobs)
		.set({
			done: sql`${jobs.done} + ${rows.length}`,
			skipped: sql`${jobs.skipped} + ${rows.length - usable.length}`,
			cursor: last ? JSON.stringify({ receivedAt: last.receivedAt, id: last.id, stamp } satisfies JobCursor) : job.cursor,
			updatedAt: now,
			...(more ? {} : { state: sql`CASE WHEN ${jobs.state} = 'running' THEN 'done' ELSE ${jobs.state} END`, finishedAt: now }),
		})
		.where(eq(jobs.id, job.id))
		.returning({ state: jobs.state });
	// A job cancelled during this chunk queues no next one.
	return more && after?.state === "running";
}

/** Ends a running job as failed with `error`; returns it as it now stands. */
async function failJob(env: Env, jobId: string, error: string): Promise<JobRow> {
	const now = Date.now();
	const db = getDb(env.DB);
	await db
		.update(jobs)
		.set({ state: "failed", error, finishedAt: now, updatedAt: now })
		.where(and(eq(jobs.id, jobId), eq(jobs.state, "running")));
	const [row] = await db.select().from(jobs).where(eq(jobs.id, jobId)).limit(1);
	if (!row) throw new Error(`Job ${jobId} is gone`);
	return row;
}

/**
 * The hookflow-jobs consumer: one chunk per message, then the next message, until the job is done
 * or cancelled. A failing chunk is retried; after CHUNK_ATTEMPTS tries the job fails with the error.
 */
export async function handleJobQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
	for (const message of batch.messages) {
		const parsed = jobMessageSchema.safeParse(message.body);
		if (!parsed.success) {
			// Only a bug could produce this, and retrying cannot fix it.
			log("error", "queue.invalid_message", { queue: batch.queue, messageId: message.id, error: parsed.error.issues[0]?.message });
			message.ack();
			continue;
		}
		const { jobId } = parsed.data;
		try {
			if (await runJobChunk(env, jobId)) await env.JOBS.send({ jobId } satisfies JobMessage, { contentType: "json" });
			message.ack();
		} catch (error) {
			log("error", "job.chunk_failed", { jobId, attempt: message.attempts, error: errorMessage(error) });
			if (message.attempts >= CHUNK_ATTEMPTS && (await failedFor(env, jobId, message.attempts, error))) message.ack();
			else message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
		}
	}
}

/** Fails the job after its last try; false when even that cannot be written (the queue retries then). */
async function failedFor(env: Env, jobId: string, attempts: number, error: unknown): Promise<boolean> {
	try {
		await failJob(
			env,
			jobId,
			`A chunk failed ${attempts} times, last with: ${errorMessage(error)}. Replays already made are kept; start another job for the rest`,
		);
		return true;
	} catch (failure) {
		log("error", "job.fail_failed", { jobId, error: errorMessage(failure) });
		return false;
	}
}
