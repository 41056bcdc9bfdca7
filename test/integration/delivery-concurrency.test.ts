import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import {
	consume,
	counters,
	createDeliveryFlow,
	type DeliveryFlow,
	fastForward,
	idsSpreadOverShards,
	injectFaults,
	namesByOwner,
	objectNames,
	objectOfKey,
	pet,
	petPosts,
	pinJitter,
	queueMessage,
	runAlarms,
	send,
	setLatency,
	stub,
	waitForCounters,
} from "./delivery-support";
import { api, eventually, resetPetstore, waitForExecution } from "./helpers";

/** Orderings "key" and "none" in parallel: concurrency, rate limit, backpressure, dedupe across shards (restarts: delivery-restart.test.ts). */

beforeEach(async () => {
	await resetPetstore();
	// Retries come due at half their backoff ceiling, not anywhere from now on: a test's own steps never race them.
	pinJitter(0.5);
});

const flows: DeliveryFlow[] = [];
afterEach(async () => {
	// Pending retries and holds would otherwise fire during a later test.
	for (const flow of flows.splice(0)) await api("DELETE", `/api/flows/${flow.flowId}`);
});

async function created(...args: Parameters<typeof createDeliveryFlow>): Promise<DeliveryFlow> {
	const flow = await createDeliveryFlow(...args);
	flows.push(flow);
	return flow;
}

/** Hooks sent while paused, then released at once: every object starts with a full inbox. */
async function sendAllThenResume(flow: DeliveryFlow, bodies: Record<string, unknown>[]): Promise<string[]> {
	await api("POST", `/api/flows/${flow.flowId}/pause`);
	const ids: string[] = [];
	for (const body of bodies) ids.push(await send(flow.flowId, body));
	await waitForCounters(flow.flowId, { received: bodies.length, queued: bodies.length });
	await api("POST", `/api/flows/${flow.flowId}/resume`);
	return ids;
}

const ownersAndNames = (owners: number, each: number) =>
	Array.from({ length: each }, (_, n) => Array.from({ length: owners }, (_, o) => pet(`o${o}-${n + 1}`, `o${o}`))).flat();

describe('ordering "key" in parallel', () => {
	it("never has more than `concurrency` in flight nor two of one key, and keeps each key in order", async () => {
		const flow = await created({ ordering: "key", key: "owner", concurrency: 8 });
		await setLatency(40);
		const bodies = ownersAndNames(12, 4);
		const ids = await sendAllThenResume(flow, bodies);
		await waitForCounters(flow.flowId, { succeeded: 48, queued: 0 }, 30_000);

		const { posts, maxConcurrent } = await petPosts();
		expect(posts).toHaveLength(48);
		expect(new Set(posts.map((p) => p.idempotencyKey))).toEqual(new Set(ids));
		expect(maxConcurrent).toBeLessThanOrEqual(8);
		expect(maxConcurrent).toBeGreaterThan(1);
		const ownerOf = new Map(posts.map((p) => [p.idempotencyKey, p.body.name.split("-")[0]]));
		for (const post of posts) {
			const own = ownerOf.get(post.idempotencyKey);
			expect(
				post.concurrentWith.filter((other) => ownerOf.get(other) === own),
				`${post.body.name} overlapped a call of its own key`,
			).toEqual([]);
		}
		for (const [owner, names] of namesByOwner(posts)) expect(names).toEqual([1, 2, 3, 4].map((n) => `${owner}-${n}`));
	});
});

describe('ordering "none"', () => {
	it("reaches its concurrency and never exceeds it", async () => {
		const flow = await created({ ordering: "none", concurrency: 8 });
		// Ten executions on each of the four shards (chosen ids, not random ones): every shard has work for its share of two.
		const ids = idsSpreadOverShards(flow, 10);
		// The first eight calls are held 5 s at the Petstore, so every shard's two are open at once however late a shard
		// starts on a busy machine; a shard can only start more when one of its own ends.
		await injectFaults(Array.from({ length: 8 }, () => ({ delayMs: 5_000 })));
		await setLatency(20);
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		for (const [i, id] of ids.entries()) await send(flow.flowId, pet(`n${i}-1`, "n"), { "x-request-id": id });
		await waitForCounters(flow.flowId, { received: 40, queued: 40 });
		await api("POST", `/api/flows/${flow.flowId}/resume`);
		await waitForCounters(flow.flowId, { succeeded: 40 }, 30_000);
		const { posts, maxConcurrent } = await petPosts();
		expect(posts).toHaveLength(40);
		expect(new Set(posts.map((p) => p.idempotencyKey))).toEqual(new Set(ids));
		expect(maxConcurrent).toBe(8);
		// The eighth call found the seven others open: two per shard.
		expect(posts[7]?.concurrentWith).toHaveLength(7);
	});

	it("holds the destination rate limit across shards", async () => {
		const flow = await created({ ordering: "none", concurrency: 8, rateLimit: { requests: 3, perSeconds: 3600 } });
		// Two executions on each of the four shards (chosen ids, not random ones), so three calls leave work on several.
		const ids = idsSpreadOverShards(flow, 2);
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		for (const [i, id] of ids.entries()) await send(flow.flowId, pet(`r${i}-1`, "r"), { "x-request-id": id });
		await waitForCounters(flow.flowId, { received: 8, queued: 8 });
		await api("POST", `/api/flows/${flow.flowId}/resume`);
		await waitForCounters(flow.flowId, { succeeded: 3, queued: 5, inFlight: 0 });
		// Every object's alarm runs now: the hour's three calls are spent, so nothing more starts.
		await runAlarms(flow);
		await runAlarms(flow);
		expect((await petPosts()).posts).toHaveLength(3);
		expect(await counters(flow.flowId)).toMatchObject({ succeeded: 3, queued: 5 });
		const shardsWithWork = await Promise.all(objectNames(flow).map(async (name) => (await stub(name).counters()).queued > 0));
		expect(shardsWithWork.filter(Boolean).length).toBeGreaterThan(1);

		// The window passes (its grants are forgotten): three more, no more.
		await runInDurableObject(stub(flow.flowId), (_: FlowObject, state) => state.storage.sql.exec("DELETE FROM rate_window"));
		await runAlarms(flow);
		await waitForCounters(flow.flowId, { succeeded: 6, queued: 2, inFlight: 0 });
		await runAlarms(flow);
		expect((await petPosts()).posts).toHaveLength(6);
	});
});

