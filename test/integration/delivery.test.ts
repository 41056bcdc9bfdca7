import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import { nextAttemptAt, pinJitter } from "./delivery-support";
import {
	api,
	call,
	controlUrl,
	createRunningFlow,
	eventually,
	hook,
	injectFaults,
	json,
	ONE_SUCCEEDED,
	petstoreRequests,
	putDraft,
	resetPetstore,
	waitForExecution,
} from "./helpers";

beforeEach(async () => {
	await resetPetstore();
	// Retries come due at half their backoff ceiling, not anywhere from now on: a test's own steps never race them.
	pinJitter(0.5);
});

/** When an attempt ended, from its run-log record. */
const endOf = (attempt: { startedAt: string; durationMs: number }) => Date.parse(attempt.startedAt) + attempt.durationMs;

/** Lets the scheduled retry come due now, as if its backoff had elapsed, then runs the alarm. */
async function fastForwardAlarm(stub: DurableObjectStub<FlowObject>): Promise<boolean> {
	await runInDurableObject(stub, (_: FlowObject, state) => {
		state.storage.sql.exec("UPDATE inbox SET next_attempt_at = 0");
	});
	return runDurableObjectAlarm(stub);
}

async function petPosts() {
	const { requests, maxConcurrent } = await petstoreRequests();
	return { posts: requests.filter((r) => r.method === "POST" && r.path === "/v2/pet"), maxConcurrent };
}

describe("per-flow order", () => {
	it("delivers 20 hooks sent one after another in order, never two at once", async () => {
		const { flowId } = await createRunningFlow();
		// Every call is slowed down, so overlapping deliveries would show in maxConcurrent.
		await injectFaults(Array.from({ length: 20 }, () => ({ delayMs: 20 })));
		const ids: string[] = [];
		for (let i = 0; i < 20; i++) {
			const response = await hook(flowId, json({ petname: `pet-${i}`, petstatus: "available" }));
			expect(response.status).toBe(200);
			ids.push(((await response.json()) as { requestId: string }).requestId);
		}
		const { posts, maxConcurrent } = await eventually(
			"20 Petstore calls",
			async () => {
				const seen = await petPosts();
				return seen.posts.length >= 20 ? seen : undefined;
			},
			30_000,
		);
		expect(posts.map((p) => p.body.name)).toEqual(ids.map((_, i) => `pet-${i}`));
		expect(posts.map((p) => p.idempotencyKey)).toEqual(ids);
		expect(maxConcurrent).toBe(1);
		const { flow } = await api("GET", `/api/flows/${flowId}`);
		await eventually("20 succeeded executions", async () => (await api("GET", `/api/flows/${flowId}`)).flow.counters.succeeded === 20);
		expect(flow.counters.received).toBe(20);
	});

	it("keeps flows independent: a retrying head blocks its own flow only", async () => {
		const slow = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 600_000, maxAttempts: 5 } });
		const fast = await createRunningFlow();
		await injectFaults([{ status: 500 }]);
		const first = (await (await hook(slow.flowId, json({ petname: "blocked-head", petstatus: "sold" }))).json()) as { requestId: string };
		const retrying = await waitForExecution(first.requestId, "retrying");
		// The head's retry is 5 minutes away (half of its 10-minute ceiling), so nothing below can race it.
		expect((await nextAttemptAt(slow.flowId, first.requestId)) ?? 0).toBe(endOf(retrying.attempts[0]) + 300_000);
		const behind = (await (await hook(slow.flowId, json({ petname: "behind-head", petstatus: "sold" }))).json()) as { requestId: string };
		const other = (await (await hook(fast.flowId, json({ petname: "other-flow", petstatus: "sold" }))).json()) as { requestId: string };
		await waitForExecution(other.requestId, "succeeded");
		// The one behind the retrying head waits (head-of-line blocking), even though the Petstore is healthy again.
		const { execution } = await api("GET", `/api/executions/${behind.requestId}`);
		expect(execution.status).toBe("queued");
		expect((await petPosts()).posts.map((p) => p.body.name)).toEqual(["blocked-head", "other-flow"]);
		// Its pending retry would otherwise fire during a later test and take that test's injected faults.
		await api("DELETE", `/api/flows/${slow.flowId}`);
	});
});

