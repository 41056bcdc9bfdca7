import { describe, expect, it } from "vitest";
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS, WindowCounter } from "../../src/hook/throttle";

const WINDOW_MS = 60_000;
const T0 = 1_700_000_000_000;

describe("WindowCounter", () => {
	it("counts additions within one window", () => {
		const counter = new WindowCounter();
		expect([1, 2, 3].map((i) => counter.add("a", T0 + i * 1_000, WINDOW_MS))).toEqual([1, 2, 3]);
	});

	it("does not hold back a key below its limit", () => {
		const counter = new WindowCounter();
		expect(counter.retryAfterSeconds("a", 3, T0, WINDOW_MS)).toBe(0);
		counter.add("a", T0, WINDOW_MS);
		counter.add("a", T0, WINDOW_MS);
		expect(counter.retryAfterSeconds("a", 3, T0 + 1, WINDOW_MS)).toBe(0);
	});

	it("holds back a key at its limit until the window ends", () => {
		const counter = new WindowCounter();
		for (let i = 0; i < 3; i++) counter.add("a", T0, WINDOW_MS);
		expect(counter.retryAfterSeconds("a", 3, T0, WINDOW_MS)).toBe(60);
		expect(counter.retryAfterSeconds("a", 3, T0 + 1_500, WINDOW_MS)).toBe(59);
		expect(counter.retryAfterSeconds("a", 3, T0 + WINDOW_MS - 1, WINDOW_MS)).toBe(1);
		expect(counter.retryAfterSeconds("a", 3, T0 + WINDOW_MS, WINDOW_MS)).toBe(0);
	});

	it("starts a new count when the window has passed", () => {
		const counter = new WindowCounter();
		for (let i = 0; i < 5; i++) counter.add("a", T0, WINDOW_MS);
		expect(counter.add("a", T0 + WINDOW_MS, WINDOW_MS)).toBe(1);
		expect(counter.retryAfterSeconds("a", 2, T0 + WINDOW_MS, WINDOW_MS)).toBe(0);
	});

	it("counts keys separately", () => {
		const counter = new WindowCounter();
		for (let i = 0; i < 3; i++) counter.add("flow-1\n203.0.113.1", T0, WINDOW_MS);
		expect(counter.retryAfterSeconds("flow-1\n203.0.113.1", 3, T0, WINDOW_MS)).toBeGreaterThan(0);
		expect(counter.retryAfterSeconds("flow-1\n203.0.113.2", 3, T0, WINDOW_MS)).toBe(0);
		expect(counter.retryAfterSeconds("flow-2\n203.0.113.1", 3, T0, WINDOW_MS)).toBe(0);
		expect(counter.add("flow-1\n203.0.113.2", T0, WINDOW_MS)).toBe(1);
	});

	it("never answers less than one second while held back", () => {
		const counter = new WindowCounter();
		counter.add("a", T0, 500);
		expect(counter.retryAfterSeconds("a", 1, T0 + 499, 500)).toBe(1);
	});

	it("keeps at most maxKeys keys, forgetting the oldest", () => {
		const counter = new WindowCounter(2);
		counter.add("a", T0, WINDOW_MS);
		counter.add("b", T0, WINDOW_MS);
		counter.add("c", T0, WINDOW_MS);
		// "a" was forgotten, so it starts over; "c" is still counted.
		expect(counter.add("a", T0, WINDOW_MS)).toBe(1);
		expect(counter.add("c", T0, WINDOW_MS)).toBe(2);
	});

	it("does not forget another key when an expired key starts a new window", () => {
		const counter = new WindowCounter(3);
		counter.add("blocked", T0, WINDOW_MS);
		counter.add("old", T0 + 10_000, WINDOW_MS);
		// "blocked" starts a fresh window and reaches its limit of 2; it is still the first key in the map.
		counter.add("blocked", T0 + 61_000, WINDOW_MS);
		counter.add("blocked", T0 + 61_000, WINDOW_MS);
		counter.add("new", T0 + 62_000, WINDOW_MS);
		expect(counter.retryAfterSeconds("blocked", 2, T0 + 62_000, WINDOW_MS)).toBe(59);
		// "old" starts over: that replaces its own entry, so no other key needs to make room.
		counter.add("old", T0 + 71_000, WINDOW_MS);
		expect(counter.retryAfterSeconds("blocked", 2, T0 + 71_000, WINDOW_MS)).toBe(50);
	});

	it("blocks a client after AUTH_FAILURE_LIMIT failures within the auth window", () => {
		const counter = new WindowCounter();
		const key = "flow\n198.51.100.7";
		for (let i = 0; i < AUTH_FAILURE_LIMIT - 1; i++) counter.add(key, T0, AUTH_FAILURE_WINDOW_MS);
		expect(counter.retryAfterSeconds(key, AUTH_FAILURE_LIMIT, T0, AUTH_FAILURE_WINDOW_MS)).toBe(0);
		counter.add(key, T0, AUTH_FAILURE_WINDOW_MS);
		expect(counter.retryAfterSeconds(key, AUTH_FAILURE_LIMIT, T0 + 10_000, AUTH_FAILURE_WINDOW_MS)).toBe(50);
		expect(counter.retryAfterSeconds(key, AUTH_FAILURE_LIMIT, T0 + AUTH_FAILURE_WINDOW_MS, AUTH_FAILURE_WINDOW_MS)).toBe(0);
	});
});
