import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import { movableClock } from "../support/clock";
import { consume, counters, createDeliveryFlow, fastForward, pet, petPosts, queueMessage, stub, waitForCounters } from "./delivery-support";
import { api, createRunningFlow, hook, json, resetPetstore, waitForExecution } from "./helpers";

/**
 * The time windows the README promises, checked at their edges with the clock moved (see
 * test/support/clock.ts), not waited for: the objects' 24 h dedupe and staging windows, and the
 * ingress's 5 s config cache. On a moved clock the objects' alarms are set in workerd's future, so
 * these tests run them (`fastForward`).
 */

beforeEach(resetPetstore);

const DAY_MS = 24 * 60 * 60_000;
const MINUTE_MS = 60_000;

describe("the 24 h windows of a flow object", () => {
	it.each([{ ordering: "flow" as const }, { ordering: "none" as const, concurrency: 4 }])(
		"an execution id handed over again within 24 h is a duplicate; after 24 h it is a new execution (ordering $ordering)",
		async (delivery) => {
			const clock = movableClock();
			const flow = await createDeliveryFlow(delivery);
			const first = queueMessage(flow.flowId, Date.now(), pet("once", "o"));
			// The same execution id in a later queue message: a sender's retry with the same id, or the queue's redelivery.
			const again = (n: number) => ({ ...first, id: `${first.id}-again-${n}`, body: { ...first.body, receivedAt: clock.now() } });
			expect((await consume([first])).explicitAcks).toEqual([first.id]);
			await waitForCounters(flow.flowId, { received: 1, succeeded: 1 });

			clock.set(DAY_MS - MINUTE_MS);
			expect((await consume([again(1)])).explicitAcks).toHaveLength(1);
			await fastForward(flow);
			expect(await counters(flow.flowId)).toMatchObject({ received: 1, succeeded: 1, queued: 0 });
			expect((await petPosts()).posts).toHaveLength(1);

			clock.set(DAY_MS + MINUTE_MS);
			expect((await consume([again(2)])).explicitAcks).toHaveLength(1);
			expect(await counters(flow.flowId)).toMatchObject({ received: 2, queued: 1 });
			await fastForward(flow);
			await waitForCounters(flow.flowId, { received: 2, succeeded: 2, queued: 0 });
			// A second call, with the execution id as its idempotency key as ever.
			expect((await petPosts()).posts.map((p) => p.idempotencyKey)).toEqual([first.body.id, first.body.id]);
		},
	);

	it("drops a staged payload whose queue reference never came after 24 h, and not before", async () => {
		const clock = movableClock();
		const flow = await createDeliveryFlow({ ordering: "flow" });
		const main = stub(flow.flowId);
		// What the ingress does for a payload too large for a queue message; here the reference is never sent.
		const orphan = queueMessage(flow.flowId, Date.now(), pet("orphan", "o"));
		await main.stage(orphan.body.id, orphan.body.message);
		const staged = () =>
			runInDurableObject(main, (_: FlowObject, state) =>
				state.storage.sql
					.exec<{ id: string }>("SELECT id FROM staged")
					.toArray()
					.map((row) => row.id),
			);
		// The object cleans up when its delivery loop ends: deliver something at each moment.
		const deliverOne = async (name: string, succeeded: number) => {
			await consume([queueMessage(flow.flowId, clock.now(), pet(name, "o"))]);
			await fastForward(flow);
			await waitForCounters(flow.flowId, { succeeded, queued: 0 });
		};

		clock.set(DAY_MS - MINUTE_MS);
		await deliverOne("before-24h", 1);
		expect(await staged()).toEqual([orphan.body.id]);

		clock.set(DAY_MS + MINUTE_MS);
		await deliverOne("after-24h", 2);
		expect(await staged()).toEqual([]);

		// Its reference arriving after all: a failed execution that says why, never a silent loss.
		const { message: _, ...reference } = orphan.body;
		expect((await consume([{ ...orphan, body: reference as typeof orphan.body }])).explicitAcks).toEqual([orphan.id]);
		const lost = await waitForExecution(orphan.body.id, "failed");
		expect(lost.error).toBe("The payload of this execution was lost before delivery");
		expect((await petPosts()).posts.map((p) => p.body.name)).toEqual(["before-24h", "after-24h"]);
	});
});

describe("the 24 h staging window of a sharded flow", () => {
	it.each([
		{ ordering: "key" as const, key: "owner", concurrency: 8 },
		{ ordering: "none" as const, concurrency: 4 },
	])("drops an orphaned staged payload after 24 h though the main object delivers nothing (ordering $ordering)", async (delivery) => {
		const clock = movableClock();
		const flow = await createDeliveryFlow(delivery);
		const main = stub(flow.flowId);
		const orphan = queueMessage(flow.flowId, Date.now(), pet("orphan", "o"));
		await main.stage(orphan.body.id, orphan.body.message);
		const staged = () =>
			runInDurableObject(main, (_: FlowObject, state) =>
				state.storage.sql
					.exec<{ id: string }>("SELECT id FROM staged")
					.toArray()
					.map((row) => row.id),
			);
		// The flow delivers all the while, in its shards; the main object's own alarm is the only thing that can clean up.
		await consume([queueMessage(flow.flowId, clock.now(), pet("delivered", "o"))]);
		await waitForCounters(flow.flowId, { succeeded: 1, queued: 0 });

		// Whatever alarm the main object has set runs now, as if its time had come.
		clock.set(DAY_MS - MINUTE_MS);
		await runDurableObjectAlarm(main);
		expect(await staged()).toEqual([orphan.body.id]);

		clock.set(DAY_MS + MINUTE_MS);
		await runDurableObjectAlarm(main);
		expect(await staged()).toEqual([]);
		// Nothing left to wait for: the main object sets no further alarm.
		expect(await runDurableObjectAlarm(main)).toBe(false);

		const { message: _, ...reference } = orphan.body;
		expect((await consume([{ ...orphan, body: reference as typeof orphan.body }])).explicitAcks).toEqual([orphan.id]);
		const lost = await waitForExecution(orphan.body.id, "failed");
		expect(lost.error).toBe("The payload of this execution was lost before delivery");
		expect((await petPosts()).posts.map((p) => p.body.name)).toEqual(["delivered"]);
	});
});

describe("the ingress's config cache", () => {
	it("trusts a flow's cached config for 5 s: a change made elsewhere reaches this isolate within 5 s, not sooner", async () => {
		const clock = movableClock();
		const { flowId } = await createRunningFlow();
		// Paused: hooks are still accepted, and nothing accepted here is delivered behind the next test's back.
		await api("POST", `/api/flows/${flowId}/pause`);
		const send = async () => (await hook(flowId, json({ petname: "cached", petstatus: "sold" }))).status;
		// Frozen, so the edges are exact: this hook loads the config at `loadedAt`.
		const loadedAt = clock.now();
		clock.freeze(loadedAt);
		expect(await send()).toBe(200);
		// Another isolate's API call stopped the flow: D1 says so, this isolate's cache was not told.
		await env.DB.prepare("UPDATE flows SET status = 'stopped' WHERE id = ?").bind(flowId).run();

		clock.freeze(loadedAt + 4_999);
		expect(await send()).toBe(200);
		clock.freeze(loadedAt + 5_000);
		expect(await send()).toBe(404);
	});
});
