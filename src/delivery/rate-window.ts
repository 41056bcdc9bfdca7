/**
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

export function grantTokens(previous: readonly Grant[], nowMs: number, want: number, limit: RateLimit): GrantResult {
	const windowMs = limit.perSeconds * 1000;
	const grants = previous.filter((g) => g.at > nowMs - windowMs);
	const used = grants.reduce((sum, g) => sum + g.count, 0);
	const granted = Math.max(0, Math.min(want, limit.requests - used));
	if (granted > 0) grants.push({ at: nowMs, count: granted });
	if (granted >= want) return { granted, grants, retryAt: null };
	// The oldest grant leaves the window first and frees its tokens.
	const oldest = grants.reduce((min, g) => Math.min(min, g.at), Number.POSITIVE_INFINITY);
	return { granted, grants, retryAt: oldest + windowMs };
}