describe("retries", () => {
	it("retries a 503 with backoff driven by the object's alarm, then succeeds with one pet", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 600_000, maxAttempts: 3 } });
		await injectFaults([{ status: 503 }, { status: 429, retryAfter: "1" }]);
		const { requestId } = (await (await hook(flowId, json({ petname: "Gromit", petstatus: "Sold" }))).json()) as { requestId: string };
		const retrying = await waitForExecution(requestId, "retrying");
		expect(retrying.attempts).toHaveLength(1);
		expect(retrying.attempts[0]).toMatchObject({ n: 1, status: 503, outcome: "retry" });

		const stub = env.FLOW.getByName(flowId);
		// The next attempt is scheduled, not slept on: at the pinned jitter, half of the first ceiling (10 min) after the 503.
		const retryAt = endOf(retrying.attempts[0]) + 300_000;
		expect(await nextAttemptAt(flowId, requestId)).toBe(retryAt);
		expect(await runInDurableObject(stub, (_: FlowObject, state) => state.storage.getAlarm())).toBe(retryAt);
		expect(await fastForwardAlarm(stub)).toBe(true);
		const second = await eventually("a second attempt", async () => {
			const { execution } = await api("GET", `/api/executions/${requestId}`);
			return execution.attempts.length === 2 ? execution : undefined;
		});
		expect(second.attempts.map((a: { status: number }) => a.status)).toEqual([503, 429]);
		expect(await fastForwardAlarm(stub)).toBe(true);
		const done = await waitForExecution(requestId, "succeeded");
		expect(done.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["retry", "retry", "succeeded"]);
		const { posts } = await petPosts();
		expect(new Set(posts.map((p) => p.idempotencyKey))).toEqual(new Set([requestId]));
		expect((await (await fetch(controlUrl("pets"))).json()) as unknown[]).toHaveLength(1);
	});

	it("fails at once on a terminal 4xx and after the attempt budget on retryable errors", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 100, maxDelayMs: 100, maxAttempts: 2 } });
		await injectFaults([{ status: 400 }, { status: 500 }, { status: 500 }]);
		const terminal = (await (await hook(flowId, json({ petname: "a", petstatus: "sold" }))).json()) as { requestId: string };
		const failed = await waitForExecution(terminal.requestId, "failed");
		expect(failed.attempts).toHaveLength(1);
		expect(failed.error).toContain("400");
		const exhausted = (await (await hook(flowId, json({ petname: "b", petstatus: "sold" }))).json()) as { requestId: string };
		const gaveUp = await waitForExecution(exhausted.requestId, "failed", 20_000);
		expect(gaveUp.attempts.map((a: { status: number }) => a.status)).toEqual([500, 500]);
		expect(gaveUp.error).toContain("gave up after 2 attempts");
		const { flow } = await api("GET", `/api/flows/${flowId}`);
		expect(flow.counters).toMatchObject({ received: 2, failed: 2, inFlight: 0 });
	});

	it("fails validation without calling the Petstore", async () => {
		const { flowId } = await createRunningFlow();
		const { requestId } = (await (await hook(flowId, json({ petname: "Gromit", petstatus: "Unknown" }))).json()) as { requestId: string };
		const failed = await waitForExecution(requestId, "failed");
		expect(failed.error).toBe("Provided status is invalid.");
		expect(failed.request).toBeNull();
		expect((await petPosts()).posts).toHaveLength(0);
		const missing = (await (await hook(flowId, json({ petstatus: "sold" }))).json()) as { requestId: string };
		expect((await waitForExecution(missing.requestId, "failed")).error).toBe("Name is required");
	});
});

