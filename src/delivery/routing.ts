/**
 * @module
 * Routes executions to their flow object and lane: reads each version's delivery settings
 * (versions are immutable, so an isolate caches them) and computes ordering keys with JSONata
 * over the message, under the mapping sandbox. Runs in the queue consumer, off the hook path.
 */
import { loadFlowVersion } from "../db/queries/flows";
import { type FlowDefinition, resolveDelivery } from "../flows/definition";
import { computeDeliveryKey } from "../flows/delivery-key";
import type { Message } from "../flows/message";
import { log } from "../log";
import type { RateLimit } from "./rate-window";
import { concurrencyUnder, type DeliveryPlan, laneFor, type Route, routeFor } from "./shards";

const MAX_CACHED_VERSIONS = 1000;
const versions = new Map<string, Promise<FlowDefinition | null>>();

/** A version's definition, once per isolate; a failed read is not cached. */
export function cachedFlowVersion(d1: D1Database, flowId: string, version: number): Promise<FlowDefinition | null> {
	const cacheKey = `${flowId}\n${version}`;
	let definition = versions.get(cacheKey);
	if (!definition) {
		if (versions.size >= MAX_CACHED_VERSIONS) versions.delete(versions.keys().next().value as string);
		definition = loadFlowVersion(d1, flowId, version);
		definition.catch(() => versions.delete(cacheKey));
		versions.set(cacheKey, definition);
	}
	return definition;
}

/** A version that no longer exists is delivered (and failed, saying so) by the main object. */
export function deliveryPlan(definition: FlowDefinition | null): DeliveryPlan {
	return resolveDelivery(definition?.delivery);
}

export interface Routable {
	id: string;
	version: number;
	/** Undefined while a large payload is still staged in the main object. */
	message?: Message;
}

export interface RoutedExecution<T extends Routable> {
	item: T;
	route: Route;
	/** Sent to the object that accepted its id under an older layout (known-ids.ts), not where its own version routes it. */
	redirected?: boolean;
}

/**
 * A macrotask turn: JSONata evaluates in microtasks, so a run of slow key expressions would hold
 * every other flow's hand-over in the same consumer invocation (their RPC answers wait for the
 * event loop) until the last one is done. Between two keys, the others get their turn.
 */
const yieldToOtherFlows = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function routeExecutions<T extends Routable>(env: Env, flowId: string, items: readonly T[]): Promise<RoutedExecution<T>[]> {
	const routed: RoutedExecution<T>[] = [];
	let keysComputed = 0;
	for (const item of items) {
		const plan = resolveDelivery((await cachedFlowVersion(env.DB, flowId, item.version))?.delivery);
		let key: string | null = null;
		if (plan.ordering === "key" && plan.key !== null && item.message !== undefined) {
			if (keysComputed++ > 0) await yieldToOtherFlows();
			const computed = await computeDeliveryKey(plan.key, item.message);
			key = computed.key;
			if (computed.error) log("warn", "execution.no_key", { flowId, executionId: item.id, error: computed.error });
		}
		routed.push({ item, route: routeFor(flowId, plan, laneFor(plan.ordering, key, item.id)) });
	}
	return routed;
}

/** Groups routed executions by object, keeping their order. */
export function byObject<T extends Routable>(routed: readonly RoutedExecution<T>[]): Map<string, RoutedExecution<T>[]> {
	const groups = new Map<string, RoutedExecution<T>[]>();
	for (const entry of routed) {
		const group = groups.get(entry.route.object) ?? [];
		group.push(entry);
		groups.set(entry.route.object, group);
	}
	return groups;
}

/** What an object needs to know about its flow's delivery settings, from the newest version it was handed. */
export interface ObjectSettings {
	version: number;
	/** This object's share of the flow's concurrency. */
	concurrency: number;
	rateLimit: RateLimit | null;
	ordered: boolean;
}

/**
 * The settings an object adopts from a group of routed executions: those of the newest version
 * among them; none from executions only redirected there (their route's share is another object's).
 */
export function settingsFor(entries: ReadonlyArray<RoutedExecution<Routable>>): ObjectSettings | undefined {
	const routedHere = entries.filter((entry) => !entry.redirected);
	if (routedHere.length === 0) return undefined;
	const newest = routedHere.reduce((a, b) => (b.item.version > a.item.version ? b : a));
	return {
		version: newest.item.version,
		concurrency: newest.route.concurrency,
		rateLimit: newest.route.rateLimit,
		ordered: newest.route.ordered,
	};
}

/** The settings a newly published version gives an existing object of the flow (shards.ts concurrencyUnder). */
export function publishedSettings(flowId: string, objectName: string, version: number, plan: DeliveryPlan): ObjectSettings {
	return {
		version,
		concurrency: concurrencyUnder(flowId, objectName, plan),
		rateLimit: plan.rateLimit,
		ordered: plan.ordering !== "none",
	};
}
