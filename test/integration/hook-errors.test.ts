import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { api, call, createRunningFlow, eventually, hook, ORIGIN, petstoreRequests, resetPetstore, waitForExecution } from "./helpers";

/**
 * docs/hook-endpoint.md: every answer of `/hook/:flowId` a sender can get, with its exact status, headers and
 * `{"error": "..."}` body, and what an accepted request becomes (the execution's input).
 */

// No fault injected by another file may leak into these tests.
beforeEach(resetPetstore);

const JSON_TYPE = { "content-type": "application/json" };
const MiB = 1024 * 1024;
const utf8 = new TextEncoder();

const tutorialBody = (petname = "Gromit", petstatus = "Sold") => JSON.stringify({ petname, petstatus });
const randomHex32 = () => crypto.randomUUID().replaceAll("-", "");

/** A hook error: the status, a JSON body that is exactly `{"error": "<message>"}`. Returns the message. */
async function expectHookError(response: Response, status: number, message?: string | RegExp): Promise<string> {
	const text = await response.text();
	expect(response.status, text).toBe(status);
	expect(response.headers.get("content-type")).toContain("application/json");
	const body = JSON.parse(text) as { error: unknown };
	expect(Object.keys(body)).toEqual(["error"]);
	expect(typeof body.error).toBe("string");
	const error = body.error as string;
	if (typeof message === "string") expect(error).toBe(message);
	else if (message) expect(error).toMatch(message);
	return error;
}

/** An accepted hook request: 200, `{"requestId","message":"thank you"}`, `x-request-id`. Returns the id. */
async function expectAccepted(response: Response): Promise<string> {
	const text = await response.text();
	expect(response.status, text).toBe(200);
	expect(response.headers.get("content-type")).toContain("application/json");
	const reply = JSON.parse(text) as { requestId: string; message: string };
	expect(reply).toEqual({ requestId: expect.stringMatching(/^[0-9a-f]{32}$/), message: "thank you" });
	expect(response.headers.get("x-request-id")).toBe(reply.requestId);
	return reply.requestId;
}

const notFoundMessage = (flowId: string) => `Flow ${flowId} either does not exist or is inactive`;

async function executionIds(flowId: string): Promise<string[]> {
	const { executions } = await api("GET", `/api/flows/${flowId}/executions?limit=100`);
	return executions.map((e: { id: string }) => e.id);
}

async function petCreatesFor(executionId: string) {
	const { requests } = await petstoreRequests();
	return requests.filter((r) => r.method === "POST" && r.path === "/v2/pet" && r.idempotencyKey === executionId);
}

const toHex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
const toBase64 = (bytes: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

async function hmacHex(secret: string, body: string, hash: "SHA-256" | "SHA-512" = "SHA-256"): Promise<string> {
	const key = await crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash }, false, ["sign"]);
	return toHex(await crypto.subtle.sign("HMAC", key, utf8.encode(body)));
}

/** A fresh Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
const newWebhookSecret = () => `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;

/** The Standard Webhooks 1.0 headers for `body`, signed with `secret` (whsec_…). */
async function standardWebhookHeaders(
	secret: string,
	body: string,
	{ id = `msg_${randomHex32()}`, timestamp = Math.floor(Date.now() / 1000) }: { id?: string; timestamp?: number } = {},
): Promise<Record<string, string>> {
	const raw = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
	const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	const signature = toBase64(await crypto.subtle.sign("HMAC", key, utf8.encode(`${id}.${timestamp}.${body}`)));
	return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": `v1,${signature}` };
}

async function createFlowWithDraft(): Promise<string> {
	const webhook = await api("POST", "/api/credentials", { component: "webhook", name: "draft hook", auth: { type: "none" } });
	const { flow } = await api("POST", "/api/flows", { name: "Never started" });
	await api("PUT", `/api/flows/${flow.id}/draft`, {
		trigger: { component: "webhook", credentialId: webhook.credential.id },
		steps: [{ component: "petstore", action: "createPet", mapping: { name: "petname", status: "petstatus" } }],
	});
	return flow.id;
}

