import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { VERIFY_TIMEOUT_MS } from "../../src/components/petstore/verify-key";
import { SampleRequests } from "../../src/delivery/sample-requests";
import {
	api,
	call,
	createPetstoreCredential,
	createRunningFlow,
	eventually,
	hook,
	ORIGIN,
	petstoreUrl,
	resetPetstore,
	waitForExecution,
} from "./helpers";

/** The admin API (docs/admin-api.md) walked through as the designer (or a user with curl) drives it. */

// No fault injected by another file may leak into these tests.
beforeEach(resetPetstore);

const JSON_TYPE = { "content-type": "application/json" };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** An admin API error: the status and a JSON body `{"error":{"message", "issues"?}}`. Returns the error. */
async function expectApiError(response: Response, status: number, message?: string | RegExp): Promise<{ message: string; issues?: any[] }> {
	const text = await response.text();
	expect(response.status, text).toBe(status);
	expect(response.headers.get("content-type")).toContain("application/json");
	const body = JSON.parse(text) as { error: { message: string; issues?: any[] } };
	expect(Object.keys(body)).toEqual(["error"]);
	expect(typeof body.error.message).toBe("string");
	expect(body.error.message.length).toBeGreaterThan(0);
	expect(Object.keys(body.error).every((key) => key === "message" || key === "issues")).toBe(true);
	if (body.error.issues !== undefined) expect(Array.isArray(body.error.issues)).toBe(true);
	if (typeof message === "string") expect(body.error.message).toBe(message);
	else if (message) expect(body.error.message).toMatch(message);
	return body.error;
}

/** A request with exactly these headers (no admin token unless given). */
function rawCall(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
	return exports.default.fetch(new Request(`${ORIGIN}${path}`, { method, headers, body }));
}

/** Calls an admin route and returns the text, asserting that none of `secrets` appears in it. */
async function callWithoutLeaks(secrets: string[], method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
	const response = await call(method, path, body);
	const text = await response.text();
	for (const secret of secrets) expect(text, `${method} ${path} leaks a secret`).not.toContain(secret);
	return { status: response.status, json: text ? JSON.parse(text) : null };
}

/** Every string anywhere in a JSON value. */
function stringsIn(value: unknown): string[] {
	if (typeof value === "string") return [value];
	if (Array.isArray(value)) return value.flatMap(stringsIn);
	if (typeof value === "object" && value !== null) return Object.values(value).flatMap(stringsIn);
	return [];
}

const tutorialMapping = { name: "petname", status: "petstatus" };
const tutorialBody = (petname = "Gromit", petstatus = "Sold") => JSON.stringify({ petname, petstatus });

async function sendTutorial(flowId: string, petname = "Gromit", petstatus = "Sold"): Promise<string> {
	const response = await hook(flowId, { headers: JSON_TYPE, body: tutorialBody(petname, petstatus) });
	const text = await response.text();
	expect(response.status, text).toBe(200);
	return (JSON.parse(text) as { requestId: string }).requestId;
}

async function webhookCredential(auth: Record<string, unknown> = { type: "none" }): Promise<string> {
	const { credential } = await api("POST", "/api/credentials", { component: "webhook", name: `hook ${auth.type}`, auth });
	return credential.id;
}

async function tutorialDraft(extras: { sample?: Record<string, unknown>; mapping?: Record<string, string> } = {}) {
	return {
		trigger: { component: "webhook", credentialId: await webhookCredential(), ...(extras.sample ? { sample: extras.sample } : {}) },
		steps: [
			{
				component: "petstore",
				action: "createPet",
				credentialId: await createPetstoreCredential(),
				mapping: extras.mapping ?? tutorialMapping,
			},
		],
	};
}

const basicAuth = (username: string, password: string) => ({ authorization: `Basic ${btoa(`${username}:${password}`)}` });

