import { runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { CALL_LEASE_MS } from "../../src/delivery/call-slots";
import { FlowObject } from "../../src/delivery/flow-object";
import { CALL_START_GRACE_MS } from "../../src/delivery/rate-window";
import { movableClock } from "../support/clock";
import {
	counters,
	type Delivery,
	type DeliveryFlow,
	pet,
	petPosts,
	runAlarms,
	send,
	setLatency,
	stub,
	waitForCounters,
} from "./delivery-support";
import { api, createRunningFlow, eventually, putDraft, type RunningFlow, resetPetstore } from "./helpers";

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

describe("a concurrency lowered across a shard layout change", () => {
	it("100 → 2 (four shards become two): the old shards' backlog and new hooks together keep 2 in flight", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 100 });
		await setLatency(100);
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		// One key each: spread over all four old shards, each with its share of 25.
		await Promise.all(Array.from({ length: 24 }, (_, i) => send(flow.flowId, pet(`old${i}-1`, `old${i}`))));
		await waitForCounters(flow.flowId, { queued: 24 });
		await publishDelivery(flow, { ordering: "key", key: "owner", concurrency: 2 });
		await api("POST", `/api/flows/${flow.flowId}/resume`);
		// Hooks after the publish go to the new layout's two shards while the old four still drain.
		await Promise.all(Array.from({ length: 8 }, (_, i) => send(flow.flowId, pet(`new${i}-1`, `new${i}`))));
		await waitForCounters(flow.flowId, { succeeded: 32, queued: 0 }, 40_000);
		const { posts, maxConcurrent } = await petPosts();
		expect(posts).toHaveLength(32);
		expect(maxConcurrent).toBeLessThanOrEqual(2);
		// Once the old layout has drained, the main object ends the drain and the new shards run on their own shares again.
		await eventually("the drain to end", () =>
			runInDurableObject(
				stub(flow.flowId),
				(_: FlowObject, state) => state.storage.sql.exec("SELECT 1 FROM meta WHERE key = 'drain'").toArray().length === 0,
			),
		);
		await Promise.all(Array.from({ length: 6 }, (_, i) => send(flow.flowId, pet(`late${i}-1`, `late${i}`))));
		await waitForCounters(flow.flowId, { succeeded: 38, queued: 0 }, 20_000);
		expect((await petPosts()).maxConcurrent).toBeLessThanOrEqual(2);
	});
});

describe("call slots leased while a layout drains", () => {
	it("an object that died holding slots does not stall the flow: its leases expire", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 100 });
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		await Promise.all(Array.from({ length: 8 }, (_, i) => send(flow.flowId, pet(`d${i}-1`, `d${i}`))));
		await waitForCounters(flow.flowId, { queued: 8 });
		await publishDelivery(flow, { ordering: "key", key: "owner", concurrency: 2 });
		// An object of the flow leased both slots of the pool and died before giving them back.
		const main = stub(flow.flowId);
		expect((await main.leaseSlots("a shard that died", 2)).ids).toHaveLength(2);
		expect((await main.leaseSlots("another shard", 1)).ids).toEqual([]);
		const clock = movableClock();
		clock.set(CALL_LEASE_MS + 1_000);
		await api("POST", `/api/flows/${flow.flowId}/resume`);
		// On the moved clock the objects' alarms lie in workerd's future: run them.
		await eventually("the backlog delivered after the leases expired", async () => {
			await runAlarms(flow);
			return (await counters(flow.flowId)).succeeded === 8;
		});
		expect(await counters(flow.flowId)).toMatchObject({ succeeded: 8, queued: 0 });
		expect((await petPosts()).maxConcurrent).toBeLessThanOrEqual(2);
	});
});

describe("a rate-limit token is spent only on a call that starts", () => {
	const hourly = { requests: 5, perSeconds: 3600 };

	it("a busy isolate that misses a grant's start window still makes every call the limit allows", async () => {
		const flow = await createDeliveryFlow({ ordering: "flow", rateLimit: hourly });
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		await Promise.all(Array.from({ length: 7 }, (_, i) => send(flow.flowId, pet(`busy-${i}`, "o"))));
		await waitForCounters(flow.flowId, { queued: 7 });
		// The isolate is busy right after the first grant: the clock moves past its start window before the turn runs.
		const clock = movableClock();
		const acquire = FlowObject.prototype.acquireTokens;
		let grants = 0;
		const spy = vi.spyOn(FlowObject.prototype, "acquireTokens").mockImplementation(async function (this: FlowObject, want, limit) {
			const grant = await acquire.call(this, want, limit);
			if (grants++ === 0) clock.set(CALL_START_GRACE_MS + 20);
			return grant;
		});
		await api("POST", `/api/flows/${flow.flowId}/resume`);
		await waitForCounters(flow.flowId, { succeeded: 5, queued: 2 });
		await runAlarms(flow);
		spy.mockRestore();
		expect(grants).toBeGreaterThan(1);
		expect((await petPosts()).posts).toHaveLength(5);
		expect(await api("GET", `/api/flows/${flow.flowId}`).then((r) => r.flow.counters)).toMatchObject({ succeeded: 5, queued: 2 });
	});

	it("executions a filter ends make no call and take no token", async () => {
		const flow = await createDeliveryFlow({ ordering: "flow", rateLimit: hourly });
		await putDraft(
			flow,
			{},
			{
				delivery: flow.delivery,
				steps: [
					{ id: "wanted", component: "logic", action: "filter", condition: "owner = 'keep'" },
					{
						id: "pet",
						component: "petstore",
						action: "createPet",
						credentialId: flow.petstoreCredentialId,
						mapping: { name: "petname", status: "petstatus" },
					},
				],
			},
		);
		await api("POST", `/api/flows/${flow.flowId}/publish`);
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		// Ten dropped by the filter ahead of the five the limit allows in the hour.
		for (let i = 0; i < 10; i++) await send(flow.flowId, pet(`drop-${i}`, "drop"));
		for (let i = 0; i < 5; i++) await send(flow.flowId, pet(`keep-${i}`, "keep"));
		await waitForCounters(flow.flowId, { queued: 15 });
		await api("POST", `/api/flows/${flow.flowId}/resume`);
		await waitForCounters(flow.flowId, { filtered: 10, succeeded: 5, queued: 0 });
		expect((await petPosts()).posts.map((p) => p.body.name)).toEqual(["keep-0", "keep-1", "keep-2", "keep-3", "keep-4"]);
	});
});