describe("backpressure", () => {
	it("a 429 with Retry-After holds every shard of the flow and halves its concurrency", async () => {
		const flow = await created({ ordering: "key", key: "owner", concurrency: 8 }, { retryPolicy: { baseDelayMs: 600_000 } });
		// Two keys delivered by different shards.
		const other = ["b", "c", "d", "e", "f", "g"].find((key) => objectOfKey(flow, key) !== objectOfKey(flow, "a")) as string;
		await injectFaults([{ forName: "a-1", status: 429, retryAfter: "3600" }]);
		const throttled = await send(flow.flowId, pet("a-1", "a"));
		const retrying = await waitForExecution(throttled, "retrying");
		expect(retrying.error).toMatch(
			/Petstore answered 429: the flow slows down to 1 deliveries at once \(was 2\) and holds until .* \(Retry-After\)/,
		);
		expect(retrying.attempts[0].error).toContain("holds until");

		const held = await send(flow.flowId, pet(`${other}-1`, other));
		// The other key's shard has decided to wait until the Retry-After has passed.
		await eventually(
			"the other key's shard to wait out the Retry-After",
			async () =>
				((await runInDurableObject(stub(objectOfKey(flow, other)), (_: FlowObject, s) => s.storage.getAlarm())) ?? 0) >
				Date.now() + 5 * 60_000,
		);
		await runDurableObjectAlarm(stub(objectOfKey(flow, other)));
		expect((await api("GET", `/api/executions/${held}`)).execution.status).toBe("queued");
		expect((await petPosts()).posts.map((p) => p.body.name)).toEqual(["a-1"]);
		for (const name of objectNames(flow)) {
			const pace = await runInDurableObject(
				stub(name),
				(_: FlowObject, s) => s.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'pace'").toArray()[0],
			);
			if (name === objectOfKey(flow, "a") || name === objectOfKey(flow, other))
				expect(JSON.parse(pace?.value as string).holdUntil).toBeGreaterThan(Date.now());
		}

		// Retry-After has passed: both keys are delivered.
		await fastForward(flow);
		await waitForCounters(flow.flowId, { succeeded: 2, queued: 0 });
	});
});