describe("GET /api/components", () => {
	it("lists the Webhook trigger first, then the Petstore action with Create a Pet and its fields", async () => {
		const { components } = await api("GET", "/api/components");
		// Issue 17 added the HTTP request and Logic components after the Petstore.
		expect(components.map((c: { id: string; kind: string }) => [c.id, c.kind])).toEqual([
			["webhook", "trigger"],
			["petstore", "action"],
			["http", "action"],
			["logic", "action"],
		]);
		const [webhook, petstore] = components;
		expect(webhook.title).toBe("Webhook");
		const typesIn = (group: string) =>
			webhook.credentialTypes
				.filter((t: { group: string }) => t.group === group)
				.map((t: { type: string; title: string }) => [t.type, t.title]);
		expect(webhook.credentialGroups).toEqual([
			{ id: "generic", title: "Generic" },
			{ id: "providers", title: "Providers" },
		]);
		expect(typesIn("generic")).toEqual([
			["none", "No Auth"],
			["basic", "Basic Auth"],
			["apiKey", "API Key Auth"],
			["hmac", "HMAC verification"],
			["standardWebhooks", "Standard Webhooks"],
		]);
		expect(typesIn("providers").map(([type]: [string]) => type)).toEqual([
			"github",
			"stripe",
			"shopify",
			"slack",
			"twilio",
			"paddle",
			"linear",
			"zoom",
			"meta",
			"square",
			"gitlab",
		]);
		// Each preset says where its secret is and which header it sends, for the designer to show.
		const stripe = webhook.credentialTypes.find((t: { type: string }) => t.type === "stripe");
		expect(stripe).toMatchObject({ title: "Stripe", header: "Stripe-Signature", toleranceSeconds: 300, deliveryId: { bodyField: "id" } });
		expect(stripe.secretLocation).toMatch(/Signing secret/);
		const fieldsOf = (type: string) => webhook.credentialTypes.find((t: { type: string }) => t.type === type).fields;
		expect(fieldsOf("basic")).toEqual([
			{ name: "username", label: "Username", required: true, secret: false },
			{ name: "password", label: "Password", required: true, secret: true },
		]);
		expect(fieldsOf("apiKey")).toContainEqual(expect.objectContaining({ name: "headerName", required: false, default: "x-api-key" }));
		expect(fieldsOf("hmac")).toContainEqual(
			expect.objectContaining({ name: "algorithm", options: ["sha1", "sha256", "sha512"], default: "sha256" }),
		);
		expect(fieldsOf("hmac")).toContainEqual(expect.objectContaining({ name: "headerName", default: "x-hookflow-signature" }));
		expect(fieldsOf("standardWebhooks")).toEqual([expect.objectContaining({ name: "secret", required: true, secret: true })]);

		expect(petstore.title).toBe("Petstore API (Node.js)");
		// The designer promises what the server does: the key check's own timeout.
		expect(petstore.verifyTimeoutSeconds).toBe(VERIFY_TIMEOUT_MS / 1000);
		expect(petstore.credentialFields).toEqual([
			{ name: "apiKey", label: "API key", required: true, secret: true },
			{
				name: "baseUrl",
				label: "Base URL",
				required: false,
				secret: false,
				changeRequires: "apiKey",
				hint: "http(s), without user name, query or fragment",
			},
		]);
		expect(webhook.triggerSettings).toEqual([expect.objectContaining({ name: "keepClientIpHeaders", default: false })]);
		// Create a Pet first (the tutorial's, the designer's default), then the actions issue 17 added.
		expect(petstore.actions.map((a: { id: string; title: string }) => [a.id, a.title])).toEqual([
			["createPet", "Create a Pet"],
			["getPetById", "Get a Pet by ID"],
			["findPetsByStatus", "Find Pets by Status"],
			["updatePet", "Update a Pet"],
			["deletePet", "Delete a Pet"],
		]);
		const fields = petstore.actions[0].fields;
		expect(fields.slice(0, 2)).toEqual([
			{ name: "name", label: "Name", required: true },
			{ name: "status", label: "Status", required: true, options: ["available", "pending", "sold"] },
		]);
		expect(fields.map((f: { name: string }) => f.name)).toEqual(["name", "status", "id", "category", "tags", "photoUrls"]);
		expect(fields.slice(2).every((f: { required: boolean }) => f.required === false)).toBe(true);
	});
});

