// Bulk replay across many chunks, as issue 19 broke it (a job over 34+ executions stayed `running`
// with done 0 for good), and the ways a job must end rather than run forever.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { CHUNK_ATTEMPTS, JOB_STALL_MS, REPLAY_CHUNK } from "../../src/ops/replay-jobs";
import { api, captureLogs, createRunningFlow, eventually, petstoreRequests, resetPetstore } from "./helpers";
import { heldJobsQueue, type Job, replayLinks, seedRunLog } from "./replay-support";

beforeEach(resetPetstore);

const job = (id: string) => api<Job>("GET", `/api/jobs/${id}`);
const petNames = async () =>
	(await petstoreRequests()).requests.filter((r) => r.method === "POST" && r.path === "/v2/pet").map((r) => r.body.name as string);

describe("bulk replay across chunks", () => {
	it("attack: a replay of hundreds of executions finishes, in the original order across chunks, counting purged payloads as skipped", {
		timeout: 120_000,
	}, async () => {
		const flow = await createRunningFlow();
		const rows = 4 * REPLAY_CHUNK + 30;
		// Every 23rd payload was purged by retention: nothing to replay, counted as skipped.
		const purged = (i: number) => i % 23 === 0;
		const originals = await seedRunLog(flow.flowId, rows, (i) => (purged(i) ? null : { petname: `bulk-${i}`, petstatus: "sold" }));
		const expected = originals.flatMap((_, i) => (purged(i) ? [] : [`bulk-${i}`]));

		// Through the real jobs queue, chunk after chunk.
		const { jobId } = await api<{ jobId: string }>("POST", `/api/flows/${flow.flowId}/replay`, { mode: "replay", filters: {} });
		const settled = await eventually(
			"the job to finish",
			async () => {
				const current = await job(jobId);
				return current.state !== "running" ? current : undefined;
			},
			60_000,
		);
		expect(settled).toMatchObject({ state: "done", total: rows, done: rows, skipped: rows - expected.length, error: null });
		expect(await replayLinks(jobId)).toBe(expected.length);
		await eventually("every replay delivered", async () => (await petNames()).length >= expected.length, 60_000);
		expect(await petNames()).toEqual(expected);
	});

	it("a chunk that keeps failing is retried, then the job fails saying why instead of staying running", async () => {
		const flow = await createRunningFlow();
		await seedRunLog(flow.flowId, REPLAY_CHUNK + 1, (i) => ({ petname: `f-${i}`, petstatus: "sold" }));
		// The flow's objects cannot be reached: every chunk's hand-over throws.
		const unreachable = {
			getByName() {
				throw new Error("flow object unreachable");
			},
		} as unknown as Env["FLOW"];
		const queue = heldJobsQueue({ FLOW: unreachable });
		const { jobId } = await queue.api<{ jobId: string }>("POST", `/api/flows/${flow.flowId}/replay`, { mode: "replay", filters: {} });
		const message = queue.sent.shift();

		for (let attempt = 1; attempt < CHUNK_ATTEMPTS; attempt++) {
			const result = await queue.deliver(attempt, message);
			expect(result.retryMessages).toHaveLength(1);
			expect(await job(jobId)).toMatchObject({ state: "running", done: 0, error: null });
		}
		const last = await queue.deliver(CHUNK_ATTEMPTS, message);
		expect(last.explicitAcks).toHaveLength(1);
		expect(last.retryMessages).toEqual([]);
		const failed = await job(jobId);
		expect(failed).toMatchObject({ state: "failed", done: 0 });
		expect(failed.error).toContain(`A chunk failed ${CHUNK_ATTEMPTS} times`);
		expect(failed.error).toContain("flow object unreachable");
	});

	it("a job whose queue message was lost is failed once its progress has not moved for the stall time", async () => {
		const flow = await createRunningFlow();
		await seedRunLog(flow.flowId, 3, (i) => ({ petname: `s-${i}`, petstatus: "Unknown" }));
		const queue = heldJobsQueue();
		const { jobId } = await queue.api<{ jobId: string }>("POST", `/api/flows/${flow.flowId}/replay`, { mode: "replay", filters: {} });
		// The message never arrives: a while later the job is still honestly running…
		await env.DB.prepare("UPDATE jobs SET updated_at = ? WHERE id = ?")
			.bind(Date.now() - JOB_STALL_MS + 60_000, jobId)
			.run();
		expect(await job(jobId)).toMatchObject({ state: "running", error: null });
		// …and past the stall time it says it stopped.
		await env.DB.prepare("UPDATE jobs SET updated_at = ? WHERE id = ?")
			.bind(Date.now() - JOB_STALL_MS - 1_000, jobId)
			.run();
		const stalled = await job(jobId);
		expect(stalled).toMatchObject({ state: "failed", done: 0 });
		expect(stalled.error).toContain("No progress for 15 minutes");
	});

	it("a job that cannot be queued answers 503 and is failed, not left running", async () => {
		const flow = await createRunningFlow();
		await seedRunLog(flow.flowId, 2, (i) => ({ petname: `q-${i}`, petstatus: "Unknown" }));
		const broken = {
			async send() {
				throw new Error("queue unavailable");
			},
		} as unknown as Queue;
		const queue = heldJobsQueue({ JOBS: broken });
		const response = await queue.call("POST", `/api/flows/${flow.flowId}/replay`, { mode: "replay", filters: {} });
		expect(response.status).toBe(503);
		expect(((await response.json()) as { error: { message: string } }).error.message).toBe("The job could not be queued; start it again");
		const { results } = await env.DB.prepare("SELECT state FROM jobs WHERE flow_id = ?").bind(flow.flowId).all<{ state: string }>();
		expect(results).toEqual([{ state: "failed" }]);
	});

	it("acks and logs a malformed jobs-queue message instead of retrying it", async () => {
		const queue = heldJobsQueue();
		const logs = captureLogs();
		for (const body of [{ jobId: 42 }, "not a job", { jobId: "a".repeat(32), extra: true }]) {
			const result = await queue.deliver(1, body);
			expect(result.explicitAcks).toHaveLength(1);
			expect(result.retryMessages).toEqual([]);
		}
		expect(logs.lines().filter((line) => line.event === "queue.invalid_message" && line.queue === "hookflow-jobs")).toHaveLength(3);
	});
});
