/**
 * @module
 * How fast a flow object may deliver right now: its share of the concurrency, cut in half by each
 * 429 or 503 from the Petstore and grown back by one after as many successes as the current limit
 * (additive increase, multiplicative decrease: a busy destination gets relief at once and the
 * flow finds its pace again step by step), and held entirely until a `Retry-After` has passed.
 * Pure: the object stores the state and asks these functions.
 */

/** A Retry-After holds the whole flow at most this long; the execution itself still honours it in full. */
export const MAX_FLOW_HOLD_MS = 10 * 60_000;

export interface Pace {
	/** Executions this object may have in flight, 1..ceiling. */
	limit: number;
	/** Successes since the limit last changed. */
	successes: number;
	/** No new delivery starts before this (epoch ms). */
	holdUntil: number;
}

export const freshPace = (ceiling: number): Pace => ({ limit: ceiling, successes: 0, holdUntil: 0 });

/** A 429 or 503 answer (here or in another object of the flow). */
export function slowDown(pace: Pace, ceiling: number, nowMs: number, retryAfterMs: number | null): Pace {
	const hold = retryAfterMs === null ? 0 : nowMs + Math.min(retryAfterMs, MAX_FLOW_HOLD_MS);
	return { limit: Math.max(1, Math.floor(Math.min(pace.limit, ceiling) / 2)), successes: 0, holdUntil: Math.max(pace.holdUntil, hold) };
}

export function speedUp(pace: Pace, ceiling: number): Pace {
	const limit = Math.min(pace.limit, ceiling);
	if (limit >= ceiling) return { ...pace, limit: ceiling, successes: 0 };
	const successes = pace.successes + 1;
	return successes >= limit ? { ...pace, limit: limit + 1, successes: 0 } : { ...pace, limit, successes };
}

export interface Capacity {
	/** How many more executions may start now. */
	free: number;
	/** When to look again if nothing may start now because of a hold (epoch ms), else null. */
	wakeAt: number | null;
}

export function capacity(pace: Pace, ceiling: number, running: number, paused: boolean, nowMs: number): Capacity {
	if (paused) return { free: 0, wakeAt: null };
	if (pace.holdUntil > nowMs) return { free: 0, wakeAt: pace.holdUntil };
	return { free: Math.max(0, Math.min(pace.limit, ceiling) - running), wakeAt: null };
}

/** The run-log and tail wording of a slow-down, e.g. "the flow slows down to 4 deliveries at once (was 8) and holds until 12:00:05Z (Retry-After)". */
export function describeSlowDown(before: Pace, after: Pace, nowMs: number): string {
	const limit = after.limit === before.limit ? `stays at ${after.limit}` : `slows down to ${after.limit}`;
	const hold = after.holdUntil > nowMs ? ` and holds until ${new Date(after.holdUntil).toISOString()} (Retry-After)` : "";
	return `the flow ${limit} deliveries at once (was ${before.limit})${hold}`;
}
