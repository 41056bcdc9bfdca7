import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { FlowObject } from "../../src/delivery/flow-object";
import { api, call, controlUrl, eventually, hook, injectFaults, json, resetPetstore, waitForExecution } from "./helpers";

/**
 * Flows of many steps through workerd, against the real local receiver: this file's tenant of the
 * local Petstore and its CRM-like API (dev/petstore/server.ts), never a fetch spy.
 */

const crmBase = () => env.PETSTORE_BASE_URL.replace(/\/v2$/, "/crm");
const tokenUrl = () => env.PETSTORE_BASE_URL.replace(/\/v2$/, "/oauth/token");
const crmControl = (body: unknown) =>
	fetch(controlUrl("crm"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
/** Fast retries, so a retried step comes due within the test. */
const FAST = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 200 };

beforeEach(resetPetstore);

/** What the local server logged (dev/petstore/server.ts RequestRecord). */
interface Seen {
	method: string;
	path: string;
	body: any;
	idempotencyKey: string | null;
	responseStatus: number | null;
	authorization?: string | null;
	startedAt: string;
	endedAt: string | null;
}

async function requests() {
	const { requests } = (await (await fetch(controlUrl("requests"))).json()) as { requests: Seen[] };
	return {
		crm: requests.filter((r) => r.path.startsWith("/crm/")),
		tokens: requests.filter((r) => r.path === "/oauth/token"),
		pets: requests.filter((r) => r.path.startsWith("/v2/pet")),
		all: requests,
	};
}

let names = 0;
async function credentials(auth: Record<string, unknown> = { type: "bearer", token: "crm-token" }) {
	names++;
	const hook = (await api("POST", "/api/credentials", { component: "webhook", name: `hook ${names}`, auth: { type: "none" } })).credential
		.id;
	const pets = (await api("POST", "/api/credentials", { component: "petstore", name: `pets ${names}`, apiKey: "secret" })).credential.id;
	const crm = (await api("POST", "/api/credentials", { component: "http", name: `crm ${names}`, baseUrl: crmBase(), auth })).credential.id;
	return { hook, pets, crm };
}

async function runningFlow(hookCredential: string, steps: unknown[], extras: Record<string, unknown> = {}): Promise<string> {
	const { flow } = await api("POST", "/api/flows", { name: `Steps ${names}` });
	await api("PUT", `/api/flows/${flow.id}/draft`, { trigger: { component: "webhook", credentialId: hookCredential }, steps, ...extras });
	await api("POST", `/api/flows/${flow.id}/publish`);
	await api("POST", `/api/flows/${flow.id}/start`);
	return flow.id;
}

async function send(flowId: string, body: unknown): Promise<string> {
	const response = await hook(flowId, json(body));
	expect(response.status).toBe(200);
	return ((await response.json()) as { requestId: string }).requestId;
}

const lookup = (crm: string, extra: Record<string, unknown> = {}) => ({
	id: "crm",
	name: "CRM lookup",
	component: "http",
	action: "request",
	credentialId: crm,
	method: "GET",
	url: "/customers/{{customer}}",
	...extra,
});
const createPet = (pets: string, extra: Record<string, unknown> = {}) => ({
	id: "pet",
	component: "petstore",
	action: "createPet",
	credentialId: pets,
	mapping: { name: "$steps.shape.name", status: "$steps.shape.status" },
	...extra,
});
const shape = {
	id: "shape",
	component: "logic",
	action: "transform",
	expression: "{'name': $steps.crm.body.name, 'status': $steps.crm.body.tier = 'gold' ? 'sold' : 'available'}",
};
const bigOrders = { id: "big_orders", component: "logic", action: "filter", condition: "amount >= 10" };

async function fastForward(flowId: string): Promise<void> {
	const stub = env.FLOW.getByName(flowId);
	await runInDurableObject(stub, (_: FlowObject, state) => {
		state.storage.sql.exec("UPDATE inbox SET next_attempt_at = 0");
	});
	await runDurableObjectAlarm(stub);
}

describe("the chain filter → http → transform → petstore", () => {
	it("runs each step once, in order, each call with its own idempotency key, and records every step run", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [bigOrders, lookup(c.crm), shape, createPet(c.pets)]);
		const id = await send(flowId, { customer: "ada", amount: 25 });
		const done = await waitForExecution(id, "succeeded");
		const { crm, pets } = await requests();
		expect(crm.map((r) => [r.method, r.path, r.idempotencyKey, r.authorization])).toEqual([
			["GET", "/crm/customers/ada", `${id}.crm`, "Bearer crm-token"],
		]);
		expect(pets.map((r) => [r.method, r.body, r.idempotencyKey])).toEqual([
			["POST", { name: "Customer ada", status: "available" }, `${id}.pet`],
		]);
		expect(
			done.steps.map((s: { id: string; status: string; attempts: number; path: string }) => [s.id, s.status, s.attempts, s.path]),
		).toEqual([
			["big_orders", "succeeded", 0, "steps.0"],
			["crm", "succeeded", 1, "steps.1"],
			["shape", "succeeded", 0, "steps.2"],
			["pet", "succeeded", 1, "steps.3"],
		]);
		// The bearer token is a secret: never in the run log.
		expect(JSON.stringify(done)).not.toContain("crm-token");
		expect(done.request).toMatchObject({ method: "POST" });

		const small = await send(flowId, { customer: "bob", amount: 3 });
		const filtered = await waitForExecution(small, "filtered");
		expect(filtered.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([["big_orders", "filtered"]]);
		expect((await requests()).crm).toHaveLength(1);
		const search = await api("GET", `/api/flows/${flowId}/executions?status=filtered`);
		expect(search.executions.map((e: { id: string }) => e.id)).toEqual([small]);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({
			received: 2,
			succeeded: 1,
			failed: 0,
			filtered: 1,
			queued: 0,
		});
	});
});

