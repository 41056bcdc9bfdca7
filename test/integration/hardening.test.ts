import { listDurableObjectIds } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import {
	api,
	call,
	controlUrl,
	createPetstoreCredential,
	createRunningFlow,
	eventually,
	hook,
	injectFaults,
	json,
	ORIGIN,
	petstoreRequests,
	petstoreUrl,
	putDraft,
	resetPetstore,
	waitForExecution,
} from "./helpers";

/**
 * The attacks of issue 10 on the paths a stranger, a sender or a careless operator can reach:
 * each request is the attack, each assertion the safe outcome a user would notice.
 */

beforeEach(resetPetstore);

const utf8 = new TextEncoder();
const JSON_TYPE = { "content-type": "application/json" };
const petPosts = async () => (await petstoreRequests()).requests.filter((r) => r.method === "POST" && r.path === "/v2/pet");
const pets = async () => (await (await fetch(controlUrl("pets"))).json()) as Array<{ name: string }>;
const fetchWorker = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
const randomToken = (bytes: number) =>
	btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))))
		.replaceAll("+", "-")
		.replaceAll("/", "_")
		.replace(/=+$/, "");

async function hmacHex(secret: string, body: string): Promise<string> {
	const key = await crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(body)))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("unauthenticated paths create nothing", () => {
	it("attack: 60 stranger calls to made-up /sample URLs create no Durable Object", async () => {
		const { flow } = await api("POST", "/api/flows", { name: "Target of strangers" });
		const before = (await listDurableObjectIds(env.FLOW)).length;
		const paths = [
			...Array.from({ length: 20 }, () => `/sample/${randomToken(16)}/${randomToken(24)}`),
			// The right shape, a forged MAC, for a flow that exists and for one that does not.
			...Array.from({ length: 20 }, () => `/sample/${flow.id}/${randomToken(24)}.${randomToken(32)}`),
			...Array.from({ length: 20 }, () => `/sample/${randomToken(16)}/${randomToken(24)}.${randomToken(32)}`),
		];
		for (const path of paths) {
			const response = await fetchWorker(path, { method: "POST", ...json({ petname: "x" }) });
			expect(response.status, path).toBe(404);
			expect(((await response.json()) as { error: string }).error).toContain("expired or was already used");
		}
		expect((await listDurableObjectIds(env.FLOW)).length).toBe(before);
	});

	it("attack: strangers on /hook (unknown flows, any method) and /healthz create no Durable Object", async () => {
		const before = (await listDurableObjectIds(env.FLOW)).length;
		for (let i = 0; i < 20; i++) {
			expect((await hook(randomToken(16), json({ petname: "x" }))).status).toBe(404);
			expect((await fetchWorker(`/hook/${randomToken(16)}/deeper/path`, { method: "GET" })).status).toBe(404);
			expect((await fetchWorker(`/hook/${randomToken(16)}`, { method: "PUT" })).status).toBe(405);
		}
		expect((await fetchWorker("/healthz")).status).toBe(200);
		expect((await listDurableObjectIds(env.FLOW)).length).toBe(before);
	});

	it("attack: GET /api without a slash answers the API's 401 JSON, not the designer's HTML", async () => {
		for (const path of ["/api", "/api/"]) {
			const response = await fetchWorker(path);
			expect(response.status, path).toBe(401);
			expect(response.headers.get("content-type")).toMatch(/^application\/json/);
			expect(response.headers.get("x-content-type-options")).toBe("nosniff");
			expect(((await response.json()) as { error: { message: string } }).error.message).toContain("Bearer");
		}
	});

	it("answers every JSON of /api, /hook, /sample and /healthz with x-content-type-options: nosniff", async () => {
		const { flowId } = await createRunningFlow();
		const answers = [
			await call("GET", "/api/flows"),
			await call("GET", "/api/nope"),
			await hook(flowId, json({ petname: "Gromit", petstatus: "sold" })),
			await hook(flowId, { headers: JSON_TYPE, body: "{" }),
			await hook(randomToken(16), json({})),
			await fetchWorker(`/sample/${flowId}/forged`, { method: "POST" }),
			await fetchWorker("/healthz"),
		];
		for (const response of answers) expect(response.headers.get("x-content-type-options"), response.url).toBe("nosniff");
	});
});

