import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { MAX_RECORDED_BODY_BYTES } from "../../src/components/recorded-body";
import type { FlowObject } from "../../src/delivery/flow-object";
import { INFRASTRUCTURE_RETRY } from "../../src/delivery/retry-policy";
import { pinJitter } from "./delivery-support";
import {
	api,
	call,
	createRunningFlow,
	eventually,
	hook,
	injectFaults,
	json,
	petstoreRequests,
	resetPetstore,
	waitForExecution,
} from "./helpers";

/**
 * Attacks on the delivery engine's own limits (issue 10, item 1): an answer or an echo too large
 * to store, a failure to store after the call, and infrastructure failures before it. Each must
 * end in one recorded outcome, at most one call, and a flow that keeps delivering in order.
 * And D1 failing while executions finish (issue 21): the run log is late, never short.
 */

beforeEach(resetPetstore);

const send = async (flowId: string, petname: string) =>
	((await (await hook(flowId, json({ petname, petstatus: "available" }))).json()) as { requestId: string }).requestId;
const petPosts = async () => (await petstoreRequests()).requests.filter((r) => r.method === "POST" && r.path === "/v2/pet");
const jsonBytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

describe("outcomes always fit", () => {
	it("attack: a 30 MB Petstore answer is recorded by its head, called once, and the flow keeps delivering in order", async () => {
		const { flowId } = await createRunningFlow();
		await injectFaults([{ bodyBytes: 30_000_000 }]);
		const big = await send(flowId, "big-answer");
		const next = await send(flowId, "after-big");
		const done = await waitForExecution(big, "succeeded", 30_000);
		await waitForExecution(next, "succeeded");
		expect(done.response.status).toBe(200);
		expect(done.response.truncated).toBe(true);
		expect(done.response.bodyBytes).toBeGreaterThan(30_000_000);
		expect(jsonBytes(done.response.body)).toBeLessThanOrEqual(MAX_RECORDED_BODY_BYTES);
		expect(done.response.body).toMatch(/^\{"id":1,/);
		expect(done.attempts).toHaveLength(1);
		const posts = await petPosts();
		expect(posts.map((p) => [p.body.name, p.idempotencyKey])).toEqual([
			["big-answer", big],
			["after-big", next],
		]);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({ received: 2, succeeded: 2, failed: 0, inFlight: 0 });
	});

	it("attack: a 1 MB hook whose field the Petstore echoes (2.1 MB of request and answer) fits one run-log row", async () => {
		const { flowId } = await createRunningFlow();
		const petname = "e".repeat(1_000_000);
		const id = await send(flowId, petname);
		const done = await waitForExecution(id, "succeeded", 30_000);
		expect(done.request).toMatchObject({ method: "POST", truncated: true });
		expect(done.request.bodyBytes).toBeGreaterThan(1_000_000);
		expect(done.response).toMatchObject({ status: 200, truncated: true });
		expect(done.response.bodyBytes).toBeGreaterThan(1_000_000);
		// What the Petstore received was whole: only the record is cut.
		expect((await petPosts())[0]?.body.name).toHaveLength(1_000_000);
		const row = await env.DB.prepare(
			"SELECT length(input) + length(request) + length(response) + coalesce(length(error), 0) AS bytes FROM executions WHERE id = ?",
		)
			.bind(id)
			.first<{ bytes: number }>();
		// D1 and Durable Object rows hold at most 2 MB.
		expect(row?.bytes).toBeLessThan(2_000_000);
	});

	it("attack: storing the outcome fails after the call: recorded once as succeeded with a clear error, never called again", async () => {
		const { flowId } = await createRunningFlow();
		const stub = env.FLOW.getByName(flowId);
		// Like SQLITE_TOOBIG: the object's storage refuses any run-log record carrying the 20 KB answer.
		await runInDurableObject(stub, (_: FlowObject, state) => {
			state.storage.sql.exec(
				"CREATE TRIGGER refuse_big BEFORE INSERT ON outbox WHEN length(NEW.record) > 15000 BEGIN SELECT RAISE(ABORT, 'string or blob too big: SQLITE_TOOBIG'); END",
			);
		});
		await injectFaults([{ bodyBytes: 20_000 }]);
		const first = await send(flowId, "unstorable");
		const second = await send(flowId, "behind-it");
		const done = await waitForExecution(first, "succeeded");
		expect(done.error).toContain("could not be stored");
		expect(done.error).toContain("SQLITE_TOOBIG");
		expect(done.response).toBeNull();
		await waitForExecution(second, "succeeded");
		expect((await petPosts()).map((p) => p.body.name)).toEqual(["unstorable", "behind-it"]);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({ received: 2, succeeded: 2, failed: 0, inFlight: 0 });
	});

	it("attack: the object stops during a call: recorded as an attempt and retried under the policy, never silently re-sent", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 600_000, maxAttempts: 3 } });
		await injectFaults([{ status: 503 }]);
		const id = await send(flowId, "interrupted");
		await waitForExecution(id, "retrying");
		const stub = env.FLOW.getByName(flowId);
		// The state a restart mid-call leaves: the head marked as being called, its outcome never stored.
		const interrupt = () =>
			runInDurableObject(stub, (_: FlowObject, state) => {
				state.storage.sql.exec("UPDATE inbox SET calling = 1, next_attempt_at = 0");
			});
		await interrupt();
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const retrying = await eventually("a second attempt", async () => {
			const { execution } = await api("GET", `/api/executions/${id}`);
			return execution.attempts.length === 2 ? execution : undefined;
		});
		expect(retrying.status).toBe("retrying");
		expect(retrying.attempts[1]).toMatchObject({ n: 2, status: null, outcome: "retry" });
		expect(retrying.attempts[1]?.error).toContain("restarted during the call");
		// Interrupted again on the last attempt: the bound holds, it fails visibly instead of looping.
		await interrupt();
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const failed = await waitForExecution(id, "failed");
		expect(failed.error).toContain("gave up after 3 attempts");
		// No call was made for the interrupted attempts themselves.
		expect(await petPosts()).toHaveLength(1);
		const next = await send(flowId, "next-one");
		await waitForExecution(next, "succeeded");
	});

	it("attack: infrastructure fails before the call: visible as retrying with nothing sent, then failed after the bound", async () => {
		const flow = await createRunningFlow();
		// The step's key no longer unseals (like a removed CREDENTIALS_KEY_PREVIOUS): nothing can be sent.
		await env.DB.prepare("UPDATE credentials SET sealed_secrets = 'v1.broken' WHERE id = ?").bind(flow.petstoreCredentialId).run();
		const id = await send(flow.flowId, "cannot-prepare");
		const waiting = await waitForExecution(id, "retrying");
		expect(waiting.error).toContain("nothing was sent");
		expect(waiting.error).toContain(`try 1 of ${INFRASTRUCTURE_RETRY.maxFailures}`);
		expect(waiting.attempts).toHaveLength(0);
		const stub = env.FLOW.getByName(flow.flowId);
		await runInDurableObject(stub, (_: FlowObject, state) => {
			state.storage.sql.exec("UPDATE inbox SET infra_failures = ?, next_attempt_at = 0", INFRASTRUCTURE_RETRY.maxFailures - 1);
		});
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const failed = await waitForExecution(id, "failed");
		expect(failed.error).toContain(`gave up after ${INFRASTRUCTURE_RETRY.maxFailures} tries`);
		expect(await petPosts()).toHaveLength(0);
		expect(await stub.counters()).toMatchObject({ received: 1, failed: 1, inFlight: 0 });
	});

	it("attack: D1 is down while executions finish: every outcome waits in the object's outbox and reaches the run log when D1 answers again", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { retryPolicy: { baseDelayMs: 600_000, maxAttempts: 3 } });
		pinJitter();
		const stub = env.FLOW.getByName(flowId);
		// D1 refuses every write (the run log is written in batches); reads, and the API reading the run log, still work.
		const d1Down = vi
			.spyOn(Object.getPrototypeOf(env.DB) as D1Database, "batch")
			.mockRejectedValue(new Error("D1_ERROR: Network connection lost."));
		onTestFinished(() => d1Down.mockRestore());
		await injectFaults([{ status: 500 }]);
		const first = await send(flowId, "first");
		const second = await send(flowId, "second");
		// The first call failed and its retry is scheduled (its outcome stored in the object).
		const attemptsMade = () =>
			runInDurableObject(
				stub,
				(_: FlowObject, state) =>
					state.storage.sql.exec<{ attempts: number }>("SELECT attempts FROM inbox WHERE id = ?", first).toArray()[0]?.attempts ?? null,
			);
		await eventually("the first attempt to be stored", async () => (await attemptsMade()) === 1);
		expect(await petPosts()).toHaveLength(1);
		// Its retry comes due now; the second one follows it.
		await runInDurableObject(stub, (_: FlowObject, state) => state.storage.sql.exec("UPDATE inbox SET next_attempt_at = 0"));
		await runDurableObjectAlarm(stub);
		await eventually("both executions to finish", async () => (await stub.counters()).succeeded === 2);
		// Finished, yet the run log has none of it: the records wait in the object.
		for (const id of [first, second]) expect((await call("GET", `/api/executions/${id}`)).status).toBe(404);
		const waiting = () =>
			runInDurableObject(stub, (_: FlowObject, state) => state.storage.sql.exec("SELECT seq FROM outbox").toArray().length);
		expect(await waiting()).toBeGreaterThan(0);
		expect(d1Down).toHaveBeenCalled();

		d1Down.mockRestore();
		// The alarm the object set to try again (5 s on) runs now.
		expect(await runDurableObjectAlarm(stub)).toBe(true);
		const done = await waitForExecution(first, "succeeded");
		expect(done.input).toMatchObject({ petname: "first" });
		expect(done.attempts.map((a: { n: number; status: number; outcome: string }) => [a.n, a.status, a.outcome])).toEqual([
			[1, 500, "retry"],
			[2, 200, "succeeded"],
		]);
		expect((await waitForExecution(second, "succeeded")).attempts).toHaveLength(1);
		expect(await waiting()).toBe(0);
		// Delayed, not repeated: three calls, as before D1 came back.
		expect((await petPosts()).map((p) => [p.body.name, p.responseStatus])).toEqual([
			["first", 500],
			["first", 200],
			["second", 200],
		]);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({ received: 2, succeeded: 2, failed: 0, queued: 0 });
	});
});
