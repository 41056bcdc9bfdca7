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

/**
 * The run-log and tail wording of a slow-down, e.g. "the flow slows down to 4 deliveries at once
 * (was 8) and holds until 12:00:05Z (Retry-After)" for the Petstore (the tutorial's wording), or
 * "calls to https://crm.example slow down to 4 at once (was 8) …" for another destination.
 */
export function describeSlowDown(before: Pace, after: Pace, nowMs: number, destination?: string): string {
	if (destination) {
		const limit = after.limit === before.limit ? `stay at ${after.limit}` : `slow down to ${after.limit}`;
		const hold = after.holdUntil > nowMs ? ` and hold until ${new Date(after.holdUntil).toISOString()} (Retry-After)` : "";
		return `calls to ${destination} ${limit} at once (was ${before.limit})${hold}`;
	}
	const limit = after.limit === before.limit ? `stays at ${after.limit}` : `slows down to ${after.limit}`;
	const hold = after.holdUntil > nowMs ? ` and holds until ${new Date(after.holdUntil).toISOString()} (Retry-After)` : "";
	return `the flow ${limit} deliveries at once (was ${before.limit})${hold}`;
}

/**
 * The pace of a flow object per destination origin (issue 17): a 429 from a slow CRM slows the
 * calls to that CRM, not the Petstore's. Stored as one meta value: the top-level fields are the
 * strictest of the origins' (what the dashboard and `flow.slowed` show), `origins` each one's own.
 */
export interface FlowPace extends Pace {
	origins?: Record<string, Pace>;
}

export const originPace = (pace: FlowPace, origin: string, ceiling: number): Pace => pace.origins?.[origin] ?? freshPace(ceiling);

function withOrigin(pace: FlowPace, origin: string, next: Pace, ceiling: number): FlowPace {
	const origins = { ...pace.origins, [origin]: next };
	// An origin back at full speed and not held needs no entry.
	if (next.limit >= ceiling && next.successes === 0 && next.holdUntil === 0) delete origins[origin];
	const all = Object.values(origins);
	return {
		limit: all.length > 0 ? Math.min(...all.map((p) => p.limit)) : ceiling,
		successes: 0,
		holdUntil: all.length > 0 ? Math.max(...all.map((p) => p.holdUntil)) : 0,
		...(all.length > 0 ? { origins } : {}),
	};
}

export function slowDownOrigin(pace: FlowPace, origin: string, ceiling: number, nowMs: number, retryAfterMs: number | null): FlowPace {
	return withOrigin(pace, origin, slowDown(originPace(pace, origin, ceiling), ceiling, nowMs, retryAfterMs), ceiling);
}

export function speedUpOrigin(pace: FlowPace, origin: string, ceiling: number): FlowPace {
	if (!pace.origins?.[origin]) return pace;
	return withOrigin(pace, origin, speedUp(originPace(pace, origin, ceiling), ceiling), ceiling);
}

/** Whether a call to `origin` may start now, with `running` calls to it under way; else when to look again. */
export function originRoom(
	pace: FlowPace,
	origin: string,
	ceiling: number,
	running: number,
	nowMs: number,
): { ok: true } | { ok: false; wakeAt: number } {
	const own = originPace(pace, origin, ceiling);
	if (own.holdUntil > nowMs) return { ok: false, wakeAt: own.holdUntil };
	// A call finishing wakes the loop; this is only the latest time to look again.
	if (running >= Math.min(own.limit, ceiling)) return { ok: false, wakeAt: nowMs + 100 };
	return { ok: true };
}