describe("credentials", () => {
	it("creates, lists, reads, renames and deletes every type without ever returning a secret", async () => {
		const whsec = `whsec_${btoa("0123456789abcdef0123456789abcdef")}`;
		const presetSecrets = [
			"gh-Secret-1",
			"whsec_stripe-Secret-2",
			"shop-Secret-3",
			"slack-Secret-4",
			"twilio-Token-5",
			"paddle-Secret-6",
			"linear-Secret-7",
			"zoom-Token-8",
			"meta-App-9",
			"meta-Verify-10",
			"square-Key-11",
			"gitlab-Token-12",
			"hmac-Secret-13",
		];
		const secrets = ["pw-Basic-4f1c", "key-Api-77ab", "key-Partner-2c", "hmac-Secret-19d", "hmac-Secret-512", whsec, ...presetSecrets];
		const cases: Array<{ auth: Record<string, unknown>; type: string; details: Record<string, unknown> }> = [
			{ auth: { type: "none" }, type: "none", details: {} },
			{ auth: { type: "basic", username: "ops", password: "pw-Basic-4f1c" }, type: "basic", details: { username: "ops" } },
			{ auth: { type: "apiKey", key: "key-Api-77ab" }, type: "apiKey", details: { headerName: "x-api-key" } },
			{
				auth: { type: "apiKey", headerName: "X-Partner-Key", key: "key-Partner-2c" },
				type: "apiKey",
				details: { headerName: "x-partner-key" },
			},
			{
				auth: { type: "hmac", secret: "hmac-Secret-19d" },
				type: "hmac",
				details: { headerName: "x-hookflow-signature", algorithm: "sha256" },
			},
			{
				auth: { type: "hmac", secret: "hmac-Secret-512", algorithm: "sha512", headerName: "X-Hub-Signature" },
				type: "hmac",
				details: { headerName: "x-hub-signature", algorithm: "sha512" },
			},
			{ auth: { type: "standardWebhooks", secret: whsec }, type: "standardWebhooks", details: {} },
			{
				auth: {
					type: "hmac",
					secret: "hmac-Secret-13",
					algorithm: "sha1",
					encoding: "base64",
					headerName: "X-Sig",
					prefix: "v1=",
					signedContent: "{timestamp}.{body}",
					timestampHeader: "X-Sig-Time",
					toleranceSeconds: 120,
				},
				type: "hmac",
				details: {
					headerName: "x-sig",
					algorithm: "sha1",
					encoding: "base64",
					prefix: "v1=",
					signedContent: "{timestamp}.{body}",
					timestampHeader: "x-sig-time",
					toleranceSeconds: 120,
				},
			},
			{ auth: { type: "github", secret: "gh-Secret-1" }, type: "github", details: {} },
			{ auth: { type: "stripe", secret: "whsec_stripe-Secret-2" }, type: "stripe", details: {} },
			{ auth: { type: "shopify", secret: "shop-Secret-3" }, type: "shopify", details: {} },
			{ auth: { type: "slack", signingSecret: "slack-Secret-4" }, type: "slack", details: {} },
			{ auth: { type: "twilio", authToken: "twilio-Token-5" }, type: "twilio", details: {} },
			{ auth: { type: "paddle", secret: "paddle-Secret-6" }, type: "paddle", details: {} },
			{ auth: { type: "linear", secret: "linear-Secret-7" }, type: "linear", details: {} },
			{ auth: { type: "zoom", secretToken: "zoom-Token-8" }, type: "zoom", details: {} },
			{ auth: { type: "meta", appSecret: "meta-App-9", verifyToken: "meta-Verify-10" }, type: "meta", details: {} },
			{
				auth: { type: "square", signatureKey: "square-Key-11", notificationUrl: "https://hookflow.example.com/hook/abc" },
				type: "square",
				details: { notificationUrl: "https://hookflow.example.com/hook/abc" },
			},
			{ auth: { type: "gitlab", token: "gitlab-Token-12" }, type: "gitlab", details: {} },
		];

		const ids: string[] = [];
		for (const { auth, type, details } of cases) {
			const created = await callWithoutLeaks(secrets, "POST", "/api/credentials", { component: "webhook", name: `CRUD ${type}`, auth });
			expect(created.status).toBe(201);
			expect(created.json.credential).toEqual({
				id: expect.any(String),
				component: "webhook",
				name: `CRUD ${type}`,
				type,
				details,
				previousSecretExpiresAt: null,
				createdAt: expect.stringMatching(ISO),
				updatedAt: expect.stringMatching(ISO),
				// How to send a signed test: a command, or the provider's dashboard (Twilio, Linear).
				tryIt: ["twilio", "linear"].includes(type)
					? { testFrom: expect.any(String) }
					: { command: expect.stringContaining("curl"), hint: expect.any(String) },
			});
			ids.push(created.json.credential.id);
		}
		const petstore = await callWithoutLeaks(secrets, "POST", "/api/credentials", {
			component: "petstore",
			name: "CRUD petstore",
			apiKey: "secret",
			baseUrl: petstoreUrl(),
		});
		expect(petstore.status).toBe(201);
		expect(petstore.json.credential).toMatchObject({ component: "petstore", type: "petstore", details: { baseUrl: petstoreUrl() } });
		// The tutorial's Petstore key is the word "secret": it must not come back as any value.
		expect(stringsIn(petstore.json)).not.toContain("secret");
		const petstoreId = petstore.json.credential.id;

		const webhooks = await callWithoutLeaks(secrets, "GET", "/api/credentials?component=webhook");
		expect(webhooks.status).toBe(200);
		const listed = webhooks.json.credentials.map((c: { id: string }) => c.id);
		for (const id of ids) expect(listed).toContain(id);
		expect(listed).not.toContain(petstoreId);
		const all = await callWithoutLeaks(secrets, "GET", "/api/credentials");
		expect(all.json.credentials.map((c: { id: string }) => c.id)).toContain(petstoreId);
		expect(stringsIn(all.json)).not.toContain("secret");
		const petstores = await callWithoutLeaks(secrets, "GET", "/api/credentials?component=petstore");
		expect(petstores.json.credentials.every((c: { component: string }) => c.component === "petstore")).toBe(true);

		for (const [index, id] of ids.entries()) {
			const read = await callWithoutLeaks(secrets, "GET", `/api/credentials/${id}`);
			expect(read.status).toBe(200);
			expect(read.json.credential).toMatchObject({ id, type: cases[index]?.type, details: cases[index]?.details });
		}
		const readPetstore = await callWithoutLeaks(secrets, "GET", `/api/credentials/${petstoreId}`);
		expect(stringsIn(readPetstore.json)).not.toContain("secret");

		const basicId = ids[1] as string;
		const renamed = await callWithoutLeaks(secrets, "PATCH", `/api/credentials/${basicId}`, { name: "Renamed basic" });
		expect(renamed.status).toBe(200);
		expect(renamed.json.credential).toMatchObject({ id: basicId, name: "Renamed basic", type: "basic", details: { username: "ops" } });
		expect(renamed.json.credential.previousSecretExpiresAt).toBeNull();
		expect((await api("GET", `/api/credentials/${basicId}`)).credential.name).toBe("Renamed basic");

		for (const id of [...ids, petstoreId]) {
			expect((await call("DELETE", `/api/credentials/${id}`)).status).toBe(204);
			await expectApiError(await call("GET", `/api/credentials/${id}`), 404, `Credential ${id} does not exist`);
		}
		const after = (await api("GET", "/api/credentials")).credentials.map((c: { id: string }) => c.id);
		for (const id of [...ids, petstoreId]) expect(after).not.toContain(id);
	});

	it("answers 400 with issues for invalid credentials, without echoing the secret", async () => {
		const badHeader = await expectApiError(
			await call("POST", "/api/credentials", {
				component: "webhook",
				name: "bad",
				auth: { type: "apiKey", headerName: "X Key", key: "k-3" },
			}),
			400,
		);
		expect(badHeader.issues).toContainEqual({ path: "auth.headerName", message: "Header names may use letters, digits, - and _ only" });

		const response = await call("POST", "/api/credentials", {
			component: "webhook",
			name: "bad",
			auth: { type: "standardWebhooks", secret: "plain-Secret-88" },
		});
		const text = await response.clone().text();
		expect(text).not.toContain("plain-Secret-88");
		const error = await expectApiError(response, 400, /whsec_/);
		expect(error.issues).toContainEqual(expect.objectContaining({ path: "auth.secret" }));

		const missing = await expectApiError(
			await call("POST", "/api/credentials", { component: "webhook", name: "bad", auth: { type: "basic", username: "ops" } }),
			400,
		);
		expect(missing.issues?.map((i) => i.path)).toContain("auth.password");
		await expectApiError(await call("POST", "/api/credentials", { component: "slack", name: "bad" }), 400);
	});

	it("refuses a Petstore key the Petstore refuses (422 with the reason) and saves nothing", async () => {
		const name = `Refused ${crypto.randomUUID()}`;
		const response = await call("POST", "/api/credentials", { component: "petstore", name, apiKey: "wrong" });
		const error = await expectApiError(response, 422, /refused the API key/);
		expect(error.message).toContain("401");
		expect(error.message).not.toContain("wrong");

		const unreachable = await call("POST", "/api/credentials", {
			component: "petstore",
			name,
			apiKey: "secret",
			baseUrl: "http://127.0.0.1:9/v2",
		});
		await expectApiError(unreachable, 422, /unreachable|did not answer/);

		const { credentials } = await api("GET", "/api/credentials?component=petstore");
		expect(credentials.map((c: { name: string }) => c.name)).not.toContain(name);

		// Changing the key of a saved credential is verified the same way and keeps the old key.
		const id = await createPetstoreCredential();
		await expectApiError(await call("PATCH", `/api/credentials/${id}`, { apiKey: "wrong" }), 422, /refused the API key/);
		const { flow } = await api("POST", "/api/flows", { name: "Key kept" });
		await api("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook", credentialId: await webhookCredential(), sample: { petname: "Kept", petstatus: "sold" } },
			steps: [{ component: "petstore", action: "createPet", credentialId: id, mapping: tutorialMapping }],
		});
		const { sample } = await api("POST", `/api/flows/${flow.id}/steps/0/sample`, {});
		expect(sample.response.status).toBe(200);
	});

	it("rotates a secret: the old one keeps working during the overlap, and only as long as asked", async () => {
		const { flowId, webhookCredentialId } = await createRunningFlow({ type: "basic", username: "user", password: "pw-old-1" });
		const send = (password: string) => hook(flowId, { headers: { ...JSON_TYPE, ...basicAuth("user", password) }, body: tutorialBody() });

		const before = Date.now();
		const rotated = await callWithoutLeaks(["pw-old-1", "pw-new-2"], "PATCH", `/api/credentials/${webhookCredentialId}`, {
			auth: { type: "basic", username: "user", password: "pw-new-2" },
		});
		expect(rotated.status).toBe(200);
		const expiresAt = Date.parse(rotated.json.credential.previousSecretExpiresAt);
		expect(expiresAt - before).toBeGreaterThan(24 * 3600_000 - 60_000);
		expect(expiresAt - before).toBeLessThan(24 * 3600_000 + 60_000);

		expect((await send("pw-new-2")).status).toBe(200);
		expect((await send("pw-old-1")).status).toBe(200);
		expect((await send("pw-other")).status).toBe(401);

		// A rotation without overlap retires the old secret at once.
		const immediate = await api("PATCH", `/api/credentials/${webhookCredentialId}`, {
			auth: { type: "basic", username: "user", password: "pw-third-3" },
			previousValidForSeconds: 0,
		});
		expect(immediate.credential.previousSecretExpiresAt).toBeNull();
		expect((await send("pw-third-3")).status).toBe(200);
		expect((await send("pw-new-2")).status).toBe(401);
		expect((await send("pw-old-1")).status).toBe(401);
	});

	it("refuses to delete a credential a running flow uses (409), and deletes it once the flow is stopped", async () => {
		const { flowId, webhookCredentialId, petstoreCredentialId } = await createRunningFlow({ type: "apiKey", key: "key-in-use" });
		for (const id of [webhookCredentialId, petstoreCredentialId]) {
			const error = await expectApiError(await call("DELETE", `/api/credentials/${id}`), 409);
			expect(error.message).toContain(flowId);
			expect((await api("GET", `/api/credentials/${id}`)).credential.id).toBe(id);
		}
		await api("POST", `/api/flows/${flowId}/stop`);
		for (const id of [webhookCredentialId, petstoreCredentialId]) {
			expect((await call("DELETE", `/api/credentials/${id}`)).status).toBe(204);
		}
	});

	it("does not start a flow whose published version uses a deleted credential", async () => {
		// Otherwise the flow shows "running" while every request to its URL answers 404.
		const { flowId, webhookCredentialId } = await createRunningFlow();
		await api("POST", `/api/flows/${flowId}/stop`);
		expect((await call("DELETE", `/api/credentials/${webhookCredentialId}`)).status).toBe(204);
		await expectApiError(
			await call("POST", `/api/flows/${flowId}/start`),
			409,
			`Version 1 of this flow uses webhook credential ${webhookCredentialId}, which does not exist; choose another and publish again`,
		);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.status).toBe("stopped");
	});
});

