/**
 * @module
 * The delivery state machine's one decision: after an attempt, what happens to the execution
 * (succeed, retry at a time, fail) and whether the whole flow must slow down (a 429 or 503 says
 * the destination is overloaded, not just this request). Pure: the flow object stores and
 * schedules what this returns.
 */
import type { ActionOutcome } from "../components/types";
import { afterRetryableFailure, parseRetryAfter, type RetryPolicy } from "./retry-policy";

/** Answers that mean "the destination is overloaded": they slow the whole flow. */
export const SLOW_DOWN_STATUSES: readonly number[] = [429, 503];

export type NextStep = { kind: "succeed" } | { kind: "retry"; atMs: number; error: string } | { kind: "fail"; error: string };

export interface SlowDownSignal {
	status: number;
	/** The answer's Retry-After, in ms from the answer, or null. */
	retryAfterMs: number | null;
}

export interface Decision {
	next: NextStep;
	slowDown: SlowDownSignal | null;
}

export function decideAfterAttempt(
	outcome: ActionOutcome,
	attempt: number,
	policy: RetryPolicy,
	nowMs: number,
	random: () => number = Math.random,
): Decision {
	if (outcome.kind === "succeeded") return { next: { kind: "succeed" }, slowDown: null };
	if (outcome.kind === "terminal") return { next: { kind: "fail", error: outcome.error }, slowDown: null };
	const retryAfterMs = parseRetryAfter(outcome.retryAfter, nowMs);
	const status = outcome.response?.status ?? null;
	const slowDown = status !== null && SLOW_DOWN_STATUSES.includes(status) ? { status, retryAfterMs } : null;
	const step = afterRetryableFailure(attempt, policy, retryAfterMs, random);
	return {
		next:
			step.action === "retry"
				? { kind: "retry", atMs: nowMs + step.delayMs, error: outcome.error }
				: { kind: "fail", error: `${outcome.error} (${step.reason})` },
		slowDown,
	};
}