describe("the flow object survives eviction", () => {
	it("resumes a pending retry after its in-memory state is gone", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 600_000, maxAttempts: 3 } });
		await injectFaults([{ status: 503 }]);
		const { requestId } = (await (await hook(flowId, json({ petname: "Wallace", petstatus: "pending" }))).json()) as { requestId: string };
		const retrying = await waitForExecution(requestId, "retrying");
		expect(await nextAttemptAt(flowId, requestId)).toBe(endOf(retrying.attempts[0]) + 300_000);
		// Like a runtime restart: every instance is torn down, storage stays.
		await abortAllDurableObjects();
		const stub = env.FLOW.getByName(flowId);
		expect(await fastForwardAlarm(stub)).toBe(true);
		await waitForExecution(requestId, "succeeded");
		expect(await stub.counters()).toEqual(ONE_SUCCEEDED);
	});
});

describe("manual retry", () => {
	it("re-runs a failed execution with its attempt history and refuses a succeeded one", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { retryPolicy: { maxAttempts: 1 } });
		await injectFaults([{ status: 503 }]);
		const { requestId } = (await (await hook(flowId, json({ petname: "Shaun", petstatus: "available" }))).json()) as { requestId: string };
		await waitForExecution(requestId, "failed");
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({ failed: 1, succeeded: 0 });
		await api("POST", `/api/executions/${requestId}/retry`);
		const done = await waitForExecution(requestId, "succeeded");
		expect(done.attempts.map((a: { n: number; status: number }) => [a.n, a.status])).toEqual([
			[1, 503],
			[2, 200],
		]);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toEqual(ONE_SUCCEEDED);
		const again = await call("POST", `/api/executions/${requestId}/retry`);
		expect(again.status).toBe(409);
		expect(((await again.json()) as { error: { message: string } }).error.message).toContain("succeeded");
	});
});

describe("stop and publish while executions are pending", () => {
	it("delivers what was accepted before a stop, on the version live when it was accepted", async () => {
		const flow = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 600_000 } });
		const { flowId } = flow;
		await injectFaults([{ status: 503 }]);
		const { requestId } = (await (await hook(flowId, json({ petname: "Gromit", petstatus: "sold" }))).json()) as { requestId: string };
		const retrying = await waitForExecution(requestId, "retrying");
		// Still waiting for its retry (5 minutes away) while version 2 is published and the flow stopped.
		expect(await nextAttemptAt(flowId, requestId)).toBe(endOf(retrying.attempts[0]) + 300_000);
		// Version 2 maps the name differently; the flow is then stopped.
		await putDraft(flow, { name: '"v2-" & petname', status: "petstatus" });
		expect(await api("POST", `/api/flows/${flowId}/publish`)).toEqual({ version: 2 });
		await api("POST", `/api/flows/${flowId}/stop`);
		expect((await hook(flowId, json({ petname: "late", petstatus: "sold" }))).status).toBe(404);

		expect(await fastForwardAlarm(env.FLOW.getByName(flowId))).toBe(true);
		const done = await waitForExecution(requestId, "succeeded");
		expect(done.version).toBe(1);
		expect(done.request.body).toEqual({ name: "Gromit", status: "sold" });
	});

	it("runs executions accepted after a publish on the new version", async () => {
		const flow = await createRunningFlow();
		const { flowId } = flow;
		await putDraft(flow, { name: "$uppercase(petname)", status: "petstatus" });
		await api("POST", `/api/flows/${flowId}/publish`);
		const { requestId } = (await (await hook(flowId, json({ petname: "Gromit", petstatus: "sold" }))).json()) as { requestId: string };
		const done = await waitForExecution(requestId, "succeeded");
		expect(done.version).toBe(2);
		expect(done.request.body.name).toBe("GROMIT");
	});
});
