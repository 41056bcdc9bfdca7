import { beforeEach, describe, expect, it } from "vitest";
import { type Delivery, type DeliveryFlow, pet, petPosts, runAlarms, send, setLatency, waitForCounters } from "./delivery-support";
import { api, createRunningFlow, putDraft, type RunningFlow, resetPetstore } from "./helpers";

beforeEach(resetPetstore);

/** The tutorial flow with these delivery settings, keeping what a republish needs. */
async function createDeliveryFlow(delivery: Delivery): Promise<DeliveryFlow & RunningFlow> {
	return { ...(await createRunningFlow({ type: "none" }, { delivery })), delivery };
}

/** Publishes the tutorial draft again with other delivery settings. */
async function publishDelivery(flow: RunningFlow, delivery: Record<string, unknown>): Promise<void> {
	await putDraft(flow, { name: "petname", status: "petstatus" }, { delivery });
	await api("POST", `/api/flows/${flow.flowId}/publish`);
}

describe("settings published while executions wait govern their calls", () => {
	it("pause, queue, publish a rate limit, resume: the backlog's calls keep the new limit", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 8 });
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		await Promise.all(Array.from({ length: 24 }, (_, i) => send(flow.flowId, pet(`o${i % 12}-${i}`, `o${i % 12}`))));
		await waitForCounters(flow.flowId, { queued: 24 });
		await publishDelivery(flow, { ordering: "key", key: "owner", concurrency: 8, rateLimit: { requests: 5, perSeconds: 3600 } });
		await api("POST", `/api/flows/${flow.flowId}/resume`);
		await waitForCounters(flow.flowId, { succeeded: 5, queued: 19 });
		// Every object looks again: no token is left in the hour, so nothing more starts.
		await runAlarms(flow);
		expect((await petPosts()).posts).toHaveLength(5);
		expect(await api("GET", `/api/flows/${flow.flowId}`).then((r) => r.flow.counters)).toMatchObject({ succeeded: 5, queued: 19 });
	});

	it("lowering the concurrency reaches executions already waiting", async () => {
		// 8 → 4 keeps the layout (4 shards) and halves each shard's share.
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 8 });
		await setLatency(150);
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		await Promise.all(Array.from({ length: 32 }, (_, i) => send(flow.flowId, pet(`k${i}-1`, `k${i}`))));
		await waitForCounters(flow.flowId, { queued: 32 });
		await publishDelivery(flow, { ordering: "key", key: "owner", concurrency: 4 });
		await api("POST", `/api/flows/${flow.flowId}/resume`);
		await waitForCounters(flow.flowId, { succeeded: 32, queued: 0 }, 30_000);
		const { posts, maxConcurrent } = await petPosts();
		expect(posts).toHaveLength(32);
		expect(maxConcurrent).toBeLessThanOrEqual(4);
		// The shares were used, not starved: more than one shard delivered at a time.
		expect(maxConcurrent).toBeGreaterThan(1);
	});
});