describe("flows", () => {
	it("creates a draft flow with an unguessable id, lists it and reads it", async () => {
		const created = await call("POST", "/api/flows", { name: "Orders to pets" });
		expect(created.status).toBe(201);
		const { flow } = (await created.json()) as { flow: any };
		expect(flow).toEqual({
			id: expect.stringMatching(/^[A-Za-z0-9_-]{22,}$/),
			name: "Orders to pets",
			status: "draft",
			version: null,
			hookUrl: `${ORIGIN}/hook/${flow.id}`,
			draft: null,
			counters: {
				received: 0,
				succeeded: 0,
				failed: 0,
				inFlight: 0,
				authFailures: 0,
				handshakes: 0,
				queued: 0,
				oldestQueuedAt: null,
				paused: false,
			},
			createdAt: expect.stringMatching(ISO),
			updatedAt: expect.stringMatching(ISO),
		});
		const other = (await api("POST", "/api/flows", { name: "Another" })).flow;
		expect(other.id).not.toBe(flow.id);

		const { flows } = await api("GET", "/api/flows");
		expect(flows.map((f: { id: string }) => f.id)).toEqual(expect.arrayContaining([flow.id, other.id]));
		expect(flows.find((f: { id: string }) => f.id === flow.id)).toEqual(flow);
		expect((await api("GET", `/api/flows/${flow.id}`)).flow).toEqual(flow);
	});

	it("cannot start or stop before the first publish (409), and refuses to publish an incomplete draft (422 with issues)", async () => {
		const { flow } = await api("POST", "/api/flows", { name: "Unpublished" });
		await expectApiError(await call("POST", `/api/flows/${flow.id}/start`), 409, "Flow has no published version");
		await expectApiError(await call("POST", `/api/flows/${flow.id}/stop`), 409, "Flow has no published version");

		const empty = await expectApiError(await call("POST", `/api/flows/${flow.id}/publish`), 422);
		expect(empty.issues?.length).toBeGreaterThan(0);

		const saved = await api("PUT", `/api/flows/${flow.id}/draft`, { trigger: { component: "webhook" }, steps: [] });
		expect(saved.flow.draft).toEqual({ trigger: { component: "webhook" }, steps: [] });
		const incomplete = await expectApiError(await call("POST", `/api/flows/${flow.id}/publish`), 422, /not ready to publish/);
		expect(incomplete.issues).toEqual(
			expect.arrayContaining([
				{ path: "trigger.credentialId", message: "Choose a webhook credential" },
				{ path: "steps", message: "A flow needs exactly one action step" },
			]),
		);

		await api("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook", credentialId: await webhookCredential() },
			steps: [{ component: "petstore", action: "createPet", mapping: tutorialMapping }],
		});
		const noPetstore = await expectApiError(await call("POST", `/api/flows/${flow.id}/publish`), 422);
		expect(noPetstore.issues).toContainEqual({ path: "steps.0.credentialId", message: "Choose a Petstore credential" });

		await api("PUT", `/api/flows/${flow.id}/draft`, {
			trigger: { component: "webhook", credentialId: "no-such-credential" },
			steps: [{ component: "petstore", action: "createPet", credentialId: await createPetstoreCredential(), mapping: tutorialMapping }],
		});
		await expectApiError(await call("POST", `/api/flows/${flow.id}/publish`), 422, /no-such-credential/);

		await api("PUT", `/api/flows/${flow.id}/draft`, await tutorialDraft({ mapping: { name: "petname &", status: "petstatus" } }));
		await expectApiError(await call("POST", `/api/flows/${flow.id}/publish`), 422, /Mapping for name/);

		const after = (await api("GET", `/api/flows/${flow.id}`)).flow;
		expect(after).toMatchObject({ status: "draft", version: null });
	});

	it("answers 400 with issues for an invalid draft", async () => {
		const { flow } = await api("POST", "/api/flows", { name: "Invalid draft" });
		const error = await expectApiError(
			await call("PUT", `/api/flows/${flow.id}/draft`, {
				trigger: { component: "webhook" },
				steps: [{ component: "slack", action: "createPet", mapping: {} }],
			}),
			400,
		);
		expect(error.issues).toContainEqual(expect.objectContaining({ path: "steps.0.component" }));
		expect((await api("GET", `/api/flows/${flow.id}`)).flow.draft).toBeNull();
	});

	it("publishes immutable versions; publishing while running switches new executions to the new version", async () => {
		const { flow } = await api("POST", "/api/flows", { name: "Versions" });
		const draft = await tutorialDraft();
		await api("PUT", `/api/flows/${flow.id}/draft`, draft);
		expect(await api("POST", `/api/flows/${flow.id}/publish`)).toEqual({ version: 1 });
		expect((await api("GET", `/api/flows/${flow.id}`)).flow).toMatchObject({ status: "draft", version: 1 });

		const started = await api("POST", `/api/flows/${flow.id}/start`);
		expect(started.flow).toMatchObject({ id: flow.id, status: "running", version: 1 });
		const first = await waitForExecution(await sendTutorial(flow.id), "succeeded");
		expect(first.version).toBe(1);
		expect(first.request.body).toEqual({ name: "Gromit", status: "sold" });

		// Editing the draft changes nothing until it is published.
		const edited = { ...draft, steps: [{ ...draft.steps[0], mapping: { name: 'petname & " II"', status: "petstatus" } }] };
		await api("PUT", `/api/flows/${flow.id}/draft`, edited);
		const unpublished = await waitForExecution(await sendTutorial(flow.id), "succeeded");
		expect(unpublished.version).toBe(1);
		expect(unpublished.request.body.name).toBe("Gromit");

		expect(await api("POST", `/api/flows/${flow.id}/publish`)).toEqual({ version: 2 });
		const current = (await api("GET", `/api/flows/${flow.id}`)).flow;
		expect(current).toMatchObject({ status: "running", version: 2, draft: edited });
		const second = await waitForExecution(await sendTutorial(flow.id), "succeeded");
		expect(second.version).toBe(2);
		expect(second.request.body).toEqual({ name: "Gromit II", status: "sold" });
		// The first execution still shows the version it ran on.
		expect((await api("GET", `/api/executions/${first.id}`)).execution.version).toBe(1);

		const stopped = await api("POST", `/api/flows/${flow.id}/stop`);
		expect(stopped.flow).toMatchObject({ status: "stopped", version: 2 });
		expect((await api("GET", `/api/flows/${flow.id}`)).flow.counters).toEqual({
			received: 3,
			succeeded: 3,
			failed: 0,
			inFlight: 0,
			authFailures: 0,
			handshakes: 0,
			queued: 0,
			oldestQueuedAt: null,
			paused: false,
		});
	});

	it("DELETE stops and deletes the flow with its run log", async () => {
		const { flowId } = await createRunningFlow();
		const executionId = await sendTutorial(flowId);
		await waitForExecution(executionId, "succeeded");

		expect((await call("DELETE", `/api/flows/${flowId}`)).status).toBe(204);
		await expectApiError(await call("GET", `/api/flows/${flowId}`), 404, `Flow ${flowId} does not exist`);
		await expectApiError(await call("GET", `/api/flows/${flowId}/executions`), 404);
		await expectApiError(await call("GET", `/api/executions/${executionId}`), 404);
		expect((await api("GET", "/api/flows")).flows.map((f: { id: string }) => f.id)).not.toContain(flowId);
		expect((await hook(flowId, { method: "HEAD" })).status).toBe(404);
		await expectApiError(await call("DELETE", `/api/flows/${flowId}`), 404);
	});
});

