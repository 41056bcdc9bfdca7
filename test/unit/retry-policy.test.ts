import { describe, expect, it } from "vitest";
import {
	afterInfrastructureFailure,
	afterRetryableFailure,
	backoffDelayMs,
	DEFAULT_RETRY_POLICY,
	INFRASTRUCTURE_RETRY,
	MAX_RETRY_AFTER_MS,
	parseRetryAfter,
	type RetryPolicy,
	resolvePolicy,
} from "../../src/delivery/retry-policy";

const NOW_MS = Date.parse("2026-03-01T12:00:00Z");
const ALMOST_ONE = 1 - Number.EPSILON;
const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 5_000 };

describe("parseRetryAfter", () => {
	it("reads delay-seconds", () => {
		expect(parseRetryAfter("120", NOW_MS)).toBe(120_000);
		expect(parseRetryAfter(" 5 ", NOW_MS)).toBe(5_000);
		expect(parseRetryAfter("0", NOW_MS)).toBe(0);
	});

	it("reads an HTTP-date relative to now", () => {
		expect(parseRetryAfter("Sun, 01 Mar 2026 12:01:30 GMT", NOW_MS)).toBe(90_000);
	});

	it("treats a date in the past as now", () => {
		expect(parseRetryAfter("Sun, 01 Mar 2026 11:00:00 GMT", NOW_MS)).toBe(0);
	});

	it("caps a very long wait", () => {
		expect(parseRetryAfter("86400", NOW_MS)).toBe(MAX_RETRY_AFTER_MS);
		expect(parseRetryAfter("Thu, 01 Mar 2029 12:00:00 GMT", NOW_MS)).toBe(MAX_RETRY_AFTER_MS);
		expect(MAX_RETRY_AFTER_MS).toBe(6 * 60 * 60_000);
	});

	it.each([null, undefined, "", "soon", "later please", "NaN"])("gives null for %j", (value) => {
		expect(parseRetryAfter(value, NOW_MS)).toBeNull();
	});
});

describe("backoffDelayMs", () => {
	it("waits nothing when the random draw is 0", () => {
		for (let attempt = 1; attempt <= 10; attempt++) expect(backoffDelayMs(attempt, policy, () => 0)).toBe(0);
	});

	it("doubles the ceiling per attempt, from the base delay", () => {
		expect([1, 2, 3].map((attempt) => backoffDelayMs(attempt, policy, () => ALMOST_ONE))).toEqual([999, 1_999, 3_999]);
	});

	it("never exceeds maxDelayMs", () => {
		for (const attempt of [4, 5, 10, 50]) {
			const delay = backoffDelayMs(attempt, policy, () => ALMOST_ONE);
			expect(delay).toBeLessThan(policy.maxDelayMs);
			expect(delay).toBeGreaterThanOrEqual(policy.maxDelayMs - 1);
		}
	});

	it("spreads delays uniformly below the ceiling (full jitter)", () => {
		expect(backoffDelayMs(3, policy, () => 0.5)).toBe(2_000);
		expect(backoffDelayMs(3, policy, () => 0.25)).toBe(1_000);
	});

	it("stays within bounds with the real random source", () => {
		for (let i = 0; i < 200; i++) {
			const delay = backoffDelayMs(3, policy);
			expect(Number.isInteger(delay)).toBe(true);
			expect(delay).toBeGreaterThanOrEqual(0);
			expect(delay).toBeLessThan(4_000);
		}
	});
});

describe("afterRetryableFailure", () => {
	it("retries until maxAttempts and then gives up", () => {
		for (let attempt = 1; attempt < policy.maxAttempts; attempt++) {
			expect(afterRetryableFailure(attempt, policy, null, () => 0.5).action).toBe("retry");
		}
		expect(afterRetryableFailure(5, policy, null, () => 0.5)).toEqual({ action: "fail", reason: "gave up after 5 attempts" });
		expect(afterRetryableFailure(6, policy, null, () => 0.5).action).toBe("fail");
	});

	it("gives up at once when only one attempt is allowed", () => {
		expect(afterRetryableFailure(1, { ...policy, maxAttempts: 1 }, 1_000, () => 0.5)).toEqual({
			action: "fail",
			reason: "gave up after 1 attempts",
		});
	});

	it("uses the jittered backoff when there is no retry-after", () => {
		expect(afterRetryableFailure(2, policy, null, () => 0.5)).toEqual({ action: "retry", delayMs: 1_000 });
	});

	it("waits at least as long as retry-after asks", () => {
		expect(afterRetryableFailure(1, policy, 30_000, () => ALMOST_ONE)).toEqual({ action: "retry", delayMs: 30_000 });
		// A retry-after shorter than the backoff does not make the retry come sooner.
		expect(afterRetryableFailure(3, policy, 10, () => 0.5)).toEqual({ action: "retry", delayMs: 2_000 });
		expect(afterRetryableFailure(3, policy, 0, () => 0)).toEqual({ action: "retry", delayMs: 0 });
	});

	it("does not retry past maxAttempts even when retry-after is given", () => {
		expect(afterRetryableFailure(5, policy, 1_000).action).toBe("fail");
	});
});

describe("the default policy", () => {
	it("makes 10 attempts whose backoff ceilings add up to about an hour", () => {
		expect(DEFAULT_RETRY_POLICY.maxAttempts).toBe(10);
		let totalMs = 0;
		let attempt = 1;
		for (;;) {
			const next = afterRetryableFailure(attempt, DEFAULT_RETRY_POLICY, null, () => ALMOST_ONE);
			if (next.action === "fail") break;
			totalMs += next.delayMs;
			attempt++;
		}
		expect(attempt).toBe(10);
		expect(totalMs).toBeGreaterThan(50 * 60_000);
		expect(totalMs).toBeLessThan(70 * 60_000);
	});

	it("lets a flow override parts of the policy", () => {
		expect(resolvePolicy({ maxAttempts: 3 })).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 3 });
		expect(resolvePolicy(undefined)).toEqual(DEFAULT_RETRY_POLICY);
	});
});

describe("afterInfrastructureFailure (nothing was sent)", () => {
	it("waits 5 s doubling up to 5 min, then gives up after the bound", () => {
		expect(afterInfrastructureFailure(1)).toEqual({ action: "retry", delayMs: 5_000 });
		expect(afterInfrastructureFailure(2)).toEqual({ action: "retry", delayMs: 10_000 });
		expect(afterInfrastructureFailure(8)).toEqual({ action: "retry", delayMs: INFRASTRUCTURE_RETRY.maxDelayMs });
		const last = afterInfrastructureFailure(INFRASTRUCTURE_RETRY.maxFailures);
		expect(last).toEqual({
			action: "fail",
			reason: `gave up after ${INFRASTRUCTURE_RETRY.maxFailures} tries to prepare the call; nothing was sent`,
		});
	});

	it("bounds the total wait to about two hours", () => {
		let total = 0;
		for (let n = 1; n < INFRASTRUCTURE_RETRY.maxFailures; n++) {
			const next = afterInfrastructureFailure(n);
			if (next.action === "retry") total += next.delayMs;
		}
		expect(total).toBeGreaterThan(60 * 60_000);
		expect(total).toBeLessThan(3 * 60 * 60_000);
	});
});