describe("404 for a flow that is not running", () => {
	it("answers 404 with the flow id for an unknown flow", async () => {
		const unknown = "AAAAAAAAAAAAAAAAAAAAAA";
		await expectHookError(await hook(unknown, { headers: JSON_TYPE, body: tutorialBody() }), 404, notFoundMessage(unknown));
		await expectHookError(await hook(unknown, { method: "GET" }), 404, notFoundMessage(unknown));
	});

	it("answers 404 for a draft flow, published or not, until it is started", async () => {
		const flowId = await createFlowWithDraft();
		await expectHookError(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }), 404, notFoundMessage(flowId));
		// A published version alone does not make it run.
		const { flow } = await api("GET", `/api/flows/${flowId}`);
		const petstore = await api("POST", "/api/credentials", { component: "petstore", name: "Local Petstore", apiKey: "secret" });
		await api("PUT", `/api/flows/${flowId}/draft`, {
			...flow.draft,
			steps: [{ ...flow.draft.steps[0], credentialId: petstore.credential.id }],
		});
		await api("POST", `/api/flows/${flowId}/publish`);
		await expectHookError(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }), 404, notFoundMessage(flowId));
		await api("POST", `/api/flows/${flowId}/start`);
		await expectAccepted(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }));
	});

	it("answers 404 at once after the flow is stopped, and 200 again after it is restarted", async () => {
		const { flowId } = await createRunningFlow();
		await expectAccepted(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }));
		await api("POST", `/api/flows/${flowId}/stop`);
		await expectHookError(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }), 404, notFoundMessage(flowId));
		expect((await hook(flowId, { method: "HEAD" })).status).toBe(404);
		await api("POST", `/api/flows/${flowId}/start`);
		await expectAccepted(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }));
	});

	it("answers 404 after the flow is deleted", async () => {
		const { flowId } = await createRunningFlow();
		await expectAccepted(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }));
		expect((await call("DELETE", `/api/flows/${flowId}`)).status).toBe(204);
		await expectHookError(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }), 404, notFoundMessage(flowId));
	});
});

describe("methods", () => {
	it("HEAD answers 200 for a running flow and 404 otherwise, without creating an execution", async () => {
		const { flowId } = await createRunningFlow({ type: "basic", username: "user", password: "pass" });
		// HEAD tells a sender whether the URL is live; it needs no credentials and runs nothing.
		const head = await hook(flowId, { method: "HEAD" });
		expect(head.status).toBe(200);
		expect(await head.text()).toBe("");
		expect((await hook(flowId, { method: "HEAD", path: "/orders/new" })).status).toBe(200);
		expect((await hook("AAAAAAAAAAAAAAAAAAAAAA", { method: "HEAD" })).status).toBe(404);

		const id = await expectAccepted(
			await hook(flowId, { headers: { ...JSON_TYPE, authorization: `Basic ${btoa("user:pass")}` }, body: tutorialBody() }),
		);
		await waitForExecution(id, "succeeded");
		expect(await executionIds(flowId)).toEqual([id]);
		const { flow } = await api("GET", `/api/flows/${flowId}`);
		expect(flow.counters.received).toBe(1);
	});

	it.each(["PUT", "DELETE", "PATCH"])("%s answers 405 with an allow header", async (method) => {
		const { flowId } = await createRunningFlow();
		const response = await hook(flowId, { method, headers: JSON_TYPE, body: method === "DELETE" ? undefined : tutorialBody() });
		expect(response.headers.get("allow")?.split(/,\s*/).sort()).toEqual(["GET", "HEAD", "POST"]);
		await expectHookError(response, 405, new RegExp(`${method}.*not allowed`));
	});
});

