import { abortAllDurableObjects } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import {
	counters,
	createDeliveryFlow,
	fastForward,
	namesByOwner,
	pet,
	petPosts,
	petsCreated,
	send,
	setLatency,
	waitForCounters,
} from "./delivery-support";
import { api, eventually, resetPetstore, waitForExecution } from "./helpers";

/**
 * Every object of a sharded flow restarts in the middle of parallel deliveries. A file of its own:
 * `abortAllDurableObjects()` tears down every object of this file's workerd. Torn down while some
 * objects were writing (calls finishing, run-log flushes), the local workerd now and then delivered
 * nothing more for the rest of its file; here the restart lands while every object only waits on
 * calls that take 2 s.
 */

beforeEach(async () => {
	await resetPetstore();
});

describe("restarts", () => {
	it("loses and repeats nothing when every object restarts in the middle of parallel deliveries", async () => {
		const flow = await createDeliveryFlow({ ordering: "key", key: "owner", concurrency: 8 });
		// Every call takes 2 s at the Petstore: the restart, right after the first ones arrive, lands while they are open
		// and while the objects only wait on them (nothing is being written when they are torn down).
		await setLatency(2_000);
		// Eight owners with three pets each, sent while paused, then released at once: every object starts with a full inbox.
		const bodies = Array.from({ length: 3 }, (_, n) => Array.from({ length: 8 }, (_, o) => pet(`o${o}-${n + 1}`, `o${o}`))).flat();
		await api("POST", `/api/flows/${flow.flowId}/pause`);
		const ids: string[] = [];
		for (const body of bodies) ids.push(await send(flow.flowId, body));
		await waitForCounters(flow.flowId, { received: 24, queued: 24 });
		await api("POST", `/api/flows/${flow.flowId}/resume`);
		const held = await eventually("four calls open at the Petstore", async () => {
			const open = (await petPosts()).posts.filter((p) => p.responseStatus === null);
			return open.length >= 4 ? open : undefined;
		});
		// Like a runtime restart: every instance is torn down mid-call, storage stays.
		await abortAllDurableObjects();
		// Interrupted calls are retried under the retry policy: their backoff comes due now.
		await eventually(
			"all 24 to succeed after the restart",
			async () => {
				await fastForward(flow);
				return (await counters(flow.flowId)).succeeded === 24;
			},
			30_000,
		);

		expect(await counters(flow.flowId)).toMatchObject({ received: 24, succeeded: 24, failed: 0, queued: 0 });
		const pets = await petsCreated();
		expect(pets.map((p) => p.name).sort()).toEqual(bodies.map((b) => b.petname).sort());
		// A call cut off by the restart counts as an attempt and is made again with the same idempotency key.
		const interrupted: string[] = [];
		for (const id of ids) {
			const execution = await waitForExecution(id, "succeeded");
			const outcomes = execution.attempts.map((a: { outcome: string }) => a.outcome);
			if (outcomes.length === 2) {
				interrupted.push(id);
				expect(execution.attempts[0].error).toContain("the object restarted during the call");
			}
			expect(outcomes.slice(-1)).toEqual(["succeeded"]);
			expect(outcomes.length).toBeLessThanOrEqual(2);
		}
		// Every call open at the restart counts as an attempt and is made again.
		expect(interrupted).toEqual(expect.arrayContaining(held.map((p) => p.idempotencyKey)));
		expect(interrupted.length).toBeLessThanOrEqual(8);
		const { posts } = await petPosts();
		expect(posts.length).toBeLessThanOrEqual(24 + interrupted.length);
		for (const [owner, names] of namesByOwner(posts)) expect([...new Set(names)]).toEqual([1, 2, 3].map((n) => `${owner}-${n}`));
	}, 60_000);
});
