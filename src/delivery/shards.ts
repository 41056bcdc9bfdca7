/**
 * @module
 * Where an execution is delivered: which flow object (the flow's main object or one of its
 * shards) and which lane inside it. Pure, so the consumer, the main object (manual retries) and
 * the tests compute the same route.
 *
 * - `flow`: one lane in the main object (`FLOW.getByName(flowId)`, the name flows always had, so
 *   executions accepted before issue 11 keep their place).
 * - `key`: a lane per key value; the key's hash picks one of `shardCount` shard objects, so every
 *   execution of a key meets the others of its key in one single-threaded object.
 * - `none`: a lane per execution; the execution id's hash picks the shard.
 *
 * A flow's concurrency is split between its shards (each gets its share, the shares add up to
 * the concurrency exactly), so "never more than `concurrency` in flight" holds without a global
 * semaphore on the hot path. The price: a shard whose keys are busy cannot borrow the idle share
 * of another one. Exactly-once per id holds because an id always routes to the same object (see
 * flow-control.ts) within a layout, and across a republish that changes it a known id is sent back
 * to the object that first accepted it (known-ids.ts). The shard layout depends on the version's
 * ordering and concurrency; executions straddling such a republish keep per-key order within each
 * layout only.
 */

/** One object delivers a few hundred calls per second; four of them cover the designer's maximum concurrency of 100. */
export const MAX_SHARDS = 4;

/**
 * How long an execution of an ordered lane waits after reaching its object before it may start,
 * so one accepted earlier but handed over a moment later still goes first.
 *
 * Acceptance order (issue 11 item 6). Lanes are ordered by the ingress's acceptance stamp
 * (`receivedAt`, then arrival order), not by when the queue handed an execution over. Queues
 * does not promise FIFO and runs consumer invocations concurrently, so a hook accepted earlier can
 * reach the object a moment after a later one of its lane. Therefore an ordered execution may
 * not start until REORDER_WINDOW_MS after it reached the object: anything accepted before it that
 * arrives within that window still goes first. The window covers the skew between consumer
 * invocations handing over batches at the same time; it does not cover a hand-over that failed and
 * is redelivered by the queue seconds later (the README says so). Ordering "none" has no window. A
 * lane's started head stays its head, whatever arrives late.
 */
export const REORDER_WINDOW_MS = 500;

export type Ordering = "flow" | "key" | "none";

export interface DeliveryPlan {
	ordering: Ordering;
	concurrency: number;
	rateLimit: { requests: number; perSeconds: number } | null;
}

/** The lane of executions without a key (the expression failed or yielded nothing), and of ordering "flow". */
export const NO_KEY_LANE = "";

export function laneFor(ordering: Ordering, key: string | null, executionId: string): string {
	if (ordering === "none") return `id:${executionId}`;
	if (ordering === "key" && key !== null) return `key:${key}`;
	return NO_KEY_LANE;
}

export function shardCount(plan: Pick<DeliveryPlan, "ordering" | "concurrency">): number {
	return plan.ordering === "flow" ? 1 : Math.max(1, Math.min(MAX_SHARDS, plan.concurrency));
}

/** FNV-1a, 32 bits: stable across isolates and releases, which is all shard choice needs. */
export function stableHash(text: string): number {
	let hash = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		hash ^= text.charCodeAt(i);
		hash = Math.imul(hash, 0x01000193) >>> 0;
	}
	return hash;
}

/** The object name for shard `index` of `count`; a layout of one shard is the main object itself. */
export function shardName(flowId: string, count: number, index: number): string {
	return count === 1 ? flowId : `${flowId}#shard-${index}-of-${count}`;
}

export interface Route {
	/** `FLOW.getByName(object)`. */
	object: string;
	lane: string;
	/** How many executions this object may have in flight: its share of the flow's concurrency. */
	concurrency: number;
	/** The flow's destination rate limit, held across its objects by the main object. */
	rateLimit: DeliveryPlan["rateLimit"];
	/** Ordered lanes wait out the reorder window (flow-object.ts); ordering "none" starts at once. */
	ordered: boolean;
}

/** A shard's layout from its name (shardName); null for the main object. */
export function shardLayout(flowId: string, objectName: string): { index: number; count: number } | null {
	const match = objectName.startsWith(`${flowId}#`) ? /#shard-(\d+)-of-(\d+)$/.exec(objectName) : null;
	return match ? { index: Number(match[1]), count: Number(match[2]) } : null;
}

/**
 * The concurrency an existing object may use under a newly published plan, whether or not the
 * plan's layout still routes to it: its share of the new concurrency within its own layout, at
 * least 1 so its waiting executions still run (while objects of an older layout drain, slots
 * leased from the main object keep the flow's total to the new concurrency: call-slots.ts).
 */
export function concurrencyUnder(flowId: string, objectName: string, plan: Pick<DeliveryPlan, "ordering" | "concurrency">): number {
	if (plan.ordering === "flow") return 1;
	const layout = shardLayout(flowId, objectName);
	if (layout === null) return plan.concurrency;
	const share = Math.floor(plan.concurrency / layout.count) + (layout.index < plan.concurrency % layout.count ? 1 : 0);
	return Math.max(1, share);
}

export function routeFor(flowId: string, plan: DeliveryPlan, lane: string): Route {
	const count = shardCount(plan);
	const index = count === 1 ? 0 : stableHash(lane) % count;
	const share = Math.floor(plan.concurrency / count) + (index < plan.concurrency % count ? 1 : 0);
	return {
		object: shardName(flowId, count, index),
		lane,
		concurrency: plan.ordering === "flow" ? 1 : share,
		rateLimit: plan.rateLimit,
		ordered: plan.ordering !== "none",
	};
}
