import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, onTestFinished, vi } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import { laneFor, type Ordering, routeFor, shardCount, shardName } from "../../src/delivery/shards";
import worker from "../../src/index";
import { api, controlUrl, createRunningFlow, eventually, hook } from "./helpers";

/** Shared by the delivery-*.test.ts files: flows with delivery settings, the Petstore's view of them, their objects. */

export interface Delivery {
	ordering: Ordering;
	key?: string;
	concurrency?: number;
	rateLimit?: { requests: number; perSeconds: number };
}

export interface DeliveryFlow {
	flowId: string;
	delivery: Delivery;
	petstoreCredentialId: string;
}

/** The tutorial flow (no auth, name ← petname, status ← petstatus) with these delivery settings. */
export async function createDeliveryFlow(delivery: Delivery, extras: Record<string, unknown> = {}): Promise<DeliveryFlow> {
	const { flowId, petstoreCredentialId } = await createRunningFlow({ type: "none" }, { delivery, ...extras });
	return { flowId, delivery, petstoreCredentialId };
}

const plan = (delivery: Delivery) => ({
	ordering: delivery.ordering,
	concurrency: delivery.ordering === "flow" ? 1 : (delivery.concurrency ?? 10),
	rateLimit: delivery.rateLimit ?? null,
});

/** Every object that can hold the flow's executions: the main object and its shards. */
export function objectNames(flow: DeliveryFlow): string[] {
	const count = shardCount(plan(flow.delivery));
	return [...new Set([flow.flowId, ...Array.from({ length: count }, (_, i) => shardName(flow.flowId, count, i))])];
}

/** The object that delivers executions of `key` (ordering "key", key expression `owner`). */
export function objectOfKey(flow: DeliveryFlow, key: string): string {
	return routeFor(flow.flowId, plan(flow.delivery), laneFor("key", key, "")).object;
}

/** The object that delivers the execution `id` (ordering "none" spreads executions by id). */
export function objectOfId(flow: DeliveryFlow, id: string): string {
	return routeFor(flow.flowId, plan(flow.delivery), laneFor("none", null, id)).object;
}

/** `perObject` fresh 32-hex ids for each of the flow's objects: sent as x-request-id, they spread a "none" flow evenly. */
export function idsSpreadOverShards(flow: DeliveryFlow, perObject: number): string[] {
	const byObject = new Map<string, string[]>();
	const count = shardCount(plan(flow.delivery));
	while ([...byObject.values()].filter((ids) => ids.length >= perObject).length < count) {
		const id = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
		const ids = byObject.get(objectOfId(flow, id)) ?? [];
		if (ids.length < perObject) byObject.set(objectOfId(flow, id), [...ids, id]);
	}
	return [...byObject.values()].flat();
}

export const stub = (name: string) => env.FLOW.getByName(name);

/**
 * Pins the retry backoff's full jitter (retry-policy.ts draws it from `Math.random`, in the object
 * that runs in this isolate) at `fraction` of its ceiling for the rest of the running test, so a
 * retry comes due at a known time instead of anywhere from now on.
 */
export function pinJitter(fraction = 0.5): void {
	const spy = vi.spyOn(Math, "random").mockReturnValue(fraction);
	onTestFinished(() => spy.mockRestore());
}

/** When the object plans to try the execution `id` next (its inbox row), or null when it is not waiting there. */
export async function nextAttemptAt(objectName: string, id: string): Promise<number | null> {
	return runInDurableObject(stub(objectName), (_: FlowObject, state) => {
		const row = state.storage.sql.exec<{ at: number }>("SELECT next_attempt_at AS at FROM inbox WHERE id = ?", id).toArray()[0];
		return row ? Number(row.at) : null;
	});
}

/** A pet for `owner`: the key expression of the key-ordered flows here is `owner`. */
export const pet = (name: string, owner: string) => ({ petname: name, petstatus: "available", owner });

