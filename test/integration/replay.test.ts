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

beforeEach(resetPetstore);

const send = async (flowId: string, petname: string) =>
	((await (await hook(flowId, json({ petname, petstatus: "sold" }))).json()) as { requestId: string }).requestId;

interface Job {
	id: string;
	state: string;
	done: number;
	total: number;
	skipped: number;
}
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

	it("cancels between chunks: the progress stops where the replays stop", async () => {
		const flow = await createRunningFlow();
		// Ten chunks' worth of run log, written directly: only the part replayed before the cancel runs. The status
		// fails validation, so those replays never reach the shared Petstore of the tests that follow.
		const rows = 10 * REPLAY_CHUNK;
		const base = Date.now() - 3_600_000;
		const inserts = Array.from({ length: rows }, (_, i) =>
			env.DB.prepare(
				"INSERT INTO executions (id, flow_id, version, status, received_at, finished_at, attempt_count, input) VALUES (?, ?, 1, 'succeeded', ?, ?, 1, ?)",
			).bind(
				crypto.randomUUID().replaceAll("-", ""),
				flow.flowId,
				base + i,
				base + i,
				JSON.stringify({ petname: `bulk-${i}`, petstatus: "Unknown" }),
			),
		);
		await env.DB.batch(inserts);
		const { jobId, job: created } = await api<{ jobId: string; job: Job }>("POST", `/api/flows/${flow.flowId}/replay`, {
			mode: "replay",
			filters: {},
		});
		expect(created.total).toBe(rows);
		const cancelled = await api<Job>("DELETE", `/api/jobs/${jobId}`);
		expect(cancelled.state).toBe("cancelled");
		expect((await call("DELETE", `/api/jobs/${jobId}`)).status).toBe(409);
		// A chunk that was running when the cancel came completes and is counted; no chunk starts after it.
		const settled = await eventually("the job's replays to be recorded", async () => {
			const current = await job(jobId);
			const replayed = await env.DB.prepare("SELECT count(*) AS n FROM replays WHERE job_id = ?").bind(jobId).first<{ n: number }>();
			return replayed?.n === current.done ? current : undefined;
		});
		expect(settled.state).toBe("cancelled");
		expect(settled.done).toBeLessThan(rows);
		expect(settled.done % REPLAY_CHUNK).toBe(0);
	});

	it("answers 404 for an unknown job and 409 for a flow never published", async () => {
		expect((await call("GET", "/api/jobs/nope")).status).toBe(404);
		const { flow } = await api("POST", "/api/flows", { name: "Draft only" });
		expect((await call("POST", `/api/flows/${flow.id}/replay`, { mode: "replay" })).status).toBe(409);
	});
});