describe("samples", () => {
	it("a one-time sample URL: the long-poll returns the request sent there, a second use is refused", async () => {
		const { flow } = await api("POST", "/api/flows", { name: "Sampled" });
		const created = await call("POST", `/api/flows/${flow.id}/sample-request`);
		expect(created.status).toBeLessThan(300);
		const { url, expiresAt } = (await created.json()) as { url: string; expiresAt: string };
		expect(url).toMatch(new RegExp(`^${ORIGIN}/sample/${flow.id}/[A-Za-z0-9_-]{32}\\.[A-Za-z0-9_-]{43}$`));
		const ttl = Date.parse(expiresAt) - Date.now();
		expect(ttl).toBeGreaterThan(9 * 60_000);
		expect(ttl).toBeLessThanOrEqual(10 * 60_000);

		expect(await api("GET", `/api/flows/${flow.id}/sample-request?wait=0`)).toEqual({ sample: null, expiresAt });

		const started = Date.now();
		// The sample is sent only once the long-poll waits in the flow object (it registers its
		// wake-up in the same turn as the call), so the wake-up is what is tested, not a late read.
		const polls = vi.spyOn(SampleRequests.prototype, "await");
		const waiting = api("GET", `/api/flows/${flow.id}/sample-request?wait=20`);
		await eventually("the long-poll to wait in the flow object", async () => polls.mock.calls.some(([waitMs]) => waitMs === 20_000));
		polls.mockRestore();
		const sent = await exports.default.fetch(
			new Request(`${url}?source=designer`, {
				method: "POST",
				headers: { ...JSON_TYPE, "x-shop": "north", authorization: "Bearer sender-token" },
				body: JSON.stringify({ petname: "Sample", petstatus: "Available" }),
			}),
		);
		expect(sent.status, await sent.clone().text()).toBe(200);
		const polled = await waiting;
		expect(Date.now() - started).toBeLessThan(10_000);
		expect(polled.sample).toMatchObject({
			petname: "Sample",
			petstatus: "Available",
			_method: "POST",
			_query: { source: "designer" },
			_headers: { "x-shop": "north" },
		});
		expect(polled.sample._headers.authorization).toBeUndefined();

		const again = await exports.default.fetch(new Request(url, { method: "POST", headers: JSON_TYPE, body: "{}" }));
		expect(again.status).toBe(404);
		expect(Object.keys((await again.json()) as object)).toEqual(["error"]);
		// The sample stays readable for the designer.
		expect((await api("GET", `/api/flows/${flow.id}/sample-request?wait=0`)).sample.petname).toBe("Sample");
		const forged = await exports.default.fetch(new Request(`${ORIGIN}/sample/${flow.id}/not-the-token`, { method: "POST" }));
		expect(forged.status).toBe(404);
	});

	it("previews a mapping on a sample: the Petstore request, or the validation errors", async () => {
		const preview = (sample: Record<string, unknown>, mapping: Record<string, string>) =>
			api("POST", "/api/mappings/preview", { sample, mapping });

		expect(await preview({ petname: "Gromit", petstatus: "Sold" }, tutorialMapping)).toEqual({
			request: { name: "Gromit", status: "sold" },
			errors: [],
		});
		expect(await preview({ petname: "Gromit", petstatus: "Unknown" }, tutorialMapping)).toEqual({
			request: null,
			errors: ["Provided status is invalid."],
		});
		expect(await preview({ petstatus: "sold" }, tutorialMapping)).toEqual({ request: null, errors: ["Name is required"] });
		expect(await preview({ petname: "Gromit" }, tutorialMapping)).toEqual({ request: null, errors: ["Status is required"] });
		expect(
			await preview(
				{ pet: { name: "Gromit", tags: ["dog", "clever"] } },
				{ name: 'pet.name & " the dog"', status: '"PENDING"', tags: 'pet.tags.{ "name": $ }' },
			),
		).toEqual({ request: { name: "Gromit the dog", status: "pending", tags: [{ name: "dog" }, { name: "clever" }] }, errors: [] });

		const broken = await preview({ petname: "Gromit" }, { name: "petname &", status: '"sold"' });
		expect(broken.request).toBeNull();
		expect(broken.errors).toHaveLength(1);
		expect(broken.errors[0]).toMatch(/^name: /);

		const invalid = await expectApiError(await call("POST", "/api/mappings/preview", { sample: {}, mapping: { colour: "x" } }), 400);
		expect(invalid.issues?.length).toBeGreaterThan(0);
	});

	it("retrieves a sample from the Petstore with the draft's sample and mapping (a real call)", async () => {
		const { flow } = await api("POST", "/api/flows", { name: "Retrieve sample" });
		await expectApiError(await call("POST", `/api/flows/${flow.id}/steps/0/sample`, {}), 422);

		const draft = await tutorialDraft({ sample: { petname: "Sample Pet", petstatus: "Pending" } });
		await api("PUT", `/api/flows/${flow.id}/draft`, draft);
		const response = await call("POST", `/api/flows/${flow.id}/steps/0/sample`);
		const text = await response.text();
		expect(response.status, text).toBe(200);
		const { sample } = JSON.parse(text);
		expect(sample.request).toMatchObject({ method: "POST", url: `${petstoreUrl()}/pet`, body: { name: "Sample Pet", status: "pending" } });
		expect(sample.response).toMatchObject({ status: 200, body: { id: expect.any(Number), name: "Sample Pet", status: "pending" } });
		expect(stringsIn(sample)).not.toContain("secret");

		// The pet really exists in the Petstore.
		const pet = await fetch(`${petstoreUrl()}/pet/${sample.response.body.id}`, { headers: { "api-key": "secret" } });
		expect(await pet.json()).toMatchObject({ name: "Sample Pet", status: "pending" });

		// An explicit sample and mapping win over the draft's.
		const other = await api("POST", `/api/flows/${flow.id}/steps/0/sample`, {
			sample: { title: "Other", state: "sold" },
			mapping: { name: "title", status: "state" },
		});
		expect(other.sample.request.body).toEqual({ name: "Other", status: "sold" });
		expect(other.sample.response.status).toBe(200);

		// A sample the mapping cannot turn into a valid pet is refused before any call.
		const invalid = await expectApiError(
			await call("POST", `/api/flows/${flow.id}/steps/0/sample`, { sample: { petname: "X", petstatus: "Unknown" } }),
			422,
			"Provided status is invalid.",
		);
		expect(invalid.issues).toEqual(["Provided status is invalid."]);
	});
});