describe("a failing step is retried alone", () => {
	it("retries the Petstore after a 503 without calling the CRM again", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [lookup(c.crm), shape, createPet(c.pets, { retryPolicy: FAST })]);
		await injectFaults([{ status: 503 }]);
		const id = await send(flowId, { customer: "cy" });
		const done = await waitForExecution(id, "succeeded");
		const { crm, pets } = await requests();
		expect(crm).toHaveLength(1);
		expect(pets.map((r) => [r.responseStatus, r.idempotencyKey])).toEqual([
			[503, `${id}.pet`],
			[200, `${id}.pet`],
		]);
		expect(done.steps.find((s: { id: string }) => s.id === "pet")).toMatchObject({ status: "succeeded", attempts: 2 });
		expect(done.attempts.map((a: { status: number }) => a.status)).toEqual([200, 503, 200]);
	});

	it("a manual retry resumes at the failed step: the CRM's call count stays 1", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [lookup(c.crm), shape, createPet(c.pets, { retryPolicy: { maxAttempts: 1 } })]);
		await injectFaults([{ status: 503 }]);
		const id = await send(flowId, { customer: "dee" });
		const failed = await waitForExecution(id, "failed");
		expect(failed.error).toMatch(/^Step pet: Petstore answered 503/);
		expect((await requests()).crm).toHaveLength(1);
		await api("POST", `/api/executions/${id}/retry`);
		const done = await waitForExecution(id, "succeeded");
		const { crm, pets } = await requests();
		expect(crm).toHaveLength(1);
		expect(pets.map((r) => r.responseStatus)).toEqual([503, 200]);
		expect(done.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
			["crm", "succeeded"],
			["shape", "succeeded"],
			["pet", "succeeded"],
		]);
	});

	it("a restart mid-execution resumes at the step that was running: the earlier step is not called again", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [lookup(c.crm), shape, createPet(c.pets, { retryPolicy: FAST })]);
		await injectFaults([{ hangMs: 20_000 }]);
		const id = await send(flowId, { customer: "eve" });
		await eventually("the Petstore call to be under way", async () => (await requests()).pets.length === 1);
		// Like a runtime restart: every instance is torn down mid-call, storage stays.
		await abortAllDurableObjects();
		await eventually(
			"the execution to succeed after the restart",
			async () => {
				await fastForward(flowId);
				const { execution } = await api("GET", `/api/executions/${id}`);
				return execution.status === "succeeded" ? execution : undefined;
			},
			20_000,
		);
		const { crm, pets } = await requests();
		expect(crm).toHaveLength(1);
		expect(new Set(pets.map((r) => r.idempotencyKey))).toEqual(new Set([`${id}.pet`]));
		const { execution } = await api("GET", `/api/executions/${id}`);
		expect(execution.attempts[1]?.error).toContain("the object restarted during the call");
	});
});

