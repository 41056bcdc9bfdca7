import { beforeEach, describe, expect, it } from "vitest";
import {
	consume,
	counters,
	createDeliveryFlow,
	fastForward,
	injectFaults,
	namesByOwner,
	nextAttemptAt,
	objectNames,
	objectOfKey,
	pet,
	petPosts,
	pinJitter,
	queueMessage,
	runAlarms,
	send,
	stub,
	waitForCounters,
} from "./delivery-support";
import { api, resetPetstore, waitForExecution } from "./helpers";

/** Ordering "key" and "flow": order per key (or flow) in acceptance order, whatever the queue does. */

beforeEach(async () => {
	await resetPetstore();
	// Retries come due at half their backoff ceiling, not anywhere from now on: a test's own steps never race them.
	pinJitter(0.5);
});

describe('ordering "key"', () => {
	it("keeps each key in order while a retrying head blocks only its own key", async () => {
		const flow = await createDeliveryFlow(
			{ ordering: "key", key: "owner", concurrency: 4 },
			{ retryPolicy: { baseDelayMs: 600_000, maxAttempts: 5 } },
		);
		await injectFaults([{ forName: "a-1", status: 500 }]);
		const ids: Record<string, string> = {};
		for (const name of ["a-1", "b-1", "a-2", "c-1", "b-2", "a-3", "c-2"])
			ids[name] = await send(flow.flowId, pet(name, name.split("-")[0] as string));

		await waitForCounters(flow.flowId, { succeeded: 4 });
		const held = await api("GET", `/api/executions/${ids["a-2"]}`);
		expect(held.execution.status).toBe("queued");
		const retrying = await waitForExecution(ids["a-1"] as string, "retrying");
		expect(retrying.attempts).toHaveLength(1);
		// Its retry is 5 minutes away (half of its 10-minute ceiling): nothing here races it.
		const failedAt = Date.parse(retrying.attempts[0].startedAt) + retrying.attempts[0].durationMs;
		expect(await nextAttemptAt(objectOfKey(flow, "a"), ids["a-1"] as string)).toBe(failedAt + 300_000);
		const blocked = namesByOwner((await petPosts()).posts);
		expect(blocked.get("a")).toEqual(["a-1"]);
		expect(blocked.get("b")).toEqual(["b-1", "b-2"]);
		expect(blocked.get("c")).toEqual(["c-1", "c-2"]);
		expect(await counters(flow.flowId)).toMatchObject({ received: 7, succeeded: 4, queued: 3 });

		// The retry comes due: key "a" continues in its order.
		await fastForward(flow);
		await waitForCounters(flow.flowId, { succeeded: 7, queued: 0 });
		const { posts } = await petPosts();
		expect(namesByOwner(posts).get("a")).toEqual(["a-1", "a-2", "a-3"].flatMap((n) => (n === "a-1" ? [n, n] : [n])));
		expect(posts.filter((p) => p.body.name === "a-1").map((p) => p.responseStatus)).toEqual([500, 200]);
	});

	it("delivers in acceptance order per key when batches arrive reversed and concurrently", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 8 });
		const base = Date.now();
		const accepted = ["a-1", "b-1", "a-2", "c-1", "b-2", "a-3", "c-2", "b-3", "a-4", "c-3", "a-5", "b-4"].map((name, i) =>
			queueMessage(flow.flowId, base + i, pet(name, name.split("-")[0] as string)),
		);
		// Three batches, each reversed inside, handed over latest first and all at once.
		const batches = [accepted.slice(8), accepted.slice(4, 8), accepted.slice(0, 4)].map((batch) => [...batch].reverse());
		const results = await Promise.all(batches.map((batch) => consume(batch)));
		expect(results.flatMap((r) => r.explicitAcks)).toHaveLength(12);

		await waitForCounters(flow.flowId, { succeeded: 12 });
		const byOwner = namesByOwner((await petPosts()).posts);
		expect(byOwner.get("a")).toEqual(["a-1", "a-2", "a-3", "a-4", "a-5"]);
		expect(byOwner.get("b")).toEqual(["b-1", "b-2", "b-3", "b-4"]);
		expect(byOwner.get("c")).toEqual(["c-1", "c-2", "c-3"]);
	});

	it("waits for an earlier hook that reaches the object just after a later one of its key", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 8 });
		const base = Date.now();
		const [a1, a2, a3, b1] = [pet("a-1", "a"), pet("a-2", "a"), pet("a-3", "a"), pet("b-1", "b")].map((body, i) =>
			queueMessage(flow.flowId, base + i, body),
		);
		// A slower consumer invocation: the later hooks are stored first, the earlier ones a moment after.
		await consume([a3, b1].flatMap((m) => (m ? [m] : [])));
		await consume([a2].flatMap((m) => (m ? [m] : [])));
		await consume([a1].flatMap((m) => (m ? [m] : [])));
		await waitForCounters(flow.flowId, { succeeded: 4 });
		expect(namesByOwner((await petPosts()).posts).get("a")).toEqual(["a-1", "a-2", "a-3"]);
	});

	it("puts executions whose key yields nothing into one ordered no-key lane", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 4 });
		const base = Date.now();
		const messages = ["n-1", "n-2", "n-3", "n-4"].map((name, i) =>
			queueMessage(flow.flowId, base + i, { petname: name, petstatus: "sold" }),
		);
		await Promise.all([consume([messages[3], messages[1]] as typeof messages), consume([messages[2], messages[0]] as typeof messages)]);
		await waitForCounters(flow.flowId, { succeeded: 4 });
		expect((await petPosts()).posts.map((p) => p.body.name)).toEqual(["n-1", "n-2", "n-3", "n-4"]);
	});

	it("holds deliveries in every shard while paused and drains them in order on resume", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 8 });
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		const names = ["a-1", "b-1", "c-1", "a-2", "d-1", "b-2", "a-3", "c-2", "d-2", "b-3"];
		for (const name of names) await send(flow.flowId, pet(name, name.split("-")[0] as string));
		await waitForCounters(flow.flowId, { received: 10, queued: 10, paused: true });
		// Held by several objects of the flow, each of them paused.
		const holding = (await Promise.all(objectNames(flow).map((name) => stub(name).counters()))).filter((c) => c.queued > 0);
		expect(holding.length).toBeGreaterThan(1);
		expect(holding.map((c) => c.paused)).toEqual(holding.map(() => true));
		// Every object's alarm runs now, as if all its time had come: still nothing is delivered.
		await runAlarms(flow);
		await fastForward(flow);
		expect((await petPosts()).posts).toHaveLength(0);
		expect(await counters(flow.flowId)).toMatchObject({ succeeded: 0, queued: 10, inFlight: 0 });

		await api("POST", `/api/flows/${flow.flowId}/resume`);
		await waitForCounters(flow.flowId, { succeeded: 10, queued: 0, paused: false });
		const byOwner = namesByOwner((await petPosts()).posts);
		expect(byOwner.get("a")).toEqual(["a-1", "a-2", "a-3"]);
		expect(byOwner.get("b")).toEqual(["b-1", "b-2", "b-3"]);
		expect(byOwner.get("c")).toEqual(["c-1", "c-2"]);
		expect(byOwner.get("d")).toEqual(["d-1", "d-2"]);
	});
});

describe('ordering "flow"', () => {
	it("delivers in acceptance order when batches arrive reversed and concurrently", async () => {
		const flow = await createDeliveryFlow({ ordering: "flow" });
		const base = Date.now();
		const accepted = Array.from({ length: 9 }, (_, i) => queueMessage(flow.flowId, base + i, pet(`f-${i + 1}`, "f")));
		await Promise.all([accepted.slice(6), accepted.slice(3, 6), accepted.slice(0, 3)].map((batch) => consume([...batch].reverse())));
		await waitForCounters(flow.flowId, { succeeded: 9 });
		const { posts, maxConcurrent } = await petPosts();
		expect(posts.map((p) => p.body.name)).toEqual(accepted.map((m) => m.body.message.petname));
		expect(maxConcurrent).toBe(1);
	});
});
