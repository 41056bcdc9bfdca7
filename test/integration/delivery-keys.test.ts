import { runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import { MAX_KEY_LENGTH } from "../../src/flows/delivery-key";
import { consume, createDeliveryFlow, objectNames, pet, petPosts, queueMessage, send, stub, waitForCounters } from "./delivery-support";
import { api, captureLogs, resetPetstore } from "./helpers";

beforeEach(resetPetstore);

describe("ordering keys", () => {
	it("a 1 MB key value still orders its executions in one lane", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 4 });
		const huge = "x".repeat(1_000_000);
		await send(flow.flowId, pet("huge-1", huge));
		await send(flow.flowId, pet("huge-2", huge));
		await waitForCounters(flow.flowId, { succeeded: 2, queued: 0 }, 20_000);
		expect((await petPosts()).posts.map((p) => p.body.name)).toEqual(["huge-1", "huge-2"]);
	});

	it("holds the lane of a long key while it is paused, under a key no longer than the cap", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 4 });
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		await send(flow.flowId, pet("long-1", "y".repeat(500_000)));
		await waitForCounters(flow.flowId, { queued: 1 });
		const lanes: string[] = [];
		for (const name of objectNames(flow))
			lanes.push(
				...(await runInDurableObject(stub(name), (_: FlowObject, state) =>
					state.storage.sql
						.exec<{ lane: string }>("SELECT lane FROM inbox")
						.toArray()
						.map((r) => r.lane as string),
				)),
			);
		expect(lanes).toHaveLength(1);
		expect(lanes[0]).toMatch(/^key:sha256:[0-9a-f]{64}$/);
		expect((lanes[0] as string).length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
	});

	it("slow key expressions of one flow do not hold another flow's hand-over in the same batch", async () => {
		// Each key evaluation runs into the step budget.
		const slow = await createDeliveryFlow({ ordering: "key", key: "$count([1..40000].($ * 2))", concurrency: 4 });
		const other = await createDeliveryFlow({ ordering: "flow" });
		const logs = captureLogs();
		const now = Date.now();
		const messages = [
			...Array.from({ length: 20 }, (_, i) => queueMessage(slow.flowId, now, pet(`slow-${i}`, "s"))),
			queueMessage(other.flowId, now, pet("other-1", "o")),
		];
		const result = await consume(messages);
		expect(result.explicitAcks).toHaveLength(21);
		const lines = logs.lines();
		const keyless = lines.flatMap((line, i) => (line.event === "execution.no_key" && line.flowId === slow.flowId ? [i] : []));
		const otherAccepted = lines.findIndex((line) => line.event === "queue.accepted" && line.flowId === other.flowId);
		expect(keyless).toHaveLength(20);
		expect(otherAccepted).toBeGreaterThan(-1);
		// The other flow's executions were stored while the slow keys were still being evaluated.
		expect(otherAccepted).toBeLessThan(keyless.at(-1) as number);
	});
});