describe("authentication", () => {
	const basicChallenge = 'Basic realm="hookflow"';

	it("none: accepts any request, and keeps cookies out of the message", async () => {
		const { flowId } = await createRunningFlow({ type: "none" });
		const id = await expectAccepted(await hook(flowId, { headers: { ...JSON_TYPE, cookie: "session=abc123" }, body: tutorialBody() }));
		const execution = await waitForExecution(id, "succeeded");
		expect(execution.input._headers.cookie).toBeUndefined();
		expect(execution.input._headers["content-type"]).toBe("application/json");
	});

	it("basic: 401 with a Basic challenge when missing, malformed or wrong; 200 with the right username and password", async () => {
		const { flowId } = await createRunningFlow({ type: "basic", username: "user", password: "pass-7Hq2" });
		const send = (headers: Record<string, string>) => hook(flowId, { headers: { ...JSON_TYPE, ...headers }, body: tutorialBody() });

		const refused: Array<Record<string, string>> = [
			{},
			{ authorization: `Basic ${btoa("user:wrong")}` },
			{ authorization: `Basic ${btoa("someone:pass-7Hq2")}` },
			{ authorization: "Basic not base64!" },
			{ authorization: "Bearer pass-7Hq2" },
		];
		for (const headers of refused) {
			const response = await send(headers);
			expect(response.headers.get("www-authenticate"), JSON.stringify(headers)).toBe(basicChallenge);
			await expectHookError(response, 401);
		}

		const id = await expectAccepted(await send({ authorization: `Basic ${btoa("user:pass-7Hq2")}` }));
		const execution = await waitForExecution(id, "succeeded");
		expect(execution.input._headers.authorization).toBeUndefined();
		expect(JSON.stringify(execution.input)).not.toContain(btoa("user:pass-7Hq2"));
	});

	it("apiKey (default header x-api-key): 401 when missing or wrong; 200 with the key", async () => {
		const { flowId } = await createRunningFlow({ type: "apiKey", key: "key-3kd9Xw" });
		const send = (headers: Record<string, string>) => hook(flowId, { headers: { ...JSON_TYPE, ...headers }, body: tutorialBody() });

		await expectHookError(await send({}), 401, /x-api-key/);
		await expectHookError(await send({ "x-api-key": "key-wrong" }), 401, /x-api-key/);
		await expectHookError(await send({ authorization: "key-3kd9Xw" }), 401);

		const id = await expectAccepted(await send({ "x-api-key": "key-3kd9Xw" }));
		const execution = await waitForExecution(id, "succeeded");
		expect(execution.input._headers["x-api-key"]).toBeUndefined();
		expect(JSON.stringify(execution.input)).not.toContain("key-3kd9Xw");
	});

	it("apiKey with a custom header name: the key only counts in that header, which never reaches the message", async () => {
		const { flowId } = await createRunningFlow({ type: "apiKey", headerName: "X-Partner-Key", key: "partner-91ab" });
		const send = (headers: Record<string, string>) => hook(flowId, { headers: { ...JSON_TYPE, ...headers }, body: tutorialBody() });

		await expectHookError(await send({}), 401, /x-partner-key/i);
		await expectHookError(await send({ "x-api-key": "partner-91ab" }), 401, /x-partner-key/i);
		await expectHookError(await send({ "x-partner-key": "partner-00" }), 401, /x-partner-key/i);

		const id = await expectAccepted(await send({ "X-Partner-Key": "partner-91ab" }));
		const execution = await waitForExecution(id, "succeeded");
		expect(execution.input._headers["x-partner-key"]).toBeUndefined();
		expect(JSON.stringify(execution.input)).not.toContain("partner-91ab");
	});

	it("hmac (sha256, x-hookflow-signature): 401 when missing, malformed or wrong; 200 for the raw body's HMAC, bare or sha256=", async () => {
		const secret = "hmac-secret-5Tz";
		const { flowId } = await createRunningFlow({ type: "hmac", secret });
		const body = tutorialBody();
		const signature = await hmacHex(secret, body);
		const send = (headers: Record<string, string>, sent = body) => hook(flowId, { headers: { ...JSON_TYPE, ...headers }, body: sent });

		await expectHookError(await send({}), 401, /x-hookflow-signature/);
		await expectHookError(await send({ "x-hookflow-signature": "not-hex" }), 401, /Malformed/);
		await expectHookError(await send({ "x-hookflow-signature": await hmacHex("other-secret", body) }), 401, /mismatch/i);
		// The signature covers the exact bytes: the same JSON re-serialized differently no longer matches.
		await expectHookError(await send({ "x-hookflow-signature": signature }, JSON.stringify(JSON.parse(body), null, 2)), 401, /mismatch/i);

		const bare = await expectAccepted(await send({ "x-hookflow-signature": signature }));
		const prefixed = await expectAccepted(await send({ "x-hookflow-signature": `sha256=${signature}` }));
		for (const id of [bare, prefixed]) {
			const execution = await waitForExecution(id, "succeeded");
			expect(execution.input._headers["x-hookflow-signature"]).toBeUndefined();
			expect(JSON.stringify(execution.input)).not.toContain(signature);
		}
	});

	it("hmac (sha512, custom header): 200 for the SHA-512 HMAC in that header, 401 for a SHA-256 one", async () => {
		const secret = "hmac-512-secret";
		const { flowId } = await createRunningFlow({ type: "hmac", secret, algorithm: "sha512", headerName: "X-Hub-Signature" });
		const body = tutorialBody("Shaun", "available");
		const send = (signature: string) => hook(flowId, { headers: { ...JSON_TYPE, "x-hub-signature": signature }, body });

		await expectHookError(await send(await hmacHex(secret, body, "SHA-256")), 401);
		const id = await expectAccepted(await send(`sha512=${await hmacHex(secret, body, "SHA-512")}`));
		const execution = await waitForExecution(id, "succeeded");
		expect(execution.input._headers["x-hub-signature"]).toBeUndefined();
	});

	it("standardWebhooks: 401 for missing headers, a stale or future timestamp, or a mismatch; 200 when correctly signed", async () => {
		const secret = newWebhookSecret();
		const { flowId } = await createRunningFlow({ type: "standardWebhooks", secret });
		const body = tutorialBody();
		const send = (headers: Record<string, string>, sent = body) => hook(flowId, { headers: { ...JSON_TYPE, ...headers }, body: sent });
		const now = Math.floor(Date.now() / 1000);

		await expectHookError(await send({}), 401, /webhook-id/);
		const { "webhook-signature": _, ...unsigned } = await standardWebhookHeaders(secret, body);
		await expectHookError(await send(unsigned), 401, /webhook-signature/);
		await expectHookError(await send(await standardWebhookHeaders(secret, body, { timestamp: now - 10 * 60 })), 401, /timestamp/);
		await expectHookError(await send(await standardWebhookHeaders(secret, body, { timestamp: now + 10 * 60 })), 401, /timestamp/);
		await expectHookError(await send(await standardWebhookHeaders(newWebhookSecret(), body)), 401, /mismatch/i);
		const signed = await standardWebhookHeaders(secret, body);
		await expectHookError(await send(signed, tutorialBody("Tampered")), 401, /mismatch/i);

		// Within the ±5 minutes, and with the right signature among several (key rotation on the sender's side).
		const wrong = await standardWebhookHeaders(newWebhookSecret(), body);
		const right = await standardWebhookHeaders(secret, body, { timestamp: now - 60 });
		const id = await expectAccepted(
			await send({ ...right, "webhook-signature": `${wrong["webhook-signature"]} ${right["webhook-signature"]}` }),
		);
		const execution = await waitForExecution(id, "succeeded");
		expect(execution.input._headers["webhook-signature"]).toBeUndefined();
		expect(JSON.stringify(execution.input)).not.toContain(right["webhook-signature"]?.slice(3));
	});
});

