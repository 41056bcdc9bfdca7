import type { FlowCounters, RetryRequest } from "./flow-object";

/**
 * What the admin API does to a flow's deliveries, whichever objects hold them.
 *
 * A flow's executions live in its main object (`FLOW.getByName(flowId)`: ordering "flow", staged
 * payloads, sample requests, the rate-limit coordinator and the list of shards) and, for
 * orderings "key" and "none", in shard objects the consumer routes to (src/delivery/shards.ts).
 * Every function here talks to the main object only; it fans out to the shards it knows, so the
 * API needs one call per flow and never has to know how a flow is sharded.
 *
 * For the README ("Choosing an ordering" / delivery guarantees), exactly-once per id across
 * shards: an execution's id decides its object. Ids are random, or derived from the sender's
 * idempotency header together with the flow and a SHA-256 of the body (issue 10), so one id
 * always comes with one body, hence one key, hence one shard (ordering "none" shards by the id
 * itself); that shard's 24 h dedupe then sees every copy of the id. A sender who reuses an
 * idempotency key with a different body gets a different id, i.e. a new execution (issue 10
 * decides whether the hook answers 409 instead).
 */

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
