import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { REPLAY_CHUNK } from "../../src/ops/replay-jobs";
import {
	api,
	call,
	createRunningFlow,
	eventually,
	hook,
	injectFaults,
	json,
	petstoreRequests,
	putDraft,
	resetPetstore,
	waitForExecution,
} from "./helpers";
import { heldJobsQueue, type Job, replayLinks, seedRunLog } from "./replay-support";

beforeEach(resetPetstore);

const send = async (flowId: string, petname: string) =>
	((await (await hook(flowId, json({ petname, petstatus: "sold" }))).json()) as { requestId: string }).requestId;

const job = (id: string) => api<Job>("GET", `/api/jobs/${id}`);
const finished = (id: string) =>
	eventually(
		`job ${id} to finish`,
		async () => {
			const current = await job(id);
			return current.state !== "running" ? current : undefined;
		},
		30_000,
	);
const petNames = async () =>
	(await petstoreRequests()).requests.filter((r) => r.method === "POST" && r.path === "/v2/pet").map((r) => r.body.name);

describe("bulk replay", () => {
	it("replays a filtered set as new executions on the live version, in the original order, linked to the originals", async () => {
		const flow = await createRunningFlow();
		const originals: string[] = [];
		for (const name of ["pet-0", "pet-1", "pet-2", "pet-3", "other"]) originals.push(await send(flow.flowId, name));
		for (const id of originals) await waitForExecution(id, "succeeded");
		// A fixed mapping goes live; the replays must run on it.
		await putDraft(flow, { name: "'v2-' & petname", status: "petstatus" });
		await api("POST", `/api/flows/${flow.flowId}/publish`);
		await resetPetstore();

		const started = await call("POST", `/api/flows/${flow.flowId}/replay`, { mode: "replay", filters: { text: "PET-" } });
		expect(started.status).toBe(202);
		const { jobId } = (await started.json()) as { jobId: string };
		expect(await finished(jobId)).toMatchObject({ state: "done", done: 4, total: 4, skipped: 0 });
		await eventually("four pets", async () => (await petNames()).length === 4);
		expect(await petNames()).toEqual(["v2-pet-0", "v2-pet-1", "v2-pet-2", "v2-pet-3"]);

		const { executions } = await api<{ executions: { id: string; version: number; replayOf: string | null; status: string }[] }>(
			"GET",
			`/api/flows/${flow.flowId}/executions?limit=100&version=2`,
		);
		expect(executions).toHaveLength(4);
		// Newest first: the replay of p3 is the newest.
		expect(executions.map((e) => e.replayOf)).toEqual(originals.slice(0, 4).reverse());
		for (const execution of executions) {
			expect(originals).not.toContain(execution.id);
			await waitForExecution(execution.id, "succeeded");
		}
		const { execution } = await api("GET", `/api/executions/${executions[0]?.id}`);
		expect(execution.replayOf).toBe(originals[3]);
	});

	it("retryFailed retries the failed ones through the retry path, keeping their attempts", async () => {
		const flow = await createRunningFlow();
		await injectFaults([{ status: 400 }, { status: 400 }]);
		const failedIds = [await send(flow.flowId, "f0"), await send(flow.flowId, "f1")];
		for (const id of failedIds) await waitForExecution(id, "failed");
		const ok = await send(flow.flowId, "ok");
		await waitForExecution(ok, "succeeded");

		const wrong = await call("POST", `/api/flows/${flow.flowId}/replay`, { mode: "retryFailed", filters: { status: "succeeded" } });
		expect(wrong.status).toBe(400);
		const { jobId } = await api<{ jobId: string }>("POST", `/api/flows/${flow.flowId}/replay`, { mode: "retryFailed", filters: {} });
		expect(await finished(jobId)).toMatchObject({ state: "done", done: 2, total: 2 });
		for (const id of failedIds) {
			const execution = await waitForExecution(id, "succeeded");
			expect(execution.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["failed", "succeeded"]);
		}
		// No new executions: the same ids were retried.
		const { executions } = await api<{ executions: unknown[] }>("GET", `/api/flows/${flow.flowId}/executions?limit=100`);
		expect(executions).toHaveLength(3);
	});

	it("cancel stops the job at a chunk boundary: the message already queued runs no further chunk", async () => {
		const flow = await createRunningFlow();
		// Ten chunks' worth of run log. The status fails validation, so these replays never reach the Petstore.
		const rows = 10 * REPLAY_CHUNK;
		await seedRunLog(flow.flowId, rows, (i) => ({ petname: `bulk-${i}`, petstatus: "Unknown" }));
		const queue = heldJobsQueue();
		const { jobId, job: created } = await queue.api<{ jobId: string; job: Job }>("POST", `/api/flows/${flow.flowId}/replay`, {
			mode: "replay",
			filters: {},
		});
		expect(created).toMatchObject({ state: "running", total: rows, done: 0 });
		// Two chunks run, each queueing the next one's message.
		for (const n of [1, 2]) {
			const result = await queue.deliver();
			expect(result.explicitAcks).toHaveLength(1);
			expect(queue.sent).toEqual([{ jobId }]);
			expect(await job(jobId)).toMatchObject({ state: "running", done: n * REPLAY_CHUNK });
		}

		const cancelled = await api<Job>("DELETE", `/api/jobs/${jobId}`);
		expect(cancelled).toMatchObject({ state: "cancelled", done: 2 * REPLAY_CHUNK });
		expect((await call("DELETE", `/api/jobs/${jobId}`)).status).toBe(409);
		// The third chunk's message was already on the queue: it is acked and does nothing.
		const after = await queue.deliver();
		expect(after.explicitAcks).toHaveLength(1);
		expect(queue.sent).toEqual([]);
		expect(await job(jobId)).toMatchObject({ state: "cancelled", done: 2 * REPLAY_CHUNK, total: rows });
		expect(await replayLinks(jobId)).toBe(2 * REPLAY_CHUNK);
	});

	it("a chunk under way when the cancel comes completes and is counted; none starts after it", async () => {
		const flow = await createRunningFlow();
		await seedRunLog(flow.flowId, 3 * REPLAY_CHUNK, (i) => ({ petname: `mid-${i}`, petstatus: "Unknown" }));
		let jobId = "";
		// The cancel lands while the first chunk hands its replays to the flow object.
		const cancelling = {
			getByName(name: string) {
				const stub = env.FLOW.getByName(name);
				return {
					accept: async (...args: Parameters<typeof stub.accept>) => {
						expect((await call("DELETE", `/api/jobs/${jobId}`)).status).toBe(200);
						return stub.accept(...args);
					},
				};
			},
		} as unknown as Env["FLOW"];
		const queue = heldJobsQueue({ FLOW: cancelling });
		({ jobId } = await queue.api<{ jobId: string }>("POST", `/api/flows/${flow.flowId}/replay`, { mode: "replay", filters: {} }));
		const first = await queue.deliver();
		expect(first.explicitAcks).toHaveLength(1);
		// No message for a next chunk, and the chunk's progress recorded under the cancelled state.
		expect(queue.sent).toEqual([]);
		expect(await job(jobId)).toMatchObject({ state: "cancelled", done: REPLAY_CHUNK, total: 3 * REPLAY_CHUNK });
		expect(await replayLinks(jobId)).toBe(REPLAY_CHUNK);
	});

	it("answers 404 for an unknown job and 409 for a flow never published", async () => {
		expect((await call("GET", "/api/jobs/nope")).status).toBe(404);
		const { flow } = await api("POST", "/api/flows", { name: "Draft only" });
		expect((await call("POST", `/api/flows/${flow.id}/replay`, { mode: "replay" })).status).toBe(409);
	});
});
