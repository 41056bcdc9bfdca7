/**
 * @module
 * Bulk replay tests' tools: a run log written straight to D1 (hundreds of executions in a moment),
 * and the Worker with a held jobs queue, so a test delivers each chunk's message itself and knows
 * exactly which chunks ran.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { apiClient } from "../support/api-client";
import { ORIGIN } from "./helpers";

export interface Job {
	id: string;
	state: string;
	done: number;
	total: number;
	skipped: number;
	error: string | null;
}

/**
 * `count` finished executions of `flowId` (version 1), one millisecond apart from an hour ago, in
 * that order; `input(i)` null for a purged payload. Returns their ids, oldest first.
 */
export async function seedRunLog(
	flowId: string,
	count: number,
	input: (i: number) => Record<string, unknown> | null,
	status = "succeeded",
): Promise<string[]> {
	const base = Date.now() - 3_600_000;
	const ids = Array.from({ length: count }, () => crypto.randomUUID().replaceAll("-", ""));
	const statements = ids.map((id, i) => {
		const body = input(i);
		return env.DB.prepare(
			"INSERT INTO executions (id, flow_id, version, status, received_at, finished_at, attempt_count, input) VALUES (?, ?, 1, ?, ?, ?, 1, ?)",
		).bind(id, flowId, status, base + i, base + i, body === null ? null : JSON.stringify(body));
	});
	for (let i = 0; i < statements.length; i += 500) await env.DB.batch(statements.slice(i, i + 500));
	return ids;
}

export const replayLinks = async (jobId: string) =>
	(await env.DB.prepare("SELECT count(*) AS n FROM replays WHERE job_id = ?").bind(jobId).first<number>("n")) ?? 0;

/**
 * The Worker on this file's bindings with `overrides`, and a jobs queue that only records what is
 * sent to it: `deliver` hands the oldest recorded message to the jobs consumer, as the queue would.
 */
export function heldJobsQueue(overrides: Partial<Env> = {}) {
	const sent: unknown[] = [];
	const jobs = {
		async send(body: unknown) {
			sent.push(body);
		},
		async sendBatch(messages: Iterable<{ body: unknown }>) {
			for (const message of messages) sent.push(message.body);
		},
	};
	const held = { ...env, JOBS: jobs as unknown as Queue, ...overrides } as Env;
	const client = apiClient({
		origin: ORIGIN,
		token: env.ADMIN_TOKEN,
		fetch: async (request) => {
			const ctx = createExecutionContext();
			const response = await worker.fetch(request, held, ctx);
			await waitOnExecutionContext(ctx);
			return response;
		},
	});
	let delivered = 0;
	/** One jobs-queue delivery of `body` (the oldest held message when absent), on its `attempts`-th try. */
	async function deliver(attempts = 1, body: unknown = sent.shift()) {
		const batch = createMessageBatch("hookflow-jobs", [{ id: `job-msg-${delivered++}`, timestamp: new Date(), attempts, body }]);
		const ctx = createExecutionContext();
		// The handler itself, in this isolate: a batch cannot cross an RPC boundary.
		await (worker as ExportedHandler<Env>).queue?.(batch, held, ctx);
		return getQueueResult(batch, ctx);
	}
	return { ...client, sent, deliver, env: held };
}
