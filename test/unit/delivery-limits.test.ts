import { describe, expect, it } from "vitest";
import { sameLayout, versionsLiveSince } from "../../src/delivery/known-ids";
import { CALL_START_GRACE_MS, CALL_TRANSIT_MARGIN_MS, callMayStart, grantStamp } from "../../src/delivery/rate-window";
import { concurrencyUnder, shardLayout, shardName } from "../../src/delivery/shards";
import { MAX_KEY_LENGTH, storedKey } from "../../src/flows/delivery-key";

describe("ordering keys as stored", () => {
	it("keeps keys up to the cap and hashes longer ones, the same key to the same hash", async () => {
		expect(await storedKey("Gromit")).toBe("Gromit");
		const atCap = "k".repeat(MAX_KEY_LENGTH);
		expect(await storedKey(atCap)).toBe(atCap);
		const long = await storedKey(`${atCap}!`);
		expect(long).toMatch(/^sha256:[0-9a-f]{64}$/);
		expect(await storedKey(`${atCap}!`)).toBe(long);
		expect(await storedKey(`${atCap}?`)).not.toBe(long);
	});
});

describe("published settings for existing objects", () => {
	const flowId = "f1";
	it("reads a shard's layout from its name", () => {
		expect(shardLayout(flowId, shardName(flowId, 4, 3))).toEqual({ index: 3, count: 4 });
		expect(shardLayout(flowId, flowId)).toBeNull();
		expect(shardLayout(flowId, shardName("other", 4, 3))).toBeNull();
	});

	it("splits the new concurrency over each object's own layout, never below one", () => {
		const shares = (concurrency: number, count: number) =>
			Array.from({ length: count }, (_, i) => concurrencyUnder(flowId, shardName(flowId, count, i), { ordering: "key", concurrency }));
		expect(shares(4, 4)).toEqual([1, 1, 1, 1]);
		expect(shares(10, 4)).toEqual([3, 3, 2, 2]);
		// 100 → 2 while four shards of the old layout still hold executions: one each, not 25.
		expect(shares(2, 4)).toEqual([1, 1, 1, 1]);
		expect(concurrencyUnder(flowId, flowId, { ordering: "flow", concurrency: 1 })).toBe(1);
		expect(concurrencyUnder(flowId, flowId, { ordering: "none", concurrency: 7 })).toBe(7);
	});
});

describe("rate-limit grants are counted at the latest start of their call", () => {
	const limit = { requests: 10, perSeconds: 1 };
	it("stores a grant at the latest moment its call may arrive and lets its call start only until then", () => {
		expect(grantStamp(1_000, limit)).toBe(1_000 + CALL_START_GRACE_MS + CALL_TRANSIT_MARGIN_MS);
		expect(callMayStart(1_000, 1_000 + CALL_START_GRACE_MS)).toBe(true);
		expect(callMayStart(1_000, 1_001 + CALL_START_GRACE_MS)).toBe(false);
	});
});

describe("layouts a known id may have gone to", () => {
	const day = 24 * 60 * 60_000;
	const now = 10 * day;
	it("counts a version as live until its successor was published", () => {
		const versions = [
			{ version: 1, createdAt: now - 5 * day },
			{ version: 2, createdAt: now - 2 * day },
			{ version: 3, createdAt: now - 3_600_000 },
			{ version: 4, createdAt: now - 60_000 },
		];
		// v2 stopped being live an hour ago, v1 two days ago.
		expect(versionsLiveSince(versions, now - day)).toEqual([2, 3, 4]);
		expect(versionsLiveSince(versions.slice(0, 1), now - day)).toEqual([1]);
		expect(versionsLiveSince([], now - day)).toEqual([]);
	});

	it("tells layouts apart by ordering, shard count and key, not by the rest", () => {
		const plan = (ordering: "flow" | "key" | "none", concurrency: number, key: string | null = null) => ({
			ordering,
			concurrency,
			key,
			rateLimit: null,
		});
		expect(sameLayout(plan("key", 8, "owner"), plan("key", 12, "owner"))).toBe(true);
		expect(sameLayout(plan("key", 2, "owner"), plan("key", 3, "owner"))).toBe(false);
		expect(sameLayout(plan("key", 4, "owner"), plan("key", 4, "petname"))).toBe(false);
		expect(sameLayout(plan("flow", 1), plan("key", 1, "owner"))).toBe(false);
		expect(sameLayout(plan("none", 4), plan("key", 4, "owner"))).toBe(false);
	});
});
