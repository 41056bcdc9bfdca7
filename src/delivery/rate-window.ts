/**
 * @module
 * A flow's destination rate limit, `{requests, perSeconds}`: at most `requests` calls start in any
 * window of `perSeconds` seconds (a sliding log of grants, exact rather than a token bucket's
 * average, which lets twice the limit through across a window boundary). Objects ask for tokens
 * just before they start calls; the flow's main object keeps the log, so the limit holds across
 * shards. Pure.
 */

export interface Grant {
	at: number;
	count: number;
}

export interface RateLimit {
	requests: number;
	perSeconds: number;
}

export interface GrantResult {
	granted: number;
	/** The grants still inside the window, this one included. */
	grants: Grant[];
	/** When more tokens free up, if fewer than wanted were granted (epoch ms), else null. */
	retryAt: number | null;
}

/**
 * Grants are stored in at most 1,000 buckets per window (a 1 s window: one per millisecond, an
 * hour: one per 3.6 s), each stamped with its end, so a grant counts as made at the latest moment
 * of its bucket: it leaves the window no earlier than it really does, never letting more through.
 */
export function grantBucket(nowMs: number, limit: RateLimit): number {
	const width = limit.perSeconds;
	return Math.ceil(nowMs / width) * width;
}

/**
 * The decision from what the window holds: `used` tokens granted since `nowMs − perSeconds`, the
 * oldest of those grants at `oldestAt` (null when none); storage asks with two aggregates over its
 * buckets (grantBucket).
 */
export function decideGrant(
	used: number,
	oldestAt: number | null,
	nowMs: number,
	want: number,
	limit: RateLimit,
): { granted: number; retryAt: number | null } {
	const granted = Math.max(0, Math.min(want, limit.requests - used));
	if (granted >= want) return { granted, retryAt: null };
	// The oldest grant leaves the window first and frees its tokens; with none before, the one made now is the oldest.
	return { granted, retryAt: (oldestAt ?? nowMs) + limit.perSeconds * 1000 };
}

/** The same decision over a list of grants: pruned to the window, this one added. */
export function grantTokens(previous: readonly Grant[], nowMs: number, want: number, limit: RateLimit): GrantResult {
	const grants = previous.filter((g) => g.at > nowMs - limit.perSeconds * 1000);
	const used = grants.reduce((sum, g) => sum + g.count, 0);
	const oldest = grants.length === 0 ? null : Math.min(...grants.map((g) => g.at));
	const { granted, retryAt } = decideGrant(used, oldest, nowMs, want, limit);
	if (granted > 0) grants.push({ at: nowMs, count: granted });
	return { granted, grants, retryAt };
}