export async function send(flowId: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
	const response = await hook(flowId, { headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
	expect(response.status).toBe(200);
	return ((await response.json()) as { requestId: string }).requestId;
}

async function control(path: string, body: unknown): Promise<void> {
	const response = await fetch(controlUrl(path), {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify(body),
	});
	expect(response.status).toBe(200);
}

export const injectFaults = (responses: unknown[]) => control("faults", { responses });
export const setLatency = (ms: number) => control("latency", { ms });

export interface PetPost {
	body: { name: string };
	/** Which name of the Petstore the call used. */
	host: string;
	idempotencyKey: string;
	responseStatus: number | null;
	concurrentWith: string[];
}

export async function petPosts(): Promise<{ posts: PetPost[]; maxConcurrent: number }> {
	const { requests, maxConcurrent } = (await (await fetch(controlUrl("requests"))).json()) as {
		requests: Array<PetPost & { method: string; path: string }>;
		maxConcurrent: number;
	};
	return { posts: requests.filter((r) => r.method === "POST" && r.path === "/v2/pet"), maxConcurrent };
}

export async function petsCreated(): Promise<Array<{ name: string }>> {
	return (await (await fetch(controlUrl("pets"))).json()) as Array<{ name: string }>;
}

/** Pet names per owner in the order their calls reached the Petstore; names are "<owner>-<n>". */
export function namesByOwner(posts: readonly PetPost[]): Map<string, string[]> {
	const byOwner = new Map<string, string[]>();
	for (const post of posts) {
		const owner = post.body.name.split("-")[0] as string;
		byOwner.set(owner, [...(byOwner.get(owner) ?? []), post.body.name]);
	}
	return byOwner;
}

export const counters = async (flowId: string) => (await api("GET", `/api/flows/${flowId}`)).flow.counters;

/** Waits until the flow's counters match `expected`; a timeout says what they were instead. */
export async function waitForCounters(flowId: string, expected: Record<string, unknown>, timeoutMs = 20_000) {
	let last: Record<string, unknown> = {};
	try {
		return await eventually(
			`counters ${JSON.stringify(expected)}`,
			async () => {
				const current = await counters(flowId);
				last = current;
				return Object.entries(expected).every(([k, v]) => Reflect.get(current, k) === v) ? current : undefined;
			},
			timeoutMs,
		);
	} catch (error) {
		throw new Error(`${(error as Error).message}; the counters were ${JSON.stringify(last)}`);
	}
}

/** Every object of the flow: pending retries and holds come due now, then its alarm runs. */
export async function fastForward(flow: DeliveryFlow): Promise<void> {
	for (const name of objectNames(flow)) {
		await runInDurableObject(stub(name), (_: FlowObject, state) => {
			state.storage.sql.exec("UPDATE inbox SET next_attempt_at = 0");
			state.storage.sql.exec("DELETE FROM meta WHERE key = 'pace'");
		});
		await runDurableObjectAlarm(stub(name));
	}
}

/** Runs every object's pending alarm now, as if its time had come. */
export async function runAlarms(flow: DeliveryFlow): Promise<void> {
	for (const name of objectNames(flow)) await runDurableObjectAlarm(stub(name));
}

let nextId = 1;
/** A queue message as the ingress would have sent it, accepted at `receivedAt`. */
export function queueMessage(flowId: string, receivedAt: number, body: Record<string, unknown>) {
	const id = (nextId++).toString(16).padStart(32, "0");
	return { id: `msg-${id}`, timestamp: new Date(receivedAt), attempts: 1, body: { id, flowId, version: 1, receivedAt, message: body } };
}

/** The queue handler on one batch, in this isolate (a batch cannot cross an RPC boundary). */
export async function consume(messages: ReturnType<typeof queueMessage>[]) {
	const batch = createMessageBatch("hookflow-executions", messages);
	const ctx = createExecutionContext();
	await (worker as ExportedHandler<Env>).queue?.(batch, env, ctx);
	return getQueueResult(batch, ctx);
}
