import { describe, expect, it } from "vitest";
import type { ActionOutcome } from "../../src/components/types";
import { capacity, describeSlowDown, freshPace, MAX_FLOW_HOLD_MS, slowDown, speedUp } from "../../src/delivery/backpressure";
import { decideAfterAttempt } from "../../src/delivery/next-step";
import { decideGrant, grantBucket, grantTokens, sliceGrants } from "../../src/delivery/rate-window";
import { DEFAULT_RETRY_POLICY } from "../../src/delivery/retry-policy";
import { laneFor, MAX_SHARDS, NO_KEY_LANE, routeFor, shardCount, shardName, stableHash } from "../../src/delivery/shards";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const request = { method: "POST", url: "http://petstore.test/v2/pet", headers: {}, body: {} };
const answer = (status: number, retryAfter: string | null = null): ActionOutcome =>
	status < 300
		? { kind: "succeeded", request, response: { status, body: {} } }
		: status === 400
			? { kind: "terminal", request, response: { status, body: {} }, error: `Petstore answered ${status}` }
			: { kind: "retryable", request, response: { status, body: {} }, error: `Petstore answered ${status}`, retryAfter };
const half = () => 0.5;

describe("decideAfterAttempt: the delivery state machine", () => {
	it("succeeds on 2xx and fails at once on a terminal answer, without slowing the flow", () => {
		expect(decideAfterAttempt(answer(200), 1, DEFAULT_RETRY_POLICY, NOW)).toEqual({ next: { kind: "succeed" }, slowDown: null });
		expect(decideAfterAttempt(answer(400), 1, DEFAULT_RETRY_POLICY, NOW)).toEqual({
			next: { kind: "fail", error: "Petstore answered 400" },
			slowDown: null,
		});
	});

	it("retries a 500 at now + backoff, and the flow keeps its pace", () => {
		const { next, slowDown: signal } = decideAfterAttempt(answer(500), 2, DEFAULT_RETRY_POLICY, NOW, half);
		// Full jitter at 0.5 of the ceiling 10 s · 2^(2−1) = 20 s.
		expect(next).toEqual({ kind: "retry", atMs: NOW + 10_000, error: "Petstore answered 500" });
		expect(signal).toBeNull();
	});

	it("turns a 429 or 503 into a slow-down of the whole flow, carrying Retry-After", () => {
		const throttled = decideAfterAttempt(answer(429, "30"), 1, DEFAULT_RETRY_POLICY, NOW, half);
		expect(throttled.slowDown).toEqual({ status: 429, retryAfterMs: 30_000 });
		// The execution itself waits at least the Retry-After.
		expect(throttled.next).toEqual({ kind: "retry", atMs: NOW + 30_000, error: "Petstore answered 429" });
		expect(decideAfterAttempt(answer(503), 1, DEFAULT_RETRY_POLICY, NOW, half).slowDown).toEqual({ status: 503, retryAfterMs: null });
		expect(decideAfterAttempt(answer(502), 1, DEFAULT_RETRY_POLICY, NOW, half).slowDown).toBeNull();
	});

	it("fails after the attempt budget, saying so, and still reports the slow-down", () => {
		const last = decideAfterAttempt(answer(503), 3, { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 }, NOW);
		expect(last.next).toEqual({ kind: "fail", error: "Petstore answered 503 (gave up after 3 attempts)" });
		expect(last.slowDown).toEqual({ status: 503, retryAfterMs: null });
	});
});