describe("large payloads and dedupe across shards", () => {
	it("hands a payload too large for a queue message to the shard of its key", async () => {
		const flow = await created({ ordering: "key", key: "owner", concurrency: 8 });
		const large = await send(flow.flowId, { ...pet("big-1", "big"), padding: "x".repeat(200_000) });
		const small = await send(flow.flowId, pet("big-2", "big"));
		await waitForCounters(flow.flowId, { succeeded: 2, queued: 0 });
		expect((await waitForExecution(large, "succeeded")).input.padding).toHaveLength(200_000);
		expect((await petPosts()).posts.map((p) => p.body.name)).toEqual(["big-1", "big-2"]);
		expect(await waitForExecution(small, "succeeded")).toBeTruthy();
		// Stored and delivered by the key's shard, not by the main object that staged it; the main object no longer keeps the copy.
		expect(await stub(objectOfKey(flow, "big")).counters()).toMatchObject({ received: 2, succeeded: 2 });
		expect(await stub(flow.flowId).counters()).toMatchObject({ received: 0, succeeded: 0 });
		const staged = await runInDurableObject(stub(flow.flowId), (_: FlowObject, s) => s.storage.sql.exec("SELECT id FROM staged").toArray());
		expect(staged).toEqual([]);
	});

	it("binds a sender's x-request-id to its body across shards: same body a duplicate, another body a second execution", async () => {
		const flow = await created({ ordering: "key", key: "owner", concurrency: 8 });
		const other = ["b", "c", "d", "e", "f", "g"].find((key) => objectOfKey(flow, key) !== objectOfKey(flow, "a")) as string;
		const senderId = "5".repeat(32);
		expect(await send(flow.flowId, pet("a-1", "a"), { "x-request-id": senderId })).toBe(senderId);
		expect(await send(flow.flowId, pet(`${other}-1`, other), { "x-request-id": senderId })).toBe(senderId);
		expect(await send(flow.flowId, pet("a-1", "a"), { "x-request-id": senderId })).toBe(senderId);
		await waitForCounters(flow.flowId, { received: 2, succeeded: 2, queued: 0 });
		// Two objects each delivered one: the second body really went to another shard.
		expect(await stub(objectOfKey(flow, "a")).counters()).toMatchObject({ received: 1, succeeded: 1 });
		expect(await stub(objectOfKey(flow, other)).counters()).toMatchObject({ received: 1, succeeded: 1 });
		await runAlarms(flow);
		const { posts } = await petPosts();
		expect(posts.map((p) => p.body.name).sort()).toEqual(["a-1", `${other}-1`].sort());
		expect(new Set(posts.map((p) => p.idempotencyKey)).size).toBe(2);
		expect(posts.find((p) => p.body.name === "a-1")?.idempotencyKey).toBe(senderId);
	});

	it("a credential change reaches every shard at once", async () => {
		const flow = await created({ ordering: "key", key: "owner", concurrency: 8 });
		const keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
		for (const key of keys) await send(flow.flowId, pet(`${key}-1`, key));
		await waitForCounters(flow.flowId, { succeeded: keys.length });
		const origin = new URL(env.PETSTORE_BASE_URL).origin;
		const otherOrigin = origin.replace("127.0.0.1", "localhost");
		await api("PATCH", `/api/credentials/${flow.petstoreCredentialId}`, { baseUrl: `${otherOrigin}/v2`, apiKey: "secret" });
		for (const key of keys) await send(flow.flowId, pet(`${key}-2`, key));
		await waitForCounters(flow.flowId, { succeeded: 2 * keys.length });
		// Within the objects' 30 s credential cache, only the invalidation explains the new host in every shard.
		const { posts } = await petPosts();
		const delivering = await Promise.all(objectNames(flow).map(async (name) => (await stub(name).counters()).succeeded));
		expect(delivering.filter((succeeded) => succeeded > 0).length).toBeGreaterThan(1);
		for (const post of posts) expect(post.host).toBe(new URL(post.body.name.endsWith("-1") ? origin : otherOrigin).host);
	});

	it("deleting the flow empties every shard and leaves no alarm behind", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 8 }, { retryPolicy: { baseDelayMs: 600_000 } });
		await injectFaults([{ forName: "a-1", status: 500 }]);
		const keys = ["a", "b", "c", "d", "e", "f"];
		for (const key of keys) await send(flow.flowId, pet(`${key}-1`, key));
		await send(flow.flowId, pet("a-2", "a"));
		await waitForCounters(flow.flowId, { succeeded: keys.length - 1, queued: 2 });
		const inboxes = () =>
			Promise.all(
				objectNames(flow).map((name) =>
					runInDurableObject(stub(name), (_: FlowObject, s) => s.storage.sql.exec("SELECT id FROM inbox").toArray().length),
				),
			);
		// Before: key a's head retrying and the one behind it, in a shard of the flow.
		expect((await inboxes()).reduce((sum, n) => sum + n, 0)).toBe(2);
		await api("DELETE", `/api/flows/${flow.flowId}`);
		for (const name of objectNames(flow)) {
			const state = await runInDurableObject(stub(name), async (_: FlowObject, s) => ({
				inbox: s.storage.sql.exec("SELECT id FROM inbox").toArray().length,
				alarm: await s.storage.getAlarm(),
			}));
			expect(state, name).toEqual({ inbox: 0, alarm: null });
		}
	});

	it("runs each id once when the queue hands it to several shards again and again", async () => {
		for (const delivery of [
			{ ordering: "none" as const, concurrency: 8 },
			{ ordering: "key" as const, key: "owner", concurrency: 8 },
		]) {
			await resetPetstore();
			const flow = await created(delivery);
			const base = Date.now();
			const messages = Array.from({ length: 12 }, (_, i) => queueMessage(flow.flowId, base + i, pet(`d${i % 5}-${i}`, `d${i % 5}`)));
			const redelivered = messages.map((m) => ({ ...m, id: `${m.id}-again`, attempts: 2 }));
			await Promise.all([
				consume(messages.slice(0, 6)),
				consume(redelivered.slice(3)),
				consume(messages.slice(6)),
				consume(redelivered.slice(0, 3)),
			]);
			await waitForCounters(flow.flowId, { received: 12, succeeded: 12, queued: 0 });
			await consume(messages);
			await runAlarms(flow);
			const { posts } = await petPosts();
			expect(posts).toHaveLength(12);
			expect(new Set(posts.map((p) => p.idempotencyKey)).size).toBe(12);
			expect(await counters(flow.flowId)).toMatchObject({ received: 12, succeeded: 12 });
		}
	});
});