describe("executions", () => {
	it("pages the run log newest first, filters by status, shows details and retries failed executions", async () => {
		const { flowId } = await createRunningFlow();
		const first = await sendTutorial(flowId, "First", "available");
		await waitForExecution(first, "succeeded");
		const broken = await sendTutorial(flowId, "Broken", "Unknown");
		const failed = await waitForExecution(broken, "failed");
		const third = await sendTutorial(flowId, "Third", "sold");
		await waitForExecution(third, "succeeded");

		const page1 = await api("GET", `/api/flows/${flowId}/executions?limit=2`);
		expect(page1.executions.map((e: { id: string }) => e.id)).toEqual([third, broken]);
		expect(typeof page1.nextCursor).toBe("string");
		const page2 = await api("GET", `/api/flows/${flowId}/executions?limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`);
		expect(page2).toEqual({ executions: [expect.objectContaining({ id: first })], nextCursor: null, statuses: expect.any(Array) });
		expect(page1.executions[0]).toEqual({
			id: third,
			flowId,
			version: 1,
			status: "succeeded",
			receivedAt: expect.stringMatching(ISO),
			finishedAt: expect.stringMatching(ISO),
			attempts: 1,
			durationMs: expect.any(Number),
			error: null,
			replayOf: null,
		});

		const onlyFailed = await api("GET", `/api/flows/${flowId}/executions?status=failed`);
		expect(onlyFailed).toEqual({
			executions: [expect.objectContaining({ id: broken, status: "failed" })],
			nextCursor: null,
			statuses: expect.any(Array),
		});
		const onlySucceeded = await api("GET", `/api/flows/${flowId}/executions?status=succeeded`);
		expect(onlySucceeded.executions.map((e: { id: string }) => e.id)).toEqual([third, first]);
		await expectApiError(await call("GET", `/api/flows/${flowId}/executions?status=bogus`), 400);
		await expectApiError(await call("GET", `/api/flows/${flowId}/executions?cursor=bm9wZQ`), 400, /cursor/);

		// Details: the input, the validation error, no Petstore call, one attempt.
		expect(failed).toMatchObject({
			id: broken,
			flowId,
			version: 1,
			status: "failed",
			error: "Provided status is invalid.",
			attempts: [
				{
					n: 1,
					startedAt: expect.stringMatching(ISO),
					durationMs: expect.any(Number),
					status: null,
					outcome: "failed",
					error: "Provided status is invalid.",
				},
			],
			input: expect.objectContaining({ petname: "Broken", petstatus: "Unknown", _method: "POST" }),
			request: null,
			response: null,
		});
		const succeeded = (await api("GET", `/api/executions/${third}`)).execution;
		expect(succeeded.attempts).toEqual([expect.objectContaining({ n: 1, status: 200, outcome: "succeeded", error: null })]);
		expect(succeeded.response).toMatchObject({ status: 200, body: { name: "Third", status: "sold" } });
		expect(succeeded.request.headers?.["api-key"]).toBeUndefined();

		// Retrying the failed one runs it again; it fails again and the second attempt joins the first.
		const retried = await api("POST", `/api/executions/${broken}/retry`);
		expect(retried.execution.id).toBe(broken);
		const again = await eventually("the retried execution to fail a second time", async () => {
			const { execution } = await api("GET", `/api/executions/${broken}`);
			return execution.status === "failed" && execution.attempts.length === 2 && execution;
		});
		expect(again.attempts.map((a: { n: number; outcome: string }) => [a.n, a.outcome])).toEqual([
			[1, "failed"],
			[2, "failed"],
		]);
		expect(again.error).toBe("Provided status is invalid.");

		await expectApiError(await call("POST", `/api/executions/${third}/retry`), 409, /succeeded/);
		await expectApiError(await call("POST", `/api/executions/${"0".repeat(32)}/retry`), 404);
		await expectApiError(await call("GET", `/api/executions/${"0".repeat(32)}`), 404);

		// Retry all: every failed execution of the flow, and only those.
		const alsoBroken = await sendTutorial(flowId, "Also broken", "Unknown");
		await waitForExecution(alsoBroken, "failed");
		expect(await api("POST", `/api/flows/${flowId}/retry-failed`)).toEqual({ retried: 2 });
		await eventually("both failed executions to be retried", async () => {
			const [a, b] = await Promise.all([api("GET", `/api/executions/${broken}`), api("GET", `/api/executions/${alsoBroken}`)]);
			return (
				a.execution.status === "failed" &&
				a.execution.attempts.length === 3 &&
				b.execution.status === "failed" &&
				b.execution.attempts.length === 2
			);
		});
		expect((await api("GET", `/api/executions/${third}`)).execution.attempts).toHaveLength(1);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toEqual({
			received: 4,
			succeeded: 2,
			failed: 2,
			inFlight: 0,
			authFailures: 0,
			handshakes: 0,
			queued: 0,
			oldestQueuedAt: null,
			paused: false,
		});

		const { flow: other } = await api("POST", "/api/flows", { name: "Nothing failed" });
		expect(await api("POST", `/api/flows/${other.id}/retry-failed`)).toEqual({ retried: 0 });
	});
});

