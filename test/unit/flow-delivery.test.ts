import { describe, expect, it } from "vitest";
import { totalCounters } from "../../src/api/flows";
import { flowStatuses } from "../../src/db/schema";
import { deliverySchema, resolveDelivery } from "../../src/flows/definition";
import { computeDeliveryKey, keyFromValue } from "../../src/flows/delivery-key";
import { type FlowAction, transition } from "../../src/flows/lifecycle";

/** Issue 11's pure decisions: the delivery settings, the ordering key, the flow's lifecycle, the totals. */

describe("resolveDelivery", () => {
	it("fills the defaults: flow ordering, one at a time; key and none at concurrency 10", () => {
		expect(resolveDelivery(undefined)).toEqual({ ordering: "flow", key: null, concurrency: 1, rateLimit: null });
		expect(resolveDelivery({ ordering: "none" })).toEqual({ ordering: "none", key: null, concurrency: 10, rateLimit: null });
		expect(resolveDelivery({ ordering: "key", key: "petname", concurrency: 32, rateLimit: { requests: 50, perSeconds: 1 } })).toEqual({
			ordering: "key",
			key: "petname",
			concurrency: 32,
			rateLimit: { requests: 50, perSeconds: 1 },
		});
	});
});

describe("deliverySchema", () => {
	const messages = (value: unknown) => {
		const parsed = deliverySchema.safeParse(value);
		return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
	};
	it("accepts each ordering with what it needs", () => {
		expect(messages({})).toEqual([]);
		expect(messages({ ordering: "flow", rateLimit: { requests: 50, perSeconds: 1 } })).toEqual([]);
		expect(messages({ ordering: "key", key: '_headers."x-shop-id"', concurrency: 100 })).toEqual([]);
		expect(messages({ ordering: "none", concurrency: 1 })).toEqual([]);
	});
	it("says what is wrong and where", () => {
		expect(messages({ ordering: "key" })).toEqual(['key: Ordering "key" needs a key expression, e.g. petname or _headers."x-shop-id"']);
		expect(messages({ ordering: "key", key: "  " })[0]).toMatch(/^key: The key expression is empty/);
		expect(messages({ ordering: "none", concurrency: 101 })).toEqual(["concurrency: Concurrency is at most 100"]);
		expect(messages({ ordering: "none", concurrency: 2.5 })).toEqual(["concurrency: Concurrency is a whole number"]);
		expect(messages({ concurrency: 4 })[0]).toMatch(/^concurrency: Ordering "flow" delivers one execution at a time/);
		expect(messages({ ordering: "none", key: "petname" })).toEqual(['key: A key applies only to ordering "key", not "none": remove it']);
		expect(messages({ rateLimit: { requests: 0, perSeconds: 1 } })[0]).toMatch(/^rateLimit.requests: /);
	});
});

describe("the ordering key", () => {
	it("keeps strings, keys other values by their JSON, and sends nothing to the no-key lane", () => {
		expect(keyFromValue("Gromit")).toBe("Gromit");
		expect(keyFromValue(7)).toBe("7");
		expect(keyFromValue(true)).toBe("true");
		expect(keyFromValue({ a: 1 })).toBe('{"a":1}');
		for (const none of [undefined, null, ""]) expect(keyFromValue(none)).toBeNull();
	});
	it("evaluates under the mapping sandbox; a failing expression is the no-key lane with its reason", async () => {
		expect(await computeDeliveryKey("_headers.`x-shop-id`", { _headers: { "x-shop-id": "s1" } })).toEqual({ key: "s1", error: null });
		expect(await computeDeliveryKey("missing", { petname: "x" })).toEqual({ key: null, error: null });
		const regex = await computeDeliveryKey("$match(petname, /x/)", { petname: "x" });
		expect(regex.key).toBeNull();
		expect(regex.error).toMatch(/egular expression/);
	});
});

describe("transition", () => {
	const outcome = (status: (typeof flowStatuses)[number], action: FlowAction) => {
		const t = transition(status, true, action);
		return t.ok ? `${t.status}/${t.deliveries}` : "409";
	};
	it("is this table", () => {
		const table = Object.fromEntries(
			flowStatuses.map((status) => [status, (["start", "stop", "pause", "resume"] as const).map((a) => outcome(status, a)).join(" ")]),
		);
		expect(table).toEqual({
			draft: "running/unchanged stopped/unchanged 409 409",
			running: "running/unchanged stopped/unchanged paused/pause running/resume",
			paused: "running/resume 409 paused/pause running/resume",
			stopped: "running/unchanged stopped/unchanged 409 409",
		});
	});
	it("refuses everything before the first publish", () => {
		for (const action of ["start", "stop", "pause", "resume"] as const) {
			expect(transition("draft", false, action)).toEqual({ ok: false, message: "Flow has no published version" });
		}
	});
});

describe("totalCounters", () => {
	const flow = (over: Partial<Parameters<typeof totalCounters>[0][number]>) => ({
		received: 0,
		succeeded: 0,
		failed: 0,
		inFlight: 0,
		authFailures: 0,
		handshakes: 0,
		queued: 0,
		oldestQueuedAt: null,
		paused: false,
		...over,
	});
	it("adds every counter and keeps the oldest queued execution", () => {
		expect(
			totalCounters([
				flow({ received: 3, succeeded: 1, queued: 2, oldestQueuedAt: 2000, inFlight: 1 }),
				flow({ received: 5, failed: 1, authFailures: 2, queued: 4, oldestQueuedAt: 1000, paused: true }),
				flow({ received: 1, succeeded: 1, handshakes: 1 }),
			]),
		).toEqual({ received: 9, succeeded: 2, failed: 1, inFlight: 1, authFailures: 2, handshakes: 1, queued: 6, oldestQueuedAt: 1000 });
		expect(totalCounters([])).toEqual({
			received: 0,
			succeeded: 0,
			failed: 0,
			inFlight: 0,
			authFailures: 0,
			handshakes: 0,
			queued: 0,
			oldestQueuedAt: null,
		});
	});
});