describe("dedupe bound to content", () => {
	it("attack: a replayed signed body carrying the id of a future event does not pre-empt that event", async () => {
		const secret = "hmac-secret-replay";
		const { flowId } = await createRunningFlow({ type: "hmac", secret });
		const send = async (body: string, headers: Record<string, string>) => {
			const response = await hook(flowId, {
				headers: { ...JSON_TYPE, "x-hookflow-signature": await hmacHex(secret, body), ...headers },
				body,
			});
			expect(response.status).toBe(200);
			return ((await response.json()) as { requestId: string }).requestId;
		};
		const oldBody = JSON.stringify({ petname: "old-captured", petstatus: "sold" });
		const realBody = JSON.stringify({ petname: "real-future-event", petstatus: "available" });
		for (const header of ["webhook-id", "idempotency-key"]) {
			const futureId = `evt_${crypto.randomUUID()}`;
			// The attacker replays an old, correctly signed body with the id the real event will carry.
			const replayed = await send(oldBody, { [header]: futureId });
			const real = await send(realBody, { [header]: futureId });
			expect(real, header).not.toBe(replayed);
			expect((await waitForExecution(real, "succeeded")).request.body.name).toBe("real-future-event");
			// The sender's own retry of the real event is still a duplicate answering the first id.
			expect(await send(realBody, { [header]: futureId })).toBe(real);
		}
		// A sender's own x-request-id: the answer keeps the contract's id, the real event still runs.
		const requestId = crypto.randomUUID().replaceAll("-", "");
		expect(await send(oldBody, { "x-request-id": requestId })).toBe(requestId);
		expect(await send(JSON.stringify({ petname: "real-x-request-id", petstatus: "sold" }), { "x-request-id": requestId })).toBe(requestId);
		await eventually("the real event's pet", async () => (await pets()).some((p) => p.name === "real-x-request-id"), 15_000);
		const counters = await eventually("six succeeded executions", async () => {
			const { flow } = await api("GET", `/api/flows/${flowId}`);
			return flow.counters.succeeded === 6 && flow.counters.inFlight === 0 ? flow.counters : undefined;
		});
		// 2 × (replay + real) + 2 × x-request-id; the retries created nothing.
		expect(counters).toMatchObject({ received: 6, succeeded: 6, failed: 0 });
	});
});

describe("prototype keys", () => {
	it("attack: a top-level __proto__ key is dropped alike from inline and staged (large) bodies", async () => {
		const { flowId } = await createRunningFlow();
		const inputs = [];
		// The second body is over the 120 KB queue-message limit, so the flow object stages it.
		for (const pad of ["", "p".repeat(200_000)]) {
			const body = `{"__proto__":{"petname":"Polluted"},"nested":{"__proto__":{"x":1}},"petname":"plain","petstatus":"sold","pad":"${pad}"}`;
			const { requestId } = (await (await hook(flowId, { headers: JSON_TYPE, body })).json()) as { requestId: string };
			inputs.push((await waitForExecution(requestId, "succeeded")).input);
		}
		for (const input of inputs) {
			expect(Object.keys(input)).not.toContain("__proto__");
			expect(input.petname).toBe("plain");
			// Nested, it stays plain data in both.
			expect(input.nested).toEqual(JSON.parse('{"__proto__":{"x":1}}'));
		}
		expect((await pets()).map((p) => p.name)).toEqual(["plain", "plain"]);
	});
});

