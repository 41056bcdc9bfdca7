import { beforeEach, describe, expect, it } from "vitest";
import { counters, petPosts, waitForCounters } from "./delivery-support";
import { api, createRunningFlow, hook, putDraft, type RunningFlow, resetPetstore, waitForExecution } from "./helpers";

/** Sender-id exactly-once through the hook on sharded flows, and across republishes that change the shard layout. */

beforeEach(resetPetstore);

const encoder = new TextEncoder();
async function hmac(secret: string, data: string): Promise<Uint8Array> {
	const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data)));
}
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** How a sender names a delivery its retries repeat, with the auth it comes with. */
interface Sender {
	name: string;
	auth: Record<string, unknown>;
	/** The request for delivery `n` carrying `body`, signed as the provider would (again on each retry). */
	headers: (n: string, body: string) => Promise<Record<string, string>>;
	/** Stripe names its delivery in the body. */
	body?: (n: string, pet: Record<string, unknown>) => Record<string, unknown>;
}

const SENDERS: Sender[] = [
	{ name: "webhook-id", auth: { type: "none" }, headers: async (n) => ({ "webhook-id": `msg_${n}` }) },
	{ name: "idempotency-key", auth: { type: "none" }, headers: async (n) => ({ "idempotency-key": `key-${n}` }) },
	{
		name: "GitHub's X-GitHub-Delivery",
		auth: { type: "github", secret: "gh-secret" },
		headers: async (n, body) => ({
			"x-github-delivery": `72d3162e-cc78-11e3-81ab-${n.padStart(12, "0")}`,
			"x-hub-signature-256": `sha256=${hex(await hmac("gh-secret", body))}`,
		}),
	},
	{
		name: "Shopify's X-Shopify-Webhook-Id",
		auth: { type: "shopify", secret: "shopify-secret" },
		headers: async (n, body) => ({
			"x-shopify-webhook-id": `b54557e4-${n}`,
			"x-shopify-hmac-sha256": base64(await hmac("shopify-secret", body)),
		}),
	},
	{
		name: "Stripe's event id",
		auth: { type: "stripe", secret: "whsec_exactly_once" },
		headers: async (_n, body) => {
			const ts = Math.floor(Date.now() / 1000);
			return { "stripe-signature": `t=${ts},v1=${hex(await hmac("whsec_exactly_once", `${ts}.${body}`))}` };
		},
		body: (n, pet) => ({ id: `evt_${n}`, type: "customer.created", ...pet }),
	},
];

const sharded = (ordering: "key" | "none", concurrency = 4) =>
	ordering === "key" ? { ordering, key: "owner", concurrency } : { ordering, concurrency };

async function deliver(flowId: string, sender: Sender, n: string, pet: Record<string, unknown>): Promise<string> {
	const body = JSON.stringify(sender.body ? sender.body(n, pet) : pet);
	const response = await hook(flowId, { body, headers: { "content-type": "application/json", ...(await sender.headers(n, body)) } });
	expect(response.status, await response.clone().text()).toBe(200);
	return ((await response.json()) as { requestId: string }).requestId;
}

async function republish(flow: RunningFlow, delivery: Record<string, unknown>): Promise<void> {
	await putDraft(flow, { name: "petname", status: "petstatus" }, { delivery });
	await api("POST", `/api/flows/${flow.flowId}/publish`);
}

const pets = (tag: string) => Array.from({ length: 6 }, (_, i) => ({ petname: `${tag}-${i}`, petstatus: "sold", owner: `owner-${i}` }));