describe("backpressure (AIMD)", () => {
	it("halves the limit on each slow-down, never below 1, and holds for Retry-After", () => {
		let pace = freshPace(8);
		pace = slowDown(pace, 8, NOW, null);
		expect(pace).toEqual({ limit: 4, successes: 0, holdUntil: 0 });
		pace = slowDown(pace, 8, NOW, 5_000);
		expect(pace).toEqual({ limit: 2, successes: 0, holdUntil: NOW + 5_000 });
		pace = slowDown(slowDown(pace, 8, NOW, null), 8, NOW, null);
		expect(pace.limit).toBe(1);
		// A shorter Retry-After never shortens a hold already in place.
		expect(slowDown(pace, 8, NOW, 1_000).holdUntil).toBe(NOW + 5_000);
	});

	it("caps the flow-wide hold", () => {
		expect(slowDown(freshPace(4), 4, NOW, 6 * 60 * 60_000).holdUntil).toBe(NOW + MAX_FLOW_HOLD_MS);
	});

	it("grows back by one after as many successes as the current limit, up to the ceiling", () => {
		let pace = { limit: 2, successes: 0, holdUntil: 0 };
		const limits: number[] = [];
		for (let i = 0; i < 12; i++) {
			pace = speedUp(pace, 5);
			limits.push(pace.limit);
		}
		expect(limits).toEqual([2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5]);
	});

	it("gives the free slots, none while paused or held", () => {
		const pace = { limit: 3, successes: 0, holdUntil: 0 };
		expect(capacity(pace, 10, 1, false, NOW)).toEqual({ free: 2, wakeAt: null });
		expect(capacity(pace, 2, 1, false, NOW)).toEqual({ free: 1, wakeAt: null });
		expect(capacity(pace, 10, 1, true, NOW)).toEqual({ free: 0, wakeAt: null });
		expect(capacity({ ...pace, holdUntil: NOW + 10 }, 10, 0, false, NOW)).toEqual({ free: 0, wakeAt: NOW + 10 });
	});

	it("says when and why the flow slowed down", () => {
		const before = freshPace(8);
		const after = slowDown(before, 8, NOW, 5_000);
		expect(describeSlowDown(before, after, NOW)).toBe(
			"the flow slows down to 4 deliveries at once (was 8) and holds until 2026-03-01T12:00:05.000Z (Retry-After)",
		);
	});
});

describe("rate window", () => {
	const limit = { requests: 5, perSeconds: 1 };

	it("grants at most `requests` per window and says when more free up", () => {
		const first = grantTokens([], NOW, 3, limit);
		expect(first).toMatchObject({ granted: 3, retryAt: null });
		const second = grantTokens(first.grants, NOW + 400, 4, limit);
		expect(second).toMatchObject({ granted: 2, retryAt: NOW + 1000 });
		const third = grantTokens(second.grants, NOW + 999, 1, limit);
		expect(third.granted).toBe(0);
		// The first grant leaves the window: its three tokens are free again, the second's two are not.
		expect(grantTokens(third.grants, NOW + 1000, 5, limit)).toMatchObject({ granted: 3, retryAt: NOW + 1400 });
	});

	it("never grants more than the limit in any window, however it is asked", () => {
		let grants: { at: number; count: number }[] = [];
		const log: number[] = [];
		for (let t = 0; t < 5_000; t += 37) {
			const result = grantTokens(grants, NOW + t, 1 + (t % 4), limit);
			grants = result.grants;
			for (let i = 0; i < result.granted; i++) log.push(NOW + t);
		}
		for (const start of log) expect(log.filter((at) => at >= start && at < start + 1000).length).toBeLessThanOrEqual(5);
		expect(log.length).toBeGreaterThanOrEqual(25);
	});
});

describe("rate window smoothing", () => {
	it("spreads a window's grants over its tenths: a released backlog does not start a whole second's calls at once", () => {
		const limit = { requests: 50, perSeconds: 1 };
		expect(sliceGrants(limit)).toBe(5);
		const first = grantTokens([], NOW, 32, limit);
		expect(first).toMatchObject({ granted: 5, retryAt: NOW + 100 });
		expect(grantTokens(first.grants, NOW + 99, 8, limit)).toMatchObject({ granted: 0, retryAt: NOW + 100 });
		expect(grantTokens(first.grants, NOW + 100, 8, limit).granted).toBe(5);
	});

	it("keeps the window's limit when asked all the time, and reaches it", () => {
		const limit = { requests: 50, perSeconds: 1 };
		let grants: { at: number; count: number }[] = [];
		const log: number[] = [];
		for (let t = 0; t < 3_000; t += 7) {
			const result = grantTokens(grants, NOW + t, 8, limit);
			grants = result.grants;
			for (let i = 0; i < result.granted; i++) log.push(NOW + t);
		}
		for (const start of log) {
			expect(log.filter((at) => at >= start && at < start + 1000).length).toBeLessThanOrEqual(50);
			expect(log.filter((at) => at >= start && at < start + 100).length).toBeLessThanOrEqual(5);
		}
		expect(log.length).toBeGreaterThanOrEqual(145);
	});

	it("does not spread small limits: three calls an hour may start together", () => {
		expect(sliceGrants({ requests: 3, perSeconds: 3600 })).toBe(3);
		expect(grantTokens([], NOW, 8, { requests: 3, perSeconds: 3600 })).toMatchObject({ granted: 3, retryAt: NOW + 3_600_000 });
	});
});

