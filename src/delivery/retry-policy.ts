/**
 * @module
 * When to try an action again: exponential backoff with full jitter, Retry-After honoured.
 * Pure functions, so the schedule can be tested without a clock.
 */

export interface RetryPolicy {
	maxAttempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
}

/** 10 attempts whose backoff ceilings add up to about an hour (10 s doubling, capped at 20 min). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 10_000, maxDelayMs: 20 * 60_000 };

/** A Retry-After longer than this is not honoured as is: the execution would look stuck. */
export const MAX_RETRY_AFTER_MS = 6 * 60 * 60_000;

/** Retry-After in seconds or as an HTTP-date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
	if (!value) return null;
	const trimmed = value.trim();
	if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
	const date = Date.parse(trimmed);
	if (Number.isNaN(date)) return null;
	return Math.min(Math.max(0, date - nowMs), MAX_RETRY_AFTER_MS);
}

/** Full jitter: uniform in [0, min(max, base·2^(attempt−1))]. `attempt` is the attempt that just failed, from 1. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
	const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
	return Math.floor(random() * ceiling);
}

export type NextStep = { action: "retry"; delayMs: number } | { action: "fail"; reason: string };

/** After a retryable failure of attempt `attempt`: another try, or give up. */
export function afterRetryableFailure(
	attempt: number,
	policy: RetryPolicy,
	retryAfterMs: number | null,
	random: () => number = Math.random,
): NextStep {
	if (attempt >= policy.maxAttempts) return { action: "fail", reason: `gave up after ${attempt} attempts` };
	const backoff = backoffDelayMs(attempt, policy, random);
	return { action: "retry", delayMs: retryAfterMs === null ? backoff : Math.max(retryAfterMs, backoff) };
}

export function resolvePolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
	return { ...DEFAULT_RETRY_POLICY, ...overrides };
}

/**
 * Before an action is called, Hookflow's own infrastructure can fail (D1 unreadable, a key that
 * does not unseal). Nothing was sent, so no attempt is spent, but the wait is bounded and visible:
 * 5 s doubling to 5 min, and after MAX_INFRASTRUCTURE_FAILURES (about two hours) the execution fails.
 */
export const INFRASTRUCTURE_RETRY = { baseDelayMs: 5_000, maxDelayMs: 5 * 60_000, maxFailures: 30 } as const;

/** After the `failures`-th infrastructure failure (from 1) of one execution: wait, or give up. */
export function afterInfrastructureFailure(failures: number): NextStep {
	if (failures >= INFRASTRUCTURE_RETRY.maxFailures)
		return { action: "fail", reason: `gave up after ${failures} tries to prepare the call; nothing was sent` };
	return {
		action: "retry",
		delayMs: Math.min(INFRASTRUCTURE_RETRY.maxDelayMs, INFRASTRUCTURE_RETRY.baseDelayMs * 2 ** (failures - 1)),
	};
}