describe("split and router", () => {
	it("runs a split's steps once per item, in item order", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [
			{
				id: "lines",
				component: "logic",
				action: "split",
				items: "lines",
				steps: [
					{
						id: "note",
						component: "http",
						action: "request",
						credentialId: c.crm,
						method: "POST",
						url: "/notes",
						body: "{'sku': $item.sku, 'at': $index}",
					},
				],
			},
			{ id: "count", component: "logic", action: "transform", expression: "$count($steps.lines)" },
		]);
		const id = await send(flowId, { lines: [{ sku: "a" }, { sku: "b" }, { sku: "c" }] });
		const done = await waitForExecution(id, "succeeded");
		const { crm } = await requests();
		expect(crm.map((r) => [r.body, r.idempotencyKey])).toEqual([
			[{ sku: "a", at: 0 }, `${id}.lines.0.note`],
			[{ sku: "b", at: 1 }, `${id}.lines.1.note`],
			[{ sku: "c", at: 2 }, `${id}.lines.2.note`],
		]);
		expect(done.steps.filter((s: { id: string }) => s.id === "note").map((s: { item: number }) => s.item)).toEqual([0, 1, 2]);
		expect(done.steps.at(-1)).toMatchObject({ id: "count", status: "succeeded" });
	});

	it("fans out to every route whose condition holds (mode all) and skips the others", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [
			{
				id: "fan",
				component: "logic",
				action: "router",
				mode: "all",
				routes: [
					{
						name: "crm",
						condition: "true",
						steps: [
							{
								id: "to_crm",
								component: "http",
								action: "request",
								credentialId: c.crm,
								method: "POST",
								url: "/notes",
								body: "{'to': 'crm'}",
							},
						],
					},
					{
						name: "pets",
						condition: "kind = 'pet'",
						steps: [createPet(c.pets, { id: "to_pets", mapping: { name: "petname", status: "'sold'" } })],
					},
					{
						name: "never",
						condition: "false",
						steps: [{ id: "nowhere", component: "http", action: "request", credentialId: c.crm, method: "GET", url: "/echo" }],
					},
				],
			},
		]);
		const id = await send(flowId, { kind: "pet", petname: "Fan" });
		const done = await waitForExecution(id, "succeeded");
		const { crm, pets } = await requests();
		expect(crm.map((r) => r.body)).toEqual([{ to: "crm" }]);
		expect(pets.map((r) => r.body)).toEqual([{ name: "Fan", status: "sold" }]);
		expect(done.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
			["nowhere", "skipped"],
			["to_crm", "succeeded"],
			["to_pets", "succeeded"],
			["fan", "succeeded"],
		]);
	});
});