describe("bodies", () => {
	it("415 for a POST body without content-type or of a type it cannot read", async () => {
		const { flowId } = await createRunningFlow();
		// A byte body carries no content-type of its own.
		const untyped = new Request(`${ORIGIN}/hook/${flowId}`, { method: "POST", body: utf8.encode(tutorialBody()) });
		expect(untyped.headers.get("content-type")).toBeNull();
		await expectHookError(await exports.default.fetch(untyped), 415, /content-type/i);
		await expectHookError(await hook(flowId, { headers: { "content-type": "text/plain" }, body: tutorialBody() }), 415, /text\/plain/);
		await expectHookError(await hook(flowId, { headers: { "content-type": "application/xml" }, body: "<pet/>" }), 415, /application\/xml/);
		// An empty POST needs no content-type.
		await expectAccepted(await hook(flowId, {}));
	});

	it("400 for malformed JSON, saying where it failed", async () => {
		const { flowId } = await createRunningFlow();
		const error = await expectHookError(await hook(flowId, { headers: JSON_TYPE, body: '{"petname": "Gromit",}' }), 400, /JSON/);
		expect(error).toMatch(/position 21|column 22/);
		await expectHookError(await hook(flowId, { headers: JSON_TYPE, body: '{"petname": ' }), 400, /JSON/);
	});

	it("413 for a body over 1 MiB, whether it declares its length or streams it", async () => {
		const { flowId } = await createRunningFlow();
		const limitMessage = /larger than the 1048576-byte limit/;
		// Refused on the declared length alone, before reading the body…
		const declared = await hook(flowId, { headers: { ...JSON_TYPE, "content-length": String(2 * MiB) }, body: tutorialBody() });
		await expectHookError(declared, 413, limitMessage);
		// …and on the body itself.
		await expectHookError(await hook(flowId, { headers: JSON_TYPE, body: new Uint8Array(MiB + 1).fill(0x20) }), 413, limitMessage);

		// A stream has no content-length: the limit applies to the bytes actually received.
		const chunk = utf8.encode(" ".repeat(64 * 1024));
		let sent = 0;
		const stream = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (sent > MiB) return controller.close();
				sent += chunk.length;
				controller.enqueue(chunk);
			},
		});
		const streamed = new Request(`${ORIGIN}/hook/${flowId}`, { method: "POST", headers: JSON_TYPE, body: stream });
		expect(streamed.headers.get("content-length")).toBeNull();
		await expectHookError(await exports.default.fetch(streamed), 413, limitMessage);

		// Exactly at the limit is still accepted.
		const prefix = '{"petname":"Big","petstatus":"sold","filler":"';
		const atLimit = `${prefix}${"x".repeat(MiB - prefix.length - 2)}"}`;
		expect(utf8.encode(atLimit).length).toBe(MiB);
		const id = await expectAccepted(await hook(flowId, { headers: JSON_TYPE, body: atLimit }));
		expect((await waitForExecution(id, "succeeded")).input.filler).toHaveLength(MiB - prefix.length - 2);
	});

	it("accepts a payload over the 128 KB queue message limit and delivers it intact", async () => {
		const { flowId } = await createRunningFlow();
		const filler = "0123456789abcdef".repeat(300 * 64); // 300 KiB
		const id = await expectAccepted(
			await hook(flowId, { headers: JSON_TYPE, body: JSON.stringify({ petname: "Heavy", petstatus: "pending", filler }) }),
		);
		const execution = await waitForExecution(id, "succeeded");
		expect(execution.input.filler).toHaveLength(filler.length);
		expect(execution.input.filler === filler).toBe(true);
		expect(execution.request.body).toEqual({ name: "Heavy", status: "pending" });
		expect(await petCreatesFor(id)).toHaveLength(1);
	});

	it("GET turns query parameters into the message, and an extra path becomes _additionalUrlPath", async () => {
		const { flowId } = await createRunningFlow();
		const id = await expectAccepted(
			await hook(flowId, { method: "GET", path: "/orders/new?petname=Wallace&petstatus=Available&tag=a&tag=b" }),
		);
		const plain = await expectAccepted(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }));
		const execution = await waitForExecution(id, "succeeded");
		expect(execution.input).toMatchObject({
			petname: "Wallace",
			petstatus: "Available",
			tag: ["a", "b"],
			_method: "GET",
			_query: { petname: "Wallace", petstatus: "Available", tag: ["a", "b"] },
			_additionalUrlPath: "/orders/new",
		});
		expect(execution.input._url).toBe(`${ORIGIN}/hook/${flowId}/orders/new?petname=Wallace&petstatus=Available&tag=a&tag=b`);
		expect(execution.request.body).toEqual({ name: "Wallace", status: "available" });
		expect((await waitForExecution(plain, "succeeded")).input._additionalUrlPath).toBeUndefined();
	});

	it("a form body becomes an object, and a JSON value that is not an object goes under _body", async () => {
		const { flowId } = await createRunningFlow();
		const form = await expectAccepted(
			await hook(flowId, {
				headers: { "content-type": "application/x-www-form-urlencoded" },
				body: "petname=Feathers+McGraw&petstatus=pending",
			}),
		);
		const list = await expectAccepted(await hook(flowId, { headers: JSON_TYPE, body: '[{"petname":"A"}]' }));
		expect((await waitForExecution(form, "succeeded")).request.body).toEqual({ name: "Feathers McGraw", status: "pending" });
		const execution = await waitForExecution(list, "failed");
		expect(execution.input._body).toEqual([{ petname: "A" }]);
		expect(execution.error).toBe("Name is required");
	});
});

