/**
 * @module
 * A flow's destination rate limit, `{requests, perSeconds}`: at most `requests` calls start in any
 * window of `perSeconds` seconds (a sliding log of grants, exact rather than a token bucket's
 * average, which lets twice the limit through across a window boundary). Objects ask for tokens
 * just before they start calls; the flow's main object keeps the log, so the limit holds across
 * shards. Pure.
 *
 * Grants are also spread over the window: a limit above SPREAD_ABOVE grants at most a tenth of
 * itself (at least MIN_SLICE_GRANTS) in any tenth of the window, so a backlog released at once
 * does not start the whole second's calls in its first milliseconds (and start delays then bunch
 * them further). Smaller limits may start all their calls at once.
 */

/**
 * The promise is on call starts, not on grants: a call starts a little after its grant (loading,
 * the RPC back to a shard), by a varying amount, so grants kept to the limit let calls through
 * over it (44 in a second at 40/s). So a call that has not passed its last check within
 * CALL_START_GRACE_MS of its grant is not made (callMayStart; it waits for a new token, and the
 * one it missed goes back to the window, as does any token a turn ends without a call for), and a
 * grant is stored as if its call reached the destination at the latest moment it may: that grace
 * plus CALL_TRANSIT_MARGIN_MS for what still lies between the last check (just before the calls
 * leave) and the destination (the storage write the call waits for, the hop). Then any window
 * holds at most `requests` calls. The cost: a token is held that much longer than its window, so
 * a 1 s limit runs up to ~13 % under its rate. The margin is generous on purpose: with unused
 * tokens given back, a busy moment no longer leaves the window slack, so a call held up on its way
 * must not let one more through. Spreading (below) stays on grants, so the calls of any tenth of
 * the window come from grants of at most two tenths.
 */
export const CALL_START_GRACE_MS = 50;
export const CALL_TRANSIT_MARGIN_MS = 100;
const GRANT_HELD_MS = CALL_START_GRACE_MS + CALL_TRANSIT_MARGIN_MS;

/** Where a grant made at `nowMs` is stored: as the latest moment its call may reach the destination. */
export const grantStamp = (nowMs: number, limit: RateLimit): number => grantBucket(nowMs + GRANT_HELD_MS, limit);

/** How far grantStamp moves a grant; the slice (spreading) query moves back by as much. */
export const grantStampShift = (): number => GRANT_HELD_MS;

/** Whether a call granted at `grantedAt` (the main object's clock) may still start at `nowMs`. */
export const callMayStart = (grantedAt: number, nowMs: number): boolean => nowMs <= grantedAt + CALL_START_GRACE_MS;

/** The window is smoothed in this many slices. */
export const RATE_SLICES = 10;
const SPREAD_ABOVE = 20;
const MIN_SLICE_GRANTS = 5;

/** The most grants in any one slice (RATE_SLICES) of the window. */
export function sliceGrants(limit: RateLimit): number {
	return limit.requests <= SPREAD_ABOVE ? limit.requests : Math.max(MIN_SLICE_GRANTS, Math.ceil(limit.requests / RATE_SLICES));
}

/** The slice's length in ms. */
export const sliceMs = (limit: RateLimit): number => (limit.perSeconds * 1000) / RATE_SLICES;

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
	slice: { used: number; oldestAt: number | null } = { used: 0, oldestAt: null },
): { granted: number; retryAt: number | null } {
	const inWindow = limit.requests - used;
	const inSlice = sliceGrants(limit) - slice.used;
	const granted = Math.max(0, Math.min(want, inWindow, inSlice));
	if (granted >= want) return { granted, retryAt: null };
	// The oldest grant leaves the window (or the slice) first and frees its tokens; with none before, the one made now is the oldest.
	if (inSlice < inWindow) return { granted, retryAt: (slice.oldestAt ?? nowMs) + sliceMs(limit) };
	return { granted, retryAt: (oldestAt ?? nowMs) + limit.perSeconds * 1000 };
}

/** The same decision over a list of grants: pruned to the window, this one added. */
export function grantTokens(previous: readonly Grant[], nowMs: number, want: number, limit: RateLimit): GrantResult {
	const grants = previous.filter((g) => g.at > nowMs - limit.perSeconds * 1000);
	const used = grants.reduce((sum, g) => sum + g.count, 0);
	const oldest = grants.length === 0 ? null : Math.min(...grants.map((g) => g.at));
	const inSlice = grants.filter((g) => g.at > nowMs - sliceMs(limit));
	const slice = {
		used: inSlice.reduce((sum, g) => sum + g.count, 0),
		oldestAt: inSlice.length === 0 ? null : Math.min(...inSlice.map((g) => g.at)),
	};
	const { granted, retryAt } = decideGrant(used, oldest, nowMs, want, limit, slice);
	if (granted > 0) grants.push({ at: nowMs, count: granted });
	return { granted, grants, retryAt };
}
