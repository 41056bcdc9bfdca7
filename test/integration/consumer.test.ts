import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import worker from "../../src/index";
import { api, call, createRunningFlow, eventually, ONE_SUCCEEDED, petstoreRequests, resetPetstore, waitForExecution } from "./helpers";

beforeEach(resetPetstore);

const message = (id: string, flowId: string, body: Record<string, unknown>, attempts = 1) => ({
	id: `msg-${id}-${attempts}`,
	timestamp: new Date(),
	attempts,
	body: { id, flowId, version: 1, receivedAt: Date.now(), message: body },
});

async function consume(
	queue: string,
	messages: ReturnType<typeof message>[] | Array<{ id: string; timestamp: Date; attempts: number; body: unknown }>,
) {
	const batch = createMessageBatch(queue, messages);
	const ctx = createExecutionContext();
	// The handler itself, called in this isolate: a batch cannot cross an RPC boundary.
	await (worker as ExportedHandler<Env>).queue?.(batch, env, ctx);
	return getQueueResult(batch, ctx);
}

describe("queue consumer", () => {
	it("acks after the flow object stored the execution, and a redelivered message runs once", async () => {
		const { flowId } = await createRunningFlow();
		const id = "a".repeat(32);
		const first = await consume("hookflow-executions", [message(id, flowId, { petname: "Gromit", petstatus: "sold" })]);
		expect(first.explicitAcks).toEqual([`msg-${id}-1`]);
		expect(first.retryMessages).toEqual([]);
		await waitForExecution(id, "succeeded");
		// The queue delivers at least once: the same execution again is a no-op.
		const again = await consume("hookflow-executions", [message(id, flowId, { petname: "Gromit", petstatus: "sold" }, 2)]);
		expect(again.explicitAcks).toEqual([`msg-${id}-2`]);
		const { flow } = await api("GET", `/api/flows/${flowId}`);
		expect(flow.counters).toEqual(ONE_SUCCEEDED);
		expect((await petstoreRequests()).requests.filter((r) => r.path === "/v2/pet")).toHaveLength(1);
	});

	it("retries a message the flow object failed to store, and runs it once when the queue hands it over again", async () => {
		const { flowId } = await createRunningFlow();
		const object = env.FLOW.getByName(flowId);
		// The object's storage refuses the write (a full disk, an overloaded object): accept() throws mid-transaction.
		await runInDurableObject(object, (_: FlowObject, state) => {
			state.storage.sql.exec(
				"CREATE TRIGGER refuse_inbox BEFORE INSERT ON inbox BEGIN SELECT RAISE(ABORT, 'database or disk is full: SQLITE_FULL'); END",
			);
		});
		const id = "c".repeat(32);
		const body = { petname: "Retried", petstatus: "sold" };
		const failed = await consume("hookflow-executions", [message(id, flowId, body)]);
		// Not acked: the queue is asked to hand it over again.
		expect(failed.explicitAcks).toEqual([]);
		expect(failed.retryMessages.map((m) => m.msgId)).toEqual([`msg-${id}-1`]);
		// Nothing of the failed hand-over was kept: no execution, no count, no call.
		expect((await call("GET", `/api/executions/${id}`)).status).toBe(404);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({ received: 0, queued: 0 });

		await runInDurableObject(object, (_: FlowObject, state) => state.storage.sql.exec("DROP TRIGGER refuse_inbox"));
		// The queue's redelivery (attempt 2) is stored, acked and delivered, not taken for a duplicate of the failed one.
		const retried = await consume("hookflow-executions", [message(id, flowId, body, 2)]);
		expect(retried).toMatchObject({ explicitAcks: [`msg-${id}-2`], retryMessages: [] });
		const done = await waitForExecution(id, "succeeded");
		expect(done.attempts).toHaveLength(1);
		// And a third copy (the queue delivers at least once) still makes one call.
		await consume("hookflow-executions", [message(id, flowId, body, 3)]);
		await eventually("the flow to be idle", async () => (await api("GET", `/api/flows/${flowId}`)).flow.counters.inFlight === 0);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toEqual(ONE_SUCCEEDED);
		const posts = (await petstoreRequests()).requests.filter((r) => r.path === "/v2/pet");
		expect(posts.map((p) => [p.body.name, p.idempotencyKey])).toEqual([["Retried", id]]);
	});

	it("acks a malformed message instead of retrying it forever", async () => {
		const result = await consume("hookflow-executions", [{ id: "bad", timestamp: new Date(), attempts: 1, body: { nonsense: true } }]);
		expect(result.explicitAcks).toEqual(["bad"]);
	});

	it("records dead letters as failed executions that can be retried by hand", async () => {
		const { flowId } = await createRunningFlow();
		const id = "b".repeat(32);
		const result = await consume("hookflow-executions-dlq", [message(id, flowId, { petname: "Lost", petstatus: "sold" }, 10)]);
		expect(result.explicitAcks).toHaveLength(1);
		const failed = await waitForExecution(id, "failed");
		expect(failed.error).toContain("queue could not hand this execution");
		expect(failed.input).toMatchObject({ petname: "Lost" });
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({ received: 1, failed: 1 });
		await api("POST", `/api/flows/${flowId}/retry-failed`);
		await waitForExecution(id, "succeeded");
		await eventually("one succeeded execution", async () => (await api("GET", `/api/flows/${flowId}`)).flow.counters.succeeded === 1);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toEqual(ONE_SUCCEEDED);
	});
});
