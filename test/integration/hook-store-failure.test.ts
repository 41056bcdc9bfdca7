import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, createRunningFlow, hook, petstoreRequests, resetPetstore, waitForExecution } from "./helpers";

/**
 * docs/hook-endpoint.md: a 200 means the request is stored; when the queue refuses the write the hook
 * answers 503 with retry-after, nothing is half-accepted, and the sender's retry is accepted and runs
 * once (issue 21, promise 1). The queue binding is the Worker's own, made to fail as a Queues outage would.
 */

beforeEach(resetPetstore);
afterEach(() => vi.restoreAllMocks());

const JSON_TYPE = { "content-type": "application/json" };
const STORE_FAILED = "Hookflow could not store the request; nothing was accepted, retry shortly";

async function executionIds(flowId: string): Promise<string[]> {
	const { executions } = await api("GET", `/api/flows/${flowId}/executions?limit=100`);
	return executions.map((e: { id: string }) => e.id);
}

/** The queue refuses the next write, as `send` does when Queues is unavailable. */
const failNextQueueWrite = () => vi.spyOn(env.EXECUTIONS, "send").mockRejectedValueOnce(new Error("Queue send failed: internal error"));

async function expectStoreFailed(response: Response): Promise<void> {
	expect(response.status).toBe(503);
	expect(response.headers.get("retry-after")).toBe("5");
	expect(response.headers.get("x-request-id")).toBeNull();
	expect(await response.json()).toEqual({ error: STORE_FAILED });
}

async function petCreates(name: string) {
	return (await petstoreRequests()).requests.filter((r) => r.method === "POST" && r.path.endsWith("/pet") && r.body?.name === name);
}

describe("the queue write fails", () => {
	it("503 with retry-after, no execution; the same request sent again (no id of its own) is accepted and runs once", async () => {
		const { flowId } = await createRunningFlow();
		const send = () => hook(flowId, { headers: JSON_TYPE, body: JSON.stringify({ petname: "Resent", petstatus: "sold" }) });
		const queueWrite = failNextQueueWrite();
		await expectStoreFailed(await send());
		expect(queueWrite).toHaveBeenCalledTimes(1);
		expect(await executionIds(flowId)).toEqual([]);

		const retry = await send();
		expect(retry.status).toBe(200);
		const { requestId } = (await retry.json()) as { requestId: string };
		await waitForExecution(requestId, "succeeded");
		expect(await executionIds(flowId)).toEqual([requestId]);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({ received: 1, succeeded: 1, failed: 0 });
		expect(await petCreates("Resent")).toHaveLength(1);
	});

	it("a sender's retry under the same idempotency-key is not taken for a duplicate of the refused request: it runs", async () => {
		const { flowId } = await createRunningFlow();
		const send = () =>
			hook(flowId, {
				headers: { ...JSON_TYPE, "idempotency-key": "order-42" },
				body: JSON.stringify({ petname: "Keyed", petstatus: "sold" }),
			});
		failNextQueueWrite();
		await expectStoreFailed(await send());
		const retry = await send();
		expect(retry.status).toBe(200);
		const { requestId } = (await retry.json()) as { requestId: string };
		await waitForExecution(requestId, "succeeded");
		expect(await petCreates("Keyed")).toHaveLength(1);
		// And from now on the key does dedupe.
		expect(((await (await send()).json()) as { requestId: string }).requestId).toBe(requestId);
		expect(await executionIds(flowId)).toEqual([requestId]);
	});

	it("a payload too large for a queue message (staged in the flow object first) is refused whole and delivered intact on the retry", async () => {
		const { flowId } = await createRunningFlow();
		const body = JSON.stringify({ petname: "Large", petstatus: "sold", padding: "x".repeat(200_000) });
		const send = () => hook(flowId, { headers: { ...JSON_TYPE, "webhook-id": "msg_large_1" }, body });
		failNextQueueWrite();
		await expectStoreFailed(await send());
		expect(await executionIds(flowId)).toEqual([]);

		const retry = await send();
		expect(retry.status).toBe(200);
		const { requestId } = (await retry.json()) as { requestId: string };
		const execution = await waitForExecution(requestId, "succeeded");
		expect(execution.input.padding).toHaveLength(200_000);
		expect(await petCreates("Large")).toHaveLength(1);
	});
});
