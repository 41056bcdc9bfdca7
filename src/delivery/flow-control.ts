/**
 * @module
 * What the admin API does to a flow's deliveries, whichever objects hold them.
 *
 * A flow's executions live in its main object (`FLOW.getByName(flowId)`: ordering "flow",
 * staged payloads, sample requests, the rate-limit log and the list of shards) and, for
 * orderings "key" and "none", in shard objects the consumer routes to (shards.ts, routing.ts).
 * Every function here talks to the main object only; it fans out to the shards it knows, so the
 * API needs one call per flow and never has to know how a flow is sharded.
 *
 * Notes for the README ("Choosing an ordering", delivery guarantees) and BENCHMARKS.md:
 *
 * - Shards (item 5). "flow" runs in the main object, one at a time. "key" and "none" run in
 *   min(4, concurrency) shard objects (MAX_SHARDS in shards.ts); a key's hash picks its shard
 *   ("none": the execution id's), and the concurrency is split between the shards so the shares
 *   add up to it exactly (a shard cannot borrow another's idle share). Locally all objects share
 *   one workerd thread; in production each shard is its own single-threaded object, so a flow's
 *   ceiling is about shards × one object's deliveries per second. Counters, pause/resume, manual
 *   retry, destroy and credential invalidation go through the main object to every shard; the run
 *   log is written by each object to D1 under the flow's id. A shard registers with the main
 *   object when it first receives an execution and learns from it whether the flow is paused or
 *   held by a Retry-After.
 * - Exactly-once per id across shards. An execution's id decides its object: ids are random, or
 *   derived from a sender's `webhook-id`/`idempotency-key` together with a SHA-256 of the request's
 *   method, path and body (issue 10), so one id always comes with one body, hence one key, hence
 *   one shard ("none" routes by the id itself); that shard's 24 h dedupe sees every copy. A
 *   sender's own 32-hex `x-request-id` is used as the id as is, so before a sharded flow routes it
 *   the main object binds it to its body (`claimSenderIds`): the same id with the same body is a
 *   duplicate, with another body a new execution under an id derived from both (never a 409, never
 *   a silent 200 for something that did not run). A republish that changes the layout would break
 *   "one id, one object"; known-ids.ts sends a known id back to its first object for 24 h after.
 * - Acceptance order (item 6). Lanes are ordered by the ingress's acceptance stamp (`receivedAt`,
 *   then arrival), and an ordered execution waits REORDER_WINDOW_MS (500 ms, shards.ts) after
 *   it reaches its object before it may start, so a hook accepted earlier that reaches the object
 *   up to 0.5 s later (another consumer invocation, Queues reordering batches) still goes first.
 *   Not covered: a hand-over that failed and is redelivered by the queue seconds later; hooks
 *   accepted in the same millisecond by different ingress locations (clock skew). Cost: on an idle
 *   flow each ordered delivery starts 0.5 s later; under a backlog nothing (they waited anyway).
 *   "none" has no window.
 * - The "no key" lane: a key expression that fails or yields nothing/null/"" puts the execution
 *   in one lane shared by all such executions, ordered like any other (a warn line
 *   `execution.no_key` names the expression's error).
 * - Backpressure (item 2). A 429 or 503 halves the object's concurrency (never below 1) and the
 *   main object passes the slow-down to every other object of the flow; after as many successes as
 *   the current limit it grows by one. A Retry-After also holds every object of the flow until
 *   then (capped at 10 min, MAX_FLOW_HOLD_MS in backpressure.ts; the execution itself honours the
 *   full Retry-After). The attempt's and execution's error in the run log say it, e.g.
 *   "Petstore answered 429: the flow slows down to 4 deliveries at once (was 8) and holds until
 *   2026-…Z (Retry-After)", and the tail has a `flow.slowed` warn line (flowId, reason, limit, was,
 *   holdUntil).
 * - Destination rate limit: `delivery.rateLimit {requests, perSeconds}` is a sliding window over
 *   call starts kept in the main object (rate-window.ts; a grant counts at the latest start its
 *   call may reach the destination): at most `requests` calls start in any
 *   `perSeconds` window, across all shards (grants are kept in at most 1,000 buckets per window,
 *   counted at their bucket's end, so a long window errs by up to 1/1,000 of itself towards fewer
 *   calls); shards ask the main object for tokens before they start calls (one RPC per batch of
 *   starts, only when a rate limit is set).
 * - Pause: running calls finish; nothing new starts; hooks are still accepted and queue up.
 *   Resume starts every lane again from its head, in order.
 * - The local Petstore (dev/petstore/server.ts) has `POST /__control/latency {"ms":50}` (every pet
 *   POST waits that long; reset clears it) for the bench, and each pet POST in the request log
 *   lists the idempotency keys of the POSTs it overlapped (`concurrentWith`), from which per-key
 *   overlaps can be counted.
 */
import { type FlowDefinition, resolveDelivery } from "../flows/definition";
import type { FlowCounters, RetryRequest } from "./flow-object";

/** Limits the engine applies, for the API to serve (GET /api/flow-settings) rather than the designer repeating them. */
export { MAX_FLOW_HOLD_MS } from "./backpressure";
export { MAX_SHARDS, REORDER_WINDOW_MS } from "./shards";
export type { FlowCounters, RetryRequest };

const mainObject = (env: Env, flowId: string) => env.FLOW.getByName(flowId);

/**
 * The flow's counters summed over its main object and shards:
 * `received`, `succeeded`, `failed`, `authFailures` (totals since the flow was created),
 * `queued` (accepted, not finished: waiting, being delivered or waiting for a retry),
 * `inFlight` (being called right now), `oldestQueuedAt` (acceptance time, epoch ms, of the
 * oldest queued execution, or null), `paused`.
 */
export function flowCounters(env: Env, flowId: string): Promise<FlowCounters> {
	return mainObject(env, flowId).flowCounters(flowId);
}

/** Holds deliveries in every object of the flow; hooks are still accepted and queue up. Idempotent. */
export async function pauseFlow(env: Env, flowId: string): Promise<void> {
	await mainObject(env, flowId).pauseFlow(flowId);
}

/** Releases held deliveries in every object of the flow, in the order they were held. Idempotent. */
export async function resumeFlow(env: Env, flowId: string): Promise<void> {
	await mainObject(env, flowId).resumeFlow(flowId);
}

/**
 * Manual retry of failed executions (POST /api/executions/:id/retry, /api/flows/:id/retry-failed):
 * each goes back to the object that owns its id. Returns the ids that were queued again.
 */
export function retryExecutions(env: Env, flowId: string, items: RetryRequest[]): Promise<string[]> {
	return mainObject(env, flowId).retryExecutions(flowId, items);
}

/** The flow was deleted: every object of the flow drops its executions. */
export async function destroyFlow(env: Env, flowId: string): Promise<void> {
	await mainObject(env, flowId).destroy();
}

/**
 * A version was published: its delivery settings (rate limit, concurrency) govern the flow's
 * objects now, for the executions already waiting in them too, not only for hooks that arrive later.
 */
export async function applyPublishedSettings(env: Env, flowId: string, version: number, definition: FlowDefinition): Promise<void> {
	const { ordering, concurrency, rateLimit } = resolveDelivery(definition.delivery);
	await mainObject(env, flowId).applyPublishedSettings(flowId, version, { ordering, concurrency, rateLimit });
}