describe("client IP headers", () => {
	const clientHeaders = { "cf-connecting-ip": "203.0.113.7", "x-forwarded-for": "203.0.113.7, 10.0.0.1", "x-real-ip": "203.0.113.7" };

	it("drops client IP headers from _headers by default and keeps them when the flow sets trigger.keepClientIpHeaders", async () => {
		const plain = await createRunningFlow();
		const sent = await hook(plain.flowId, json({ petname: "a", petstatus: "sold" }, { ...clientHeaders, "x-shop": "north" }));
		const { requestId } = (await sent.json()) as { requestId: string };
		const { execution } = await api("GET", `/api/executions/${(await waitForExecution(requestId, "succeeded")).id}`);
		expect(execution.input._headers["x-shop"]).toBe("north");
		for (const name of Object.keys(clientHeaders)) expect(execution.input._headers[name], name).toBeUndefined();

		const keeping = await createRunningFlow({ type: "none" });
		const draft = (await api("GET", `/api/flows/${keeping.flowId}`)).flow.draft;
		await api("PUT", `/api/flows/${keeping.flowId}/draft`, { ...draft, trigger: { ...draft.trigger, keepClientIpHeaders: true } });
		await api("POST", `/api/flows/${keeping.flowId}/publish`);
		const kept = (await (await hook(keeping.flowId, json({ petname: "b", petstatus: "sold" }, clientHeaders))).json()) as {
			requestId: string;
		};
		const keptExecution = await waitForExecution(kept.requestId, "succeeded");
		expect(keptExecution.input._headers).toMatchObject(clientHeaders);
	});
});

describe("keys go only where their owner sent them", () => {
	// This file's Petstore (a tenant of the local one: <origin>/t/<id>), and the same one under another host name.
	const base = () => petstoreUrl().replace(/\/v2$/, "");
	const otherBase = () => base().replace("127.0.0.1", "localhost");

	it("attack: PATCH baseUrl without the apiKey is refused and sends the stored key nowhere", async () => {
		const id = await createPetstoreCredential();
		await resetPetstore();
		const response = await call("PATCH", `/api/credentials/${id}`, { baseUrl: `${otherBase()}/v2` });
		expect(response.status).toBe(400);
		expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
			"Changing baseUrl requires apiKey in the same request",
		);
		expect((await petstoreRequests()).requests).toEqual([]);
		expect((await api("GET", `/api/credentials/${id}`)).credential.details).toEqual({});
		// With the key, the owner confirms the new address: verified there, then saved.
		const moved = await api("PATCH", `/api/credentials/${id}`, { baseUrl: `${otherBase()}/v2`, apiKey: "secret" });
		expect(moved.credential.details.baseUrl).toBe(`${otherBase()}/v2`);
	});

	it("attack: a baseUrl with a query, a fragment, user info or another scheme is refused", async () => {
		const id = await createPetstoreCredential();
		for (const baseUrl of [
			`${base()}/internal/admin?x=`,
			`${base()}/v2?`,
			`${base()}/v2#`,
			`http://user:pass@${new URL(base()).host}/v2`,
			"ftp://example.com/v2",
			"javascript:alert(1)",
		]) {
			for (const [method, path, body] of [
				["PATCH", `/api/credentials/${id}`, { baseUrl, apiKey: "secret" }],
				["POST", "/api/credentials", { component: "petstore", name: "bad", baseUrl, apiKey: "secret" }],
			] as const) {
				const response = await call(method, path, body);
				expect(response.status, `${method} ${baseUrl}`).toBe(400);
				expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/baseUrl: Base URL must/);
			}
		}
		expect((await petstoreRequests()).requests.filter((r) => r.path.includes("internal"))).toEqual([]);
	});

	it("attack: a base URL that redirects to another origin: verification fails naming it, the key is not sent there", async () => {
		const response = await call("POST", "/api/credentials", {
			component: "petstore",
			name: "redirecting",
			baseUrl: `${base()}/elsewhere`,
			apiKey: "secret",
		});
		expect(response.status).toBe(422);
		const message = ((await response.json()) as { error: { message: string } }).error.message;
		expect(message).toContain(`redirected (HTTP 302) to ${new URL(otherBase()).origin};`);
		expect((await petstoreRequests()).requests.filter((r) => r.path.startsWith("/v2/leaked"))).toEqual([]);
	});

	it("attack: POST /pet answered with a redirect to another origin fails naming it; nothing follows it", async () => {
		const { flowId } = await createRunningFlow();
		await injectFaults([{ redirect: true }]);
		const { requestId } = (await (await hook(flowId, json({ petname: "redirected", petstatus: "sold" }))).json()) as {
			requestId: string;
		};
		const failed = await waitForExecution(requestId, "failed");
		expect(failed.error).toContain(`redirected (HTTP 302) to ${new URL(otherBase()).origin};`);
		expect(failed.attempts).toHaveLength(1);
		const paths = (await petstoreRequests()).requests.map((r) => `${r.method} ${r.path}`);
		expect(paths.filter((p) => p.includes("/v2/pet") || p.includes("/v2/leaked"))).toEqual(["POST /v2/pet"]);
	});

	it("a credential change reaches the flow object at once: the next call uses the new base URL", async () => {
		const flow = await createRunningFlow();
		const first = (await (await hook(flow.flowId, json({ petname: "before", petstatus: "sold" }))).json()) as { requestId: string };
		await waitForExecution(first.requestId, "succeeded");
		await api("PATCH", `/api/credentials/${flow.petstoreCredentialId}`, { baseUrl: `${otherBase()}/v2`, apiKey: "secret" });
		const second = (await (await hook(flow.flowId, json({ petname: "after", petstatus: "sold" }))).json()) as { requestId: string };
		await waitForExecution(second.requestId, "succeeded");
		// Within the object's 30 s cache, only the invalidation explains the new host.
		expect((await petPosts()).map((p) => [p.body.name, p.host])).toEqual([
			["before", new URL(base()).host],
			["after", new URL(otherBase()).host],
		]);
	});
});