describe("rate window storage", () => {
	it("decides from the window's total and its oldest grant", () => {
		const limit = { requests: 10, perSeconds: 60 };
		expect(decideGrant(4, NOW - 1000, NOW, 5, limit)).toEqual({ granted: 5, retryAt: null });
		expect(decideGrant(8, NOW - 1000, NOW, 5, limit)).toEqual({ granted: 2, retryAt: NOW - 1000 + 60_000 });
		expect(decideGrant(0, null, NOW, 20, limit)).toEqual({ granted: 10, retryAt: NOW + 60_000 });
	});

	it("stamps a grant with the end of its bucket: exact for 1 s windows, at most 1,000 buckets for an hour", () => {
		expect(grantBucket(NOW + 1, { requests: 5, perSeconds: 1 })).toBe(NOW + 1);
		const hour = { requests: 5, perSeconds: 3600 };
		const stamp = grantBucket(NOW + 1, hour);
		expect(stamp).toBeGreaterThanOrEqual(NOW + 1);
		expect(stamp - (NOW + 1)).toBeLessThan(3600);
		const buckets = new Set(Array.from({ length: 3600 }, (_, s) => grantBucket(NOW + s * 1000, hour)));
		expect(buckets.size).toBeLessThanOrEqual(1001);
	});
});

describe("lanes and shards", () => {
	const flowId = "flow1";

	it("puts ordering flow in one lane of the main object with concurrency 1", () => {
		const plan = { ordering: "flow" as const, concurrency: 1, rateLimit: null };
		expect(routeFor(flowId, plan, laneFor("flow", null, "id1"))).toEqual({
			object: flowId,
			lane: NO_KEY_LANE,
			concurrency: 1,
			rateLimit: null,
			ordered: true,
		});
	});

	it("routes a key to one shard every time and executions without a key to the no-key lane", () => {
		const plan = { ordering: "key" as const, concurrency: 10, rateLimit: null };
		const lane = laneFor("key", "order-42", "id1");
		expect(routeFor(flowId, plan, lane)).toEqual(routeFor(flowId, plan, laneFor("key", "order-42", "id2")));
		expect(laneFor("key", null, "id1")).toBe(NO_KEY_LANE);
		const objects = new Set(Array.from({ length: 200 }, (_, i) => routeFor(flowId, plan, laneFor("key", `k${i}`, "x")).object));
		expect(objects).toEqual(new Set(Array.from({ length: MAX_SHARDS }, (_, i) => shardName(flowId, MAX_SHARDS, i))));
	});

	it("routes ordering none by the execution id, unordered", () => {
		const plan = { ordering: "none" as const, concurrency: 8, rateLimit: { requests: 5, perSeconds: 1 } };
		const route = routeFor(flowId, plan, laneFor("none", null, "abc"));
		expect(route).toMatchObject({ lane: "id:abc", ordered: false, rateLimit: plan.rateLimit });
		expect(route.object).toBe(shardName(flowId, 4, stableHash("id:abc") % 4));
	});

	it("splits the concurrency between shards so the shares add up to it exactly", () => {
		for (const concurrency of [1, 2, 3, 4, 5, 10, 32, 99, 100]) {
			const plan = { ordering: "none" as const, concurrency, rateLimit: null };
			const count = shardCount(plan);
			const shares = new Map<string, number>();
			for (let i = 0; shares.size < count && i < 10_000; i++) {
				const route = routeFor(flowId, plan, laneFor("none", null, `id${i}`));
				shares.set(route.object, route.concurrency);
			}
			expect(shares.size).toBe(count);
			expect([...shares.values()].reduce((a, b) => a + b, 0)).toBe(concurrency);
			expect(Math.min(...shares.values())).toBeGreaterThanOrEqual(1);
		}
	});

	it("keeps a one-shard layout in the main object", () => {
		expect(shardName(flowId, 1, 0)).toBe(flowId);
		expect(routeFor(flowId, { ordering: "key", concurrency: 1, rateLimit: null }, "key:a").object).toBe(flowId);
	});
});