describe("bad input at run time fails the execution, sends nothing it should not, and never stalls the flow", () => {
	it("refuses a computed URL outside the credential: nothing is sent, the message names the origin", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [
			lookup(c.crm, { url: "{{next}}" }),
			createPet(c.pets, { mapping: { name: "'After'", status: "'sold'" } }),
		]);
		const id = await send(flowId, { next: "http://127.0.0.1:9/steal" });
		const failed = await waitForExecution(id, "failed");
		expect(failed.error).toMatch(/goes to http:\/\/127.0.0.1:9, outside the credential's base URL .*nothing was sent/);
		// Nothing after the Petstore key's check when the credential was saved: no CRM call, no pet.
		expect((await requests()).all.filter((r) => r.path !== "/v2/user/me")).toEqual([]);
		// The flow goes on with the next execution.
		const next = await send(flowId, { next: `${crmBase()}/customers/x` });
		await waitForExecution(next, "succeeded");
	});

	it("fails naming the step whose output takes the carried outputs over 1 MiB, and cuts nothing", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [
			{ id: "first", component: "logic", action: "transform", expression: '$pad("", 600000, "x")' },
			{ id: "second", component: "logic", action: "transform", expression: '$pad("", 600000, "y")' },
			createPet(c.pets, { mapping: { name: "'Never'", status: "'sold'" } }),
		]);
		const id = await send(flowId, {});
		const failed = await waitForExecution(id, "failed");
		expect(failed.error).toMatch(/output of step second is 600002 bytes.*1048576 bytes an execution carries/);
		expect((await requests()).pets).toEqual([]);
	});
});

describe("an answer that says JSON but is not", () => {
	it("fails the execution at that step with a message a person can act on, and the next execution goes on", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [
			lookup(c.crm),
			createPet(c.pets, { mapping: { name: "$steps.crm.body.name", status: "'sold'" } }),
		]);
		await crmControl({ faults: [{ nonJson: true }] });
		const failed = await waitForExecution(await send(flowId, { customer: "html" }), "failed");
		expect(failed.error).toMatch(/^Step "CRM lookup" \(crm\): The answer says it is JSON \(application\/json\) but is not/);
		expect((await requests()).pets).toEqual([]);
		await waitForExecution(await send(flowId, { customer: "ok" }), "succeeded");
	});
});

describe("OAuth2 client credentials", () => {
	it("fetches a token once, reuses it, and fetches a new one (then retries once) when the API answers 401", async () => {
		const c = await credentials({
			type: "oauth2ClientCredentials",
			tokenUrl: tokenUrl(),
			clientId: "crm-client",
			clientSecret: "crm-secret",
		});
		const flowId = await runningFlow(c.hook, [lookup(c.crm)]);
		await resetPetstore();
		await waitForExecution(await send(flowId, { customer: "a" }), "succeeded");
		await waitForExecution(await send(flowId, { customer: "b" }), "succeeded");
		let seen = await requests();
		expect(seen.tokens).toHaveLength(1);
		expect(seen.crm.map((r) => r.authorization)).toEqual(["Bearer crm-token-1", "Bearer crm-token-1"]);
		await crmControl({ revokeTokens: true });
		const third = await waitForExecution(await send(flowId, { customer: "c" }), "succeeded");
		seen = await requests();
		expect(seen.tokens).toHaveLength(2);
		expect(seen.crm.slice(2).map((r) => [r.responseStatus, r.authorization])).toEqual([
			[401, "Bearer crm-token-1"],
			[200, "Bearer crm-token-2"],
		]);
		expect(JSON.stringify(third)).not.toContain("crm-token");
	});
});