describe("429", () => {
	it("after repeated failed authentications from one client, while another client still gets in", async () => {
		const { flowId } = await createRunningFlow({ type: "apiKey", key: "key-for-throttle" });
		const from = (ip: string, key: string) =>
			hook(flowId, { headers: { ...JSON_TYPE, "cf-connecting-ip": ip, "x-api-key": key }, body: tutorialBody() });

		let throttled: Response | undefined;
		for (let attempt = 1; attempt <= 20 && !throttled; attempt++) {
			const response = await from("203.0.113.7", `guess-${attempt}`);
			if (response.status === 429) throttled = response;
			else await expectHookError(response, 401);
		}
		expect(throttled, "a client guessing keys is never throttled").toBeDefined();
		const retryAfter = Number(throttled?.headers.get("retry-after"));
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(3600);
		await expectHookError(throttled as Response, 429, /failed authentications/);

		// The blocked client waits out the window even with the right key; others are unaffected.
		await expectHookError(await from("203.0.113.7", "key-for-throttle"), 429);
		await expectAccepted(await from("198.51.100.9", "key-for-throttle"));
	});

	it("when the flow's rate limit is reached, with retry-after", async () => {
		const { flowId } = await createRunningFlow({ type: "none" }, { rateLimit: { requests: 2, perSeconds: 60 } });
		await expectAccepted(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }));
		await expectAccepted(await hook(flowId, { headers: JSON_TYPE, body: tutorialBody() }));
		const limited = await hook(flowId, { headers: { ...JSON_TYPE, "cf-connecting-ip": "198.51.100.20" }, body: tutorialBody() });
		const retryAfter = Number(limited.headers.get("retry-after"));
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(60);
		await expectHookError(limited, 429, /Rate limit of 2 requests per 60 s/);
	});

	it("requests that fail authentication do not use up the flow's rate limit", async () => {
		// Otherwise anyone who knows the URL, but not the secret, can shut out the real sender.
		const { flowId } = await createRunningFlow(
			{ type: "basic", username: "user", password: "pass" },
			{ rateLimit: { requests: 2, perSeconds: 60 } },
		);
		for (const password of ["guess-1", "guess-2", "guess-3"]) {
			await expectHookError(
				await hook(flowId, {
					headers: { ...JSON_TYPE, authorization: `Basic ${btoa(`user:${password}`)}`, "cf-connecting-ip": "203.0.113.50" },
					body: tutorialBody(),
				}),
				401,
			);
		}
		await expectAccepted(
			await hook(flowId, {
				headers: { ...JSON_TYPE, authorization: `Basic ${btoa("user:pass")}`, "cf-connecting-ip": "198.51.100.50" },
				body: tutorialBody(),
			}),
		);
	});
});

