/**
 * @module
 * The queue handler. Messages are grouped by flow, routed to the flow object that owns their
 * lane (the main object, or a shard for orderings "key" and "none"), and acked only once every
 * object has stored its part. A failure retries the flow's messages; after
 * max_retries the queue moves them to the dead-letter queue, whose consumer records them as
 * failed executions, so nothing disappears silently.
 */
import { inArray } from "drizzle-orm";
import { getDb } from "../db/client";
import { executions } from "../db/schema";
import { scopedId, stagingKey } from "../flows/execution-ids";
import { errorMessage, log } from "../log";
import { routeKnownIds } from "./known-ids";
import { type ExecutionMessage, executionMessageSchema } from "./messages";
import { byObject, cachedFlowVersion, deliveryPlan, routeExecutions, settingsFor } from "./routing";
import { shardCount } from "./shards";

const RETRY_DELAY_SECONDS = 5;

function groupByFlow(batch: MessageBatch<unknown>): Map<string, { items: ExecutionMessage[]; messages: Message<unknown>[] }> {
	const groups = new Map<string, { items: ExecutionMessage[]; messages: Message<unknown>[] }>();
	for (const message of batch.messages) {
		const parsed = executionMessageSchema.safeParse(message.body);
		if (!parsed.success) {
			// Only a bug could produce this; keeping it would block nothing but retrying cannot fix it.
			log("error", "queue.invalid_message", { queue: batch.queue, messageId: message.id, error: parsed.error.issues[0]?.message });
			message.ack();
			continue;
		}
		const group = groups.get(parsed.data.flowId) ?? { items: [], messages: [] };
		group.items.push(parsed.data);
		group.messages.push(message);
		groups.set(parsed.data.flowId, group);
	}
	return groups;
}

/**
 * A sender's x-request-id is the execution id, but a fan-out sender may send the same one to
 * two flows. Ids are global, so the second flow's execution gets an id derived from its flow
 * (deterministic: a redelivery maps to the same one). Off the hook's hot path, on purpose.
 */
async function rekeySharedSenderIds(env: Env, groups: ReturnType<typeof groupByFlow>): Promise<void> {
	const senderItems = [...groups.values()].flatMap((g) => g.items.filter((item) => item.idFromSender));
	if (senderItems.length === 0) return;
	const owners = new Map<string, string>();
	const rows = await getDb(env.DB)
		.select({ id: executions.id, flowId: executions.flowId })
		.from(executions)
		.where(inArray(executions.id, [...new Set(senderItems.map((item) => item.id))]));
	for (const row of rows) owners.set(row.id, row.flowId);
	for (const item of [...senderItems].sort((a, b) => a.receivedAt - b.receivedAt)) {
		const owner = owners.get(item.id);
		if (owner === undefined) owners.set(item.id, item.flowId);
		else if (owner !== item.flowId) item.id = await scopedId(item.flowId, "x-request-id", item.id);
	}
}

/**
 * Payloads too large for a queue message wait in the main object (under their staging key, taken
 * before any re-keying); routing needs them for the key, so they are fetched first, then handed
 * over inline like any other.
 */
async function fillStaged(
	env: Env,
	flowId: string,
	items: ExecutionMessage[],
	stagingKeys: Map<ExecutionMessage, string>,
): Promise<string[]> {
	const missing = items.filter((item) => item.message === undefined);
	if (missing.length === 0) return [];
	const keys = missing.map((item) => stagingKeys.get(item) ?? stagingKey(item));
	const staged = await env.FLOW.getByName(flowId).readStaged(keys);
	missing.forEach((item, i) => {
		const message = staged[keys[i] as string];
		if (message) item.message = message;
	});
	return Object.keys(staged);
}

/** A sender's own x-request-id, bound to its content by the main object before it can reach one of several shards. */
async function bindSenderIds(env: Env, flowId: string, items: ExecutionMessage[]): Promise<void> {
	const sharded: Array<ExecutionMessage & { contentHash: string }> = [];
	for (const item of items) {
		if (!item.contentHash) continue;
		if (shardCount(deliveryPlan(await cachedFlowVersion(env.DB, flowId, item.version))) > 1)
			sharded.push(item as ExecutionMessage & { contentHash: string });
	}
	if (sharded.length === 0) return;
	const ids = await env.FLOW.getByName(flowId).claimSenderIds(
		flowId,
		sharded.map(({ id, contentHash }) => ({ id, contentHash })),
	);
	sharded.forEach((item, i) => {
		item.id = ids[i] ?? item.id;
	});
}

/** Hands one flow's executions to the objects that own their lanes (routing.ts), each group in parallel. */
async function handOver(
	env: Env,
	flowId: string,
	items: ExecutionMessage[],
	stagingKeys: Map<ExecutionMessage, string>,
	deadLetters: boolean,
): Promise<void> {
	const staged = await fillStaged(env, flowId, items, stagingKeys);
	await bindSenderIds(env, flowId, items);
	const routed = await routeExecutions(env, flowId, items);
	await routeKnownIds(env, flowId, routed);
	const groups = byObject(routed);
	await Promise.all(
		[...groups].map(async ([object, entries]) => {
			const stub = env.FLOW.getByName(object);
			const laned = entries.map(({ item, route }) => ({ ...item, lane: route.lane }));
			if (deadLetters) {
				await stub.recordDeadLetters(flowId, object, laned);
				log("error", "queue.dead_letter", { flowId, object, count: laned.length });
			} else {
				const { accepted, duplicates } = await stub.accept(flowId, object, laned, settingsFor(entries));
				log("debug", "queue.accepted", { flowId, object, accepted: accepted.length, duplicates: duplicates.length });
			}
		}),
	);
	// Stored by the objects that own them now; the main object keeps its copies only until this succeeds (or 24 h).
	if (staged.length > 0) await env.FLOW.getByName(flowId).dropStaged(staged);
}

/** Executions made off the hook path (bulk replay) take the queue's way to their objects: routed, deduplicated, in order. */
export function acceptExecutions(env: Env, flowId: string, items: ExecutionMessage[]): Promise<void> {
	return handOver(env, flowId, items, new Map(), false);
}

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
	const deadLetters = batch.queue.endsWith("-dlq");
	const groups = groupByFlow(batch);
	const stagingKeys = new Map<ExecutionMessage, string>();
	for (const { items } of groups.values())
		for (const item of items) if (item.message === undefined) stagingKeys.set(item, stagingKey(item));
	try {
		await rekeySharedSenderIds(env, groups);
	} catch (error) {
		log("error", "queue.rekey_failed", { error: errorMessage(error) });
		for (const { messages } of groups.values()) for (const message of messages) message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
		return;
	}
	// Flows are independent, so their groups are handed over in parallel.
	await Promise.all(
		[...groups].map(async ([flowId, { items, messages }]) => {
			try {
				await handOver(env, flowId, items, stagingKeys, deadLetters);
				for (const message of messages) message.ack();
			} catch (error) {
				log("error", "queue.handoff_failed", { flowId, count: items.length, deadLetters, error: errorMessage(error) });
				for (const message of messages) message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
			}
		}),
	);
}