describe("per-key order across executions of many steps", () => {
	it("starts a key's next execution only after the previous one finished all of its steps, keys in parallel", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [lookup(c.crm), createPet(c.pets, { mapping: { name: "petname", status: "'sold'" } })], {
			delivery: { ordering: "key", key: "customer", concurrency: 4 },
		});
		await crmControl({ latencyMs: 40 });
		await api("POST", `/api/flows/${flowId}/pause`);
		const sent: Array<{ customer: string; petname: string }> = [];
		for (let i = 0; i < 4; i++) for (const customer of ["k1", "k2", "k3"]) sent.push({ customer, petname: `${customer}-${i}` });
		for (const body of sent) await send(flowId, body);
		await api("POST", `/api/flows/${flowId}/resume`);
		await eventually("all 12 to succeed", async () => (await api("GET", `/api/flows/${flowId}`)).flow.counters.succeeded === 12, 30_000);
		const { all } = await requests();
		for (const customer of ["k1", "k2", "k3"]) {
			const mine = all.filter(
				(r) => r.path === `/crm/customers/${customer}` || (r.path === "/v2/pet" && String(r.body?.name).startsWith(`${customer}-`)),
			);
			// crm, pet, crm, pet, …: each execution's two calls, executions in acceptance order, never overlapping.
			expect(mine.map((r) => (r.path === "/v2/pet" ? r.body.name : "crm"))).toEqual(
				[0, 1, 2, 3].flatMap((i) => ["crm", `${customer}-${i}`]),
			);
			for (let i = 1; i < mine.length; i++)
				expect(Date.parse(mine[i]?.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(mine[i - 1]?.endedAt as string));
		}
		// Keys ran in parallel: some CRM calls of different keys overlapped.
		const crmCalls = all.filter((r) => r.path.startsWith("/crm/"));
		const overlapped = crmCalls.some((a) =>
			crmCalls.some((b) => a !== b && a.startedAt < (b.endedAt as string) && b.startedAt < (a.endedAt as string)),
		);
		expect(overlapped).toBe(true);
	});
});

describe("the tutorial's flow is unchanged", () => {
	it("keeps sending the execution id as its idempotency key", async () => {
		const c = await credentials();
		const flowId = await runningFlow(c.hook, [
			{ component: "petstore", action: "createPet", credentialId: c.pets, mapping: { name: "petname", status: "petstatus" } },
		]);
		const id = await send(flowId, { petname: "Gromit", petstatus: "Sold" });
		const done = await waitForExecution(id, "succeeded");
		expect((await requests()).pets.map((r) => r.idempotencyKey)).toEqual([id]);
		expect(done.steps).toEqual([expect.objectContaining({ id: "step_1", status: "succeeded", attempts: 1 })]);
		expect((await call("GET", `/api/executions/${id}`)).status).toBe(200);
	});
});

describe("backpressure per destination", () => {
	it("a 429 from the CRM holds the calls to the CRM, not the Petstore's", async () => {
		// The local server serves both; the CRM is reached by another name, so it is another origin.
		const crmElsewhere = crmBase().replace("127.0.0.1", "localhost");
		const c = await credentials();
		c.crm = (
			await api("POST", "/api/credentials", {
				component: "http",
				name: "crm elsewhere",
				baseUrl: crmElsewhere,
				auth: { type: "bearer", token: "crm-token" },
			})
		).credential.id;
		const flowId = await runningFlow(
			c.hook,
			[
				{
					id: "route",
					component: "logic",
					action: "router",
					mode: "first",
					routes: [{ name: "crm", condition: "kind = 'crm'", steps: [lookup(c.crm, { retryPolicy: { baseDelayMs: 600_000 } })] }],
					otherwise: [createPet(c.pets, { id: "pet", mapping: { name: "name", status: "'sold'" } })],
				},
			],
			{ delivery: { ordering: "none", concurrency: 4 } },
		);
		await crmControl({ faults: [{ status: 429, retryAfter: "3600" }] });
		const throttled = await send(flowId, { kind: "crm", customer: "slow" });
		const retrying = await waitForExecution(throttled, "retrying");
		expect(retrying.error).toMatch(
			/answered 429: Injected fault; calls to http:\/\/localhost:\d+ stay at 1 at once \(was 1\) and hold until .* \(Retry-After\)/,
		);
		// The Petstore is another destination: its calls go on at once.
		const pet = await send(flowId, { kind: "pet", name: "Unhindered" });
		await waitForExecution(pet, "succeeded");
		// Another CRM call waits out the CRM's Retry-After: nothing more reaches the CRM.
		const held = await send(flowId, { kind: "crm", customer: "waits" });
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect((await api("GET", `/api/executions/${held}`)).execution.status).toBe("queued");
		expect((await requests()).crm.map((r) => r.path)).toEqual(["/crm/customers/slow"]);
	});
});