describe("a sender's retry runs once on sharded flows", () => {
	for (const ordering of ["key", "none"] as const)
		for (const sender of SENDERS)
			it(`${sender.name} under ordering "${ordering}"`, async () => {
				const flow = await createRunningFlow(sender.auth, { delivery: sharded(ordering) });
				const batch = pets("p");
				const first = await Promise.all(batch.map((pet, i) => deliver(flow.flowId, sender, `${i}`, pet)));
				await waitForCounters(flow.flowId, { succeeded: 6, queued: 0 });
				// Retries, after delivery and (the first three) while the originals would still be pending.
				const again = await Promise.all(batch.map((pet, i) => deliver(flow.flowId, sender, `${i}`, pet)));
				expect(again).toEqual(first);
				expect(new Set(first).size).toBe(6);
				// A new delivery after the retries shows the queue has handed them over.
				const fresh = await deliver(flow.flowId, sender, "new", { petname: "fresh", petstatus: "sold", owner: "owner-9" });
				await waitForExecution(fresh, "succeeded");
				await waitForCounters(flow.flowId, { queued: 0 });
				expect(await counters(flow.flowId)).toMatchObject({ received: 7, succeeded: 7, failed: 0, queued: 0 });
				expect((await petPosts()).posts.map((p) => p.body.name).sort()).toEqual([...batch.map((p) => p.petname), "fresh"].sort());
			});

	it('a reused x-request-id with another body under "none" is another execution; with the same body, the same one', async () => {
		const flow = await createRunningFlow({ type: "none" }, { delivery: sharded("none") });
		const id = "0123456789abcdef0123456789abcdef";
		const send = async (petname: string) => {
			const response = await hook(flow.flowId, {
				body: JSON.stringify({ petname, petstatus: "sold" }),
				headers: { "content-type": "application/json", "x-request-id": id },
			});
			return ((await response.json()) as { requestId: string }).requestId;
		};
		const first = await send("Gromit");
		expect(first).toBe(id);
		await waitForCounters(flow.flowId, { succeeded: 1, queued: 0 });
		const other = await send("Wallace");
		expect(await send("Gromit")).toBe(id);
		await waitForCounters(flow.flowId, { succeeded: 2, queued: 0 });
		const names = (await petPosts()).posts.map((p) => p.body.name).sort();
		expect(names).toEqual(["Gromit", "Wallace"]);
		// The hook answered with the sender's id (it keeps no per-id state); the run log holds Wallace under an id of its own.
		const executions = (await api("GET", `/api/flows/${flow.flowId}/executions`)).executions as Array<{ id: string }>;
		expect(executions.map((e) => e.id).sort()).toEqual([id, executions.find((e) => e.id !== id)?.id].sort());
		expect(other).toBe(id);
	});
});

describe("a sender's retry runs once across a republish that changes the shard layout", () => {
	const changes: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
		["flow → key", { ordering: "flow" }, sharded("key", 2)],
		["key concurrency 2 → 3", sharded("key", 2), sharded("key", 3)],
		["none → flow", sharded("none", 4), { ordering: "flow" }],
	];
	for (const [name, before, after] of changes)
		for (const sender of [SENDERS[0] as Sender, SENDERS[4] as Sender])
			it(`${name}, ${sender.name}`, async () => {
				const flow = await createRunningFlow(sender.auth, { delivery: before });
				const batch = pets("q");
				const first = await Promise.all(batch.map((pet, i) => deliver(flow.flowId, sender, `${i}`, pet)));
				await waitForCounters(flow.flowId, { succeeded: 6, queued: 0 });
				await republish(flow, after);
				const again = await Promise.all(batch.map((pet, i) => deliver(flow.flowId, sender, `${i}`, pet)));
				expect(again).toEqual(first);
				// A new delivery after the retries shows the queue has handed them over.
				const fresh = await deliver(flow.flowId, sender, "new", { petname: "fresh", petstatus: "sold", owner: "owner-9" });
				await waitForExecution(fresh, "succeeded");
				await waitForCounters(flow.flowId, { queued: 0 });
				expect(await counters(flow.flowId)).toMatchObject({ received: 7, succeeded: 7, failed: 0 });
				expect((await petPosts()).posts).toHaveLength(7);
			});

	it("x-request-id, flow → key", async () => {
		const flow = await createRunningFlow({ type: "none" }, { delivery: { ordering: "flow" } });
		const id = "fedcba9876543210fedcba9876543210";
		const send = async () =>
			hook(flow.flowId, {
				body: JSON.stringify({ petname: "Shaun", petstatus: "sold", owner: "o" }),
				headers: { "content-type": "application/json", "x-request-id": id },
			});
		await send();
		await waitForExecution(id, "succeeded");
		await republish(flow, sharded("key", 4));
		expect(((await (await send()).json()) as { requestId: string }).requestId).toBe(id);
		const fresh = await deliver(flow.flowId, SENDERS[0] as Sender, "later", { petname: "later", petstatus: "sold", owner: "p" });
		await waitForExecution(fresh, "succeeded");
		await waitForCounters(flow.flowId, { queued: 0 });
		expect(await counters(flow.flowId)).toMatchObject({ received: 2, succeeded: 2 });
		expect((await petPosts()).posts.map((p) => p.body.name).sort()).toEqual(["Shaun", "later"]);
	});
});