describe("errors and authentication", () => {
	it("answers 401 on every route without the admin token or with a wrong one, and changes nothing", async () => {
		const { flowId, webhookCredentialId } = await createRunningFlow();
		const executionId = await sendTutorial(flowId);
		await waitForExecution(executionId, "succeeded");
		const routes: Array<[string, string, unknown?]> = [
			["GET", "/api/components"],
			["GET", "/api/credentials"],
			["POST", "/api/credentials", { component: "webhook", name: "x", auth: { type: "none" } }],
			["GET", `/api/credentials/${webhookCredentialId}`],
			["PATCH", `/api/credentials/${webhookCredentialId}`, { name: "hijacked" }],
			["DELETE", `/api/credentials/${webhookCredentialId}`],
			["GET", "/api/flows"],
			["POST", "/api/flows", { name: "x" }],
			["GET", `/api/flows/${flowId}`],
			["PUT", `/api/flows/${flowId}/draft`, { trigger: { component: "webhook" }, steps: [] }],
			["POST", `/api/flows/${flowId}/publish`],
			["POST", `/api/flows/${flowId}/start`],
			["POST", `/api/flows/${flowId}/stop`],
			["DELETE", `/api/flows/${flowId}`],
			["POST", `/api/flows/${flowId}/sample-request`],
			["GET", `/api/flows/${flowId}/sample-request?wait=0`],
			["POST", `/api/flows/${flowId}/steps/0/sample`, {}],
			["GET", `/api/flows/${flowId}/executions`],
			["POST", `/api/flows/${flowId}/retry-failed`],
			["GET", `/api/executions/${executionId}`],
			["POST", `/api/executions/${executionId}/retry`],
			["POST", "/api/mappings/preview", { sample: {}, mapping: tutorialMapping }],
			["GET", "/api/no-such-route"],
		];
		for (const [method, path, body] of routes) {
			const payload = body === undefined ? undefined : JSON.stringify(body);
			const contentType: Record<string, string> = body === undefined ? {} : JSON_TYPE;
			for (const authorization of [
				undefined,
				"Bearer wrong-token",
				`Bearer ${env.ADMIN_TOKEN}x`,
				`Basic ${btoa(`admin:${env.ADMIN_TOKEN}`)}`,
			]) {
				const headers = authorization === undefined ? contentType : { ...contentType, authorization };
				const response = await rawCall(method, path, headers, payload);
				expect(response.status, `${method} ${path} with ${authorization ?? "no authorization"}`).toBe(401);
				await expectApiError(response, 401, /Bearer/);
			}
		}
		// Nothing was changed by the refused calls.
		const { flow } = await api("GET", `/api/flows/${flowId}`);
		expect(flow).toMatchObject({ status: "running", version: 1 });
		expect(flow.draft.steps).toHaveLength(1);
		expect((await api("GET", `/api/credentials/${webhookCredentialId}`)).credential.name).not.toBe("hijacked");
	});

	it("answers 400 with issues for an invalid body, and 400 for malformed JSON", async () => {
		const missingName = await expectApiError(await call("POST", "/api/flows", {}), 400);
		expect(missingName.issues).toEqual([expect.objectContaining({ path: "name" })]);
		const blank = await expectApiError(await call("POST", "/api/flows", { name: "   " }), 400, /Name is required/);
		expect(blank.issues).toEqual([{ path: "name", message: "Name is required" }]);
		const extra = await expectApiError(await call("POST", "/api/flows", { name: "x", owner: "me" }), 400);
		expect(extra.issues?.length).toBeGreaterThan(0);
		await expectApiError(
			await rawCall("POST", "/api/flows", { ...JSON_TYPE, authorization: `Bearer ${env.ADMIN_TOKEN}` }, '{"name": '),
			400,
		);
	});

	it("answers 404 JSON for unknown ids and unknown routes", async () => {
		await expectApiError(await call("GET", "/api/flows/no-such-flow"), 404, "Flow no-such-flow does not exist");
		await expectApiError(await call("POST", "/api/flows/no-such-flow/publish"), 404, "Flow no-such-flow does not exist");
		await expectApiError(await call("GET", "/api/flows/no-such-flow/executions"), 404);
		await expectApiError(await call("GET", "/api/credentials/no-such-credential"), 404, "Credential no-such-credential does not exist");
		await expectApiError(await call("PATCH", "/api/credentials/no-such-credential", { name: "x" }), 404);
		await expectApiError(await call("GET", "/api/no-such-route"), 404, /no-such-route/);
		await expectApiError(await call("POST", "/api/flows/no-such-flow/launch"), 404);
		await expectApiError(await call("GET", "/api"), 404);
	});
});