describe("request ids and replays", () => {
	it("uses a sender's 32-hex x-request-id as the execution id, and ignores any other x-request-id", async () => {
		const { flowId } = await createRunningFlow();
		const given = randomHex32();
		const id = await expectAccepted(await hook(flowId, { headers: { ...JSON_TYPE, "x-request-id": given }, body: tutorialBody() }));
		expect(id).toBe(given);
		expect((await waitForExecution(given, "succeeded")).flowId).toBe(flowId);

		const other = await expectAccepted(
			await hook(flowId, { headers: { ...JSON_TYPE, "x-request-id": "trace-123" }, body: tutorialBody() }),
		);
		expect(other).not.toBe("trace-123");
		expect(other).not.toBe(given);
	});

	it("the same x-request-id sent to two flows runs in each flow and creates a pet for each", async () => {
		const first = await createRunningFlow();
		const second = await createRunningFlow();
		const shared = randomHex32();
		const send = (flowId: string, petname: string) =>
			hook(flowId, { headers: { ...JSON_TYPE, "x-request-id": shared }, body: tutorialBody(petname) });

		expect(await expectAccepted(await send(first.flowId, "First"))).toBe(shared);
		await waitForExecution(shared, "succeeded");
		expect(await expectAccepted(await send(second.flowId, "Second"))).toBe(shared);
		await eventually(
			"the second flow's execution to succeed",
			async () => (await api("GET", `/api/flows/${second.flowId}`)).flow.counters.succeeded === 1,
		);

		// Ids are global: the first flow keeps the sender's id, the second flow's execution is re-keyed for its flow…
		expect(await executionIds(first.flowId)).toEqual([shared]);
		const [secondId] = await executionIds(second.flowId);
		expect(secondId).toMatch(/^[0-9a-f]{32}$/);
		expect(secondId).not.toBe(shared);
		// …and the Petstore got both pets.
		const { requests } = await petstoreRequests();
		const names = requests.filter((r) => r.method === "POST" && r.path === "/v2/pet" && r.responseStatus === 200).map((r) => r.body?.name);
		expect(names).toContain("First");
		expect(names).toContain("Second");
		const { execution } = await api("GET", `/api/executions/${secondId}`);
		expect(execution.response.body.name).toBe("Second");
		expect((await api("GET", `/api/executions/${shared}`)).execution.response.body.name).toBe("First");
	});

	it("a replayed Standard Webhooks webhook-id answers 200 with the first requestId and creates nothing new", async () => {
		const secret = newWebhookSecret();
		const { flowId } = await createRunningFlow({ type: "standardWebhooks", secret });
		const body = tutorialBody("Once", "sold");
		const headers = { ...JSON_TYPE, ...(await standardWebhookHeaders(secret, body, { id: "msg_replayed" })) };

		const first = await expectAccepted(await hook(flowId, { headers, body }));
		await waitForExecution(first, "succeeded");
		// The sender retries, re-signed with a new timestamp but the same webhook-id.
		const resigned = {
			...JSON_TYPE,
			...(await standardWebhookHeaders(secret, body, { id: "msg_replayed", timestamp: Math.floor(Date.now() / 1000) + 1 })),
		};
		expect(await expectAccepted(await hook(flowId, { headers: resigned, body }))).toBe(first);
		expect(await expectAccepted(await hook(flowId, { headers, body }))).toBe(first);

		// A later, different message is processed after the replays; by then they were seen and dropped.
		const later = await expectAccepted(
			await hook(flowId, { headers: { ...JSON_TYPE, ...(await standardWebhookHeaders(secret, body, { id: "msg_later" })) }, body }),
		);
		await waitForExecution(later, "succeeded");
		expect((await executionIds(flowId)).sort()).toEqual([first, later].sort());
		expect(await petCreatesFor(first)).toHaveLength(1);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({ received: 2, succeeded: 2 });
		expect((await api("GET", `/api/executions/${first}`)).execution.attempts).toHaveLength(1);
	});

	it("a replayed webhook-id is not executed twice even when each delivery carries its own x-request-id", async () => {
		// A sender behind nginx (`X-Request-ID $request_id`, 32 hex) gets a fresh x-request-id on every retry.
		const secret = newWebhookSecret();
		const { flowId } = await createRunningFlow({ type: "standardWebhooks", secret });
		const body = tutorialBody("Proxied", "sold");
		const signed = await standardWebhookHeaders(secret, body, { id: "msg_behind_proxy" });
		const send = () => hook(flowId, { headers: { ...JSON_TYPE, ...signed, "x-request-id": randomHex32() }, body });

		const first = await expectAccepted(await send());
		await waitForExecution(first, "succeeded");
		expect(await expectAccepted(await send())).toBe(first);
		const later = await expectAccepted(
			await hook(flowId, { headers: { ...JSON_TYPE, ...(await standardWebhookHeaders(secret, body, { id: "msg_next" })) }, body }),
		);
		await waitForExecution(later, "succeeded");
		expect((await executionIds(flowId)).sort()).toEqual([first, later].sort());
	});

	it("a repeated idempotency-key answers 200 with the first requestId and creates nothing new", async () => {
		const { flowId } = await createRunningFlow();
		const send = (key: string) =>
			hook(flowId, { headers: { ...JSON_TYPE, "idempotency-key": key }, body: tutorialBody("Idem", "pending") });

		const first = await expectAccepted(await send("order-42"));
		expect(await expectAccepted(await send("order-42"))).toBe(first);
		await waitForExecution(first, "succeeded");
		expect(await expectAccepted(await send("order-42"))).toBe(first);

		const other = await expectAccepted(await send("order-43"));
		expect(other).not.toBe(first);
		await waitForExecution(other, "succeeded");
		expect((await executionIds(flowId)).sort()).toEqual([first, other].sort());
		expect(await petCreatesFor(first)).toHaveLength(1);
		expect((await api("GET", `/api/flows/${flowId}`)).flow.counters).toMatchObject({ received: 2, succeeded: 2 });
	});
});