describe("one sandbox for the preview", () => {
	it("attack: $eval with a catastrophic pattern in the preview answers at once with an error; the Worker stays healthy", async () => {
		const input = { petname: `${"a".repeat(44)}!`, petstatus: "sold" };
		const preview = await api("POST", "/api/mappings/preview", {
			sample: input,
			mapping: { name: '$match(petname, $eval("/(a+)+$/")) ? "x" : petname', status: "petstatus" },
		});
		expect(preview).toEqual({ request: null, errors: [expect.stringContaining("$eval is not supported in mappings")] });
		const padded = await api("POST", "/api/mappings/preview", {
			sample: input,
			mapping: { name: '$pad("", 100000000, "x")', status: "petstatus" },
		});
		expect(padded.errors).toEqual([expect.stringContaining("$pad would build a string of 100000000 characters")]);
		expect((await fetchWorker("/healthz")).status).toBe(200);
		// Publishing it is refused too, so no delivery can run it.
		const flow = await createRunningFlow();
		await putDraft(flow, { name: '$eval("1")', status: "petstatus" });
		const published = await call("POST", `/api/flows/${flow.flowId}/publish`);
		expect(published.status).toBe(422);
		expect(((await published.json()) as { error: { message: string } }).error.message).toContain("$eval is not supported in mappings");
	});

	it("attack: a published version holding $pad past the cap fails its execution with a message and the flow moves on", async () => {
		const flow = await createRunningFlow();
		// A version stored before the sandbox existed: its mapping reaches the object unchecked.
		await env.DB.prepare("UPDATE flow_versions SET definition = json_set(definition, '$.steps[0].mapping.name', ?) WHERE flow_id = ?")
			.bind('$pad("", 100000000, "x")', flow.flowId)
			.run();
		const { requestId } = (await (await hook(flow.flowId, json({ petname: "p", petstatus: "sold" }))).json()) as { requestId: string };
		const failed = await waitForExecution(requestId, "failed");
		expect(failed.error).toContain("$pad would build a string of 100000000 characters");
		expect(await petPosts()).toEqual([]);
	});
});
