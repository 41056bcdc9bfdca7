import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { apiApp } from "../../src/api/app";
import { app } from "../../src/app";
import { unsealJson } from "../../src/crypto/seal";
import type { FlowObject } from "../../src/delivery/flow-object";
import { invalidateIngressConfig } from "../../src/hook/config-cache";
import { api, call, captureLogs, createRunningFlow, eventually, hook, ORIGIN, resetPetstore, waitForExecution } from "./helpers";

/** Admin auth (bearer, Cloudflare Access), secrets at rest, key rotation, throttling and what leaves the Worker. */

beforeEach(resetPetstore);
afterEach(() => {
	vi.restoreAllMocks();
});

const utf8 = new TextEncoder();
const JSON_TYPE = { "content-type": "application/json" };
const tutorialBody = JSON.stringify({ petname: "Gromit", petstatus: "Sold" });
const randomText = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;
const toBase64 = (bytes: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const toBase64Url = (bytes: ArrayBuffer | Uint8Array) => toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const randomKey = () => toBase64(crypto.getRandomValues(new Uint8Array(32)));
const basicAuth = (user: string, password: string) => `Basic ${toBase64(utf8.encode(`${user}:${password}`))}`;

async function hmacHex(secret: Uint8Array, data: string): Promise<string> {
	const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(data)))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function standardWebhookHeaders(secret: string, body: string): Promise<Record<string, string>> {
	const id = `msg_${crypto.randomUUID()}`;
	const timestamp = String(Math.floor(Date.now() / 1000));
	const key = await crypto.subtle.importKey(
		"raw",
		Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0)),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
	const signature = toBase64(await crypto.subtle.sign("HMAC", key, utf8.encode(`${id}.${timestamp}.${body}`)));
	return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}

/** The Worker with another env (Access vars, other keys): the same app, called with its own ExecutionContext. */
async function fetchWith(overrides: Partial<Env> & { CREDENTIALS_KEY_PREVIOUS?: string }, request: Request): Promise<Response> {
	const ctx = createExecutionContext();
	const response = await app.fetch(request, { ...env, ...overrides }, ctx);
	await waitOnExecutionContext(ctx);
	return response;
}

const adminRequest = (method: string, path: string, headers: Record<string, string> = { authorization: `Bearer ${env.ADMIN_TOKEN}` }) =>
	new Request(`${ORIGIN}${path}`, { method, headers });

describe("the admin API", () => {
	/** Every route the app serves under /api, with its parameters filled in. */
	const apiRoutes = () =>
		apiApp.routes
			.filter((r) => r.path.startsWith("/api/") && r.method !== "ALL")
			.map((r) => ({ method: r.method, path: r.path.replace(/:(\w+)/g, "x") }));

	it("answers 401 with cache-control: no-store on every route, the catalogue and unknown paths included, without a valid token", async () => {
		const routes = [...apiRoutes(), { method: "GET", path: "/api/components" }, { method: "GET", path: "/api/no-such-route" }];
		expect(routes.length).toBeGreaterThan(20);
		for (const { method, path } of routes) {
			for (const authorization of ["", "Bearer wrong-token", `Basic ${btoa(`admin:${env.ADMIN_TOKEN}`)}`, env.ADMIN_TOKEN]) {
				const response = await call(method, path, undefined, { authorization });
				expect(response.status, `${method} ${path} with "${authorization.slice(0, 6)}…"`).toBe(401);
				expect(response.headers.get("cache-control")).toBe("no-store");
				expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/Bearer <ADMIN_TOKEN>/);
			}
		}
	});

	it("sends cache-control: no-store on answers to authenticated calls, errors included", async () => {
		for (const path of ["/api/components", "/api/flows", "/api/credentials", "/api/no-such-route", "/api/flows/missing"]) {
			const response = await call("GET", path);
			expect(response.headers.get("cache-control"), path).toBe("no-store");
		}
	});
});

describe("the designer's static assets", () => {
	it("are served with the CSP and the other headers of public/_headers", async () => {
		const response = await exports.default.fetch(new Request(`${ORIGIN}/`));
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toContain("text/html");
		expect(response.headers.get("content-security-policy")).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
		expect(response.headers.get("x-content-type-options")).toBe("nosniff");
		expect(response.headers.get("referrer-policy")).toBe("no-referrer");
	});
});

describe("Cloudflare Access", () => {
	const AUD = "0123456789abcdef-test-aud";
	const rsa = () =>
		crypto.subtle.generateKey(
			{ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
			true,
			["sign", "verify"],
		) as Promise<CryptoKeyPair>;

	/**
	 * A locally generated key set served as a fresh team's certs URL (a new team per test, so the
	 * isolate's certs cache never mixes key sets); counts how often it is fetched.
	 */
	async function serveCerts() {
		const team = `https://t${crypto.randomUUID().slice(0, 8)}.cloudflareaccess.com`;
		const [signing, other] = await Promise.all([rsa(), rsa()]);
		const jwk = (await crypto.subtle.exportKey("jwk", signing.publicKey)) as JsonWebKey;
		const served = { fetches: 0 };
		const realFetch = globalThis.fetch;
		vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
			const url = input instanceof Request ? input.url : String(input);
			if (url === `${team}/cdn-cgi/access/certs`) {
				served.fetches++;
				return Response.json({ keys: [{ ...jwk, kid: "kid-1", alg: "RS256", use: "sig" }], public_cert: { kid: "kid-1", cert: "…" } });
			}
			return realFetch(input, init);
		});
		const now = () => Math.floor(Date.now() / 1000);
		const claims = () => ({ iss: team, aud: [AUD], sub: "user-1", email: "ops@example.com", iat: now(), nbf: now(), exp: now() + 600 });
		return { signing, other, served, claims, now, access: { ACCESS_TEAM_DOMAIN: team, ACCESS_AUD: AUD } };
	}

	async function jwt(
		privateKey: CryptoKey,
		claims: Record<string, unknown>,
		header: Record<string, unknown> = { alg: "RS256", kid: "kid-1" },
	) {
		const encode = (value: unknown) => toBase64Url(utf8.encode(JSON.stringify(value)));
		const signed = `${encode({ typ: "JWT", ...header })}.${encode(claims)}`;
		const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, utf8.encode(signed));
		return `${signed}.${toBase64Url(signature)}`;
	}

	const withAssertion = (token: string) => adminRequest("GET", "/api/components", { "cf-access-jwt-assertion": token });

	it("accepts a valid RS256 JWT from the team for this application instead of the bearer token", async () => {
		const { signing, served, claims, access } = await serveCerts();
		const response = await fetchWith(access, withAssertion(await jwt(signing.privateKey, claims())));
		expect(response.status, await response.clone().text()).toBe(200);
		expect(response.headers.get("cache-control")).toBe("no-store");
		// A single aud string is accepted as well, and the keys are fetched once, then cached.
		const single = await fetchWith(access, withAssertion(await jwt(signing.privateKey, { ...claims(), aud: AUD })));
		expect(single.status).toBe(200);
		expect(served.fetches).toBe(1);
		// The bearer token keeps working next to Access.
		expect((await fetchWith(access, adminRequest("GET", "/api/components"))).status).toBe(200);
	});

	it("refuses a token that is expired, not yet valid, for another application or team, forged, or of another algorithm", async () => {
		const { signing, other, claims, now, access } = await serveCerts();
		const hs256 = await crypto.subtle.importKey("raw", utf8.encode("not-a-secret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const cases: Array<[string, string, RegExp]> = [
			["expired", await jwt(signing.privateKey, { ...claims(), exp: now() - 3600 }), /expired/],
			["no exp", await jwt(signing.privateKey, { ...claims(), exp: undefined }), /expired/],
			["not yet valid", await jwt(signing.privateKey, { ...claims(), nbf: now() + 3600 }), /not valid yet/],
			["another audience", await jwt(signing.privateKey, { ...claims(), aud: ["someone-else"] }), /another application/],
			["another team", await jwt(signing.privateKey, { ...claims(), iss: "https://evil.cloudflareaccess.com" }), /another team/],
			["signed by another key", await jwt(other.privateKey, claims()), /bad signature/],
			["an unknown kid", await jwt(signing.privateKey, claims(), { alg: "RS256", kid: "kid-2" }), /key the team does not publish/],
			[
				"alg none",
				`${(await jwt(signing.privateKey, claims(), { alg: "none", kid: "kid-1" })).split(".").slice(0, 2).join(".")}.`,
				/not a JWT/,
			],
			[
				"HS256",
				await (async () => {
					const token = await jwt(signing.privateKey, claims(), { alg: "HS256", kid: "kid-1" });
					const signed = token.split(".").slice(0, 2).join(".");
					return `${signed}.${toBase64Url(await crypto.subtle.sign("HMAC", hs256, utf8.encode(signed)))}`;
				})(),
				/RS256/,
			],
			["not a JWT", "garbage", /not a JWT/],
		];
		for (const [what, token, reason] of cases) {
			const response = await fetchWith(access, withAssertion(token));
			expect(response.status, what).toBe(401);
			expect(((await response.json()) as { error: { message: string } }).error.message, what).toMatch(reason);
		}
	});

	it("is ignored unless ACCESS_TEAM_DOMAIN and ACCESS_AUD are set", async () => {
		const { signing, claims, access } = await serveCerts();
		const token = await jwt(signing.privateKey, claims());
		expect(env.ACCESS_TEAM_DOMAIN).toBe("");
		expect((await call("GET", "/api/components", undefined, { authorization: "", "cf-access-jwt-assertion": token })).status).toBe(401);
		expect((await fetchWith({ ...access, ACCESS_AUD: "" }, withAssertion(token))).status).toBe(401);
	});

	it("answers 503 when the team's certs cannot be read", async () => {
		const team = "https://unreachable-team.cloudflareaccess.com";
		const realFetch = globalThis.fetch;
		vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) =>
			String(input instanceof Request ? input.url : input).startsWith(team)
				? new Response("down", { status: 500 })
				: realFetch(input, init),
		);
		const now = Math.floor(Date.now() / 1000);
		const token = await jwt((await rsa()).privateKey, { iss: team, aud: AUD, exp: now + 600 });
		const response = await fetchWith({ ACCESS_TEAM_DOMAIN: team, ACCESS_AUD: AUD }, withAssertion(token));
		expect(response.status).toBe(503);
	});
});

/** The credentials row as D1 holds it. */
async function credentialRow(id: string) {
	return (await env.DB.prepare("SELECT * FROM credentials WHERE id = ?").bind(id).first()) as {
		sealed_secrets: string;
		sealed_previous: string | null;
		previous_expires_at: number | null;
	};
}

/** A request that passes authentication and then stops at 415: nothing is enqueued. */
const probe = (headers: Record<string, string>) => ({ method: "POST", headers: { "content-type": "text/plain", ...headers }, body: "x" });

describe("Basic passwords and API keys", () => {
	it("are stored as keyed hashes inside the sealed secret, and rotating one keeps the previous one valid for the overlap", async () => {
		const first = randomText("pw1");
		const { flowId, webhookCredentialId } = await createRunningFlow({ type: "basic", username: "user", password: first });
		const row = await credentialRow(webhookCredentialId);
		expect(await unsealJson(row.sealed_secrets, env)).toEqual({ hash: expect.stringMatching(/^kh1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$/) });

		const second = randomText("pw2");
		await api("PATCH", `/api/credentials/${webhookCredentialId}`, { auth: { type: "basic", username: "user", password: second } });
		expect(await unsealJson((await credentialRow(webhookCredentialId)).sealed_previous as string, env)).toEqual({
			hash: expect.stringMatching(/^kh1\./),
		});
		for (const password of [first, second]) {
			expect((await hook(flowId, probe({ authorization: basicAuth("user", password) }))).status, password).toBe(415);
		}
		await api("PATCH", `/api/credentials/${webhookCredentialId}`, {
			auth: { type: "basic", username: "user", password: randomText("pw3") },
			previousValidForSeconds: 0,
		});
		expect((await hook(flowId, probe({ authorization: basicAuth("user", second) }))).status).toBe(401);
	});

	it("rotate through PATCH for API keys too", async () => {
		const { flowId, webhookCredentialId } = await createRunningFlow({ type: "apiKey", key: "first-key" });
		await api("PATCH", `/api/credentials/${webhookCredentialId}`, { auth: { type: "apiKey", key: "second-key" } });
		for (const key of ["first-key", "second-key"]) expect((await hook(flowId, probe({ "x-api-key": key }))).status, key).toBe(415);
		expect((await hook(flowId, probe({ "x-api-key": "third-key" }))).status).toBe(401);
	});
});

describe("failed authentications", () => {
	it("are counted per flow by the flow object, logged with their reason and never with a secret", async () => {
		const key = randomText("key");
		const { flowId } = await createRunningFlow({ type: "apiKey", key });
		const logs = captureLogs();
		const wrong = randomText("guess");
		for (let i = 0; i < 3; i++)
			expect((await hook(flowId, { headers: { ...JSON_TYPE, "x-api-key": wrong }, body: tutorialBody })).status).toBe(401);
		expect((await hook(flowId, { headers: JSON_TYPE, body: tutorialBody })).status).toBe(401);
		const lines = logs.lines().filter((l) => l.event === "hook" && l.flowId === flowId);
		expect(lines.map((l) => [l.level, l.status, l.reason])).toEqual([
			["warn", 401, "Wrong API key in x-api-key header"],
			["warn", 401, "Wrong API key in x-api-key header"],
			["warn", 401, "Wrong API key in x-api-key header"],
			["warn", 401, "Missing x-api-key header"],
		]);
		expect(JSON.stringify(logs.raw)).not.toContain(wrong);
		expect(JSON.stringify(logs.raw)).not.toContain(key);
		// The ingress hands the count over in waitUntil, after the 401 went out.
		const counters = await eventually("four failed authentications to be counted", async () => {
			const { flow } = await api("GET", `/api/flows/${flowId}`);
			return flow.counters.authFailures === 4 && flow.counters;
		});
		expect(counters).toEqual({
			received: 0,
			succeeded: 0,
			failed: 0,
			inFlight: 0,
			authFailures: 4,
			handshakes: 0,
			queued: 0,
			oldestQueuedAt: null,
			paused: false,
		});
	});

	it("are counted across isolates by the AUTH_FAILURES rate-limiting binding, which is called only on a failure and blocks that client alone", async () => {
		const key = randomText("key");
		const { flowId } = await createRunningFlow({ type: "apiKey", key });
		const limitCalls: string[] = [];
		const counted = {
			AUTH_FAILURES: {
				limit: (options: RateLimitOptions) => {
					limitCalls.push(options.key);
					return env.AUTH_FAILURES.limit(options);
				},
			},
		};
		const send = (ip: string, apiKey: string) =>
			fetchWith(
				counted,
				new Request(`${ORIGIN}/hook/${flowId}`, {
					method: "POST",
					headers: { ...JSON_TYPE, "cf-connecting-ip": ip, "x-api-key": apiKey },
					body: tutorialBody,
				}),
			);
		const attacker = "203.0.113.77";
		expect((await send(attacker, key)).status).toBe(200);
		expect(limitCalls).toEqual([]);
		expect((await send(attacker, "wrong")).status).toBe(401);
		expect(limitCalls).toEqual([`${flowId}\n${attacker}`]);
		// Nine more failures from the same client counted by other isolates of this location.
		for (let i = 0; i < 9; i++) await env.AUTH_FAILURES.limit({ key: `${flowId}\n${attacker}` });
		// This isolate has seen only two failures, but the binding now says the client is over the limit.
		expect((await send(attacker, "wrong")).status).toBe(401);
		const blocked = await send(attacker, key);
		expect(blocked.status).toBe(429);
		expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
		expect((await send("198.51.100.77", key)).status).toBe(200);
	});
});

describe("CREDENTIALS_KEY rotation", () => {
	it("re-seals every credential under the new key; Basic and API-key hashes keep working while CREDENTIALS_KEY_PREVIOUS is set", async () => {
		const keyA = env.CREDENTIALS_KEY;
		const keyB = randomKey();
		const hmacSecret = randomText("hmac");
		const password = randomText("pw");
		const basicFlow = await createRunningFlow({ type: "basic", username: "user", password });
		const hmacFlow = await createRunningFlow({ type: "hmac", secret: hmacSecret });
		const hmacProbe = async () => probe({ "x-hookflow-signature": await hmacHex(utf8.encode(hmacSecret), "x") });
		const rotate = (keys: { CREDENTIALS_KEY: string; CREDENTIALS_KEY_PREVIOUS?: string }) =>
			fetchWith(keys, adminRequest("POST", "/api/admin/rotate-key"));
		const sendWith = async (keys: { CREDENTIALS_KEY: string; CREDENTIALS_KEY_PREVIOUS?: string }, flowId: string, init: RequestInit) => {
			invalidateIngressConfig();
			return fetchWith(keys, new Request(`${ORIGIN}/hook/${flowId}`, init));
		};
		const sealedIds = async () =>
			new Set(
				((await env.DB.prepare("SELECT sealed_secrets FROM credentials").all()).results as Array<{ sealed_secrets: string }>).map(
					(r) => r.sealed_secrets.split(".")[1],
				),
			);

		const rotated = await rotate({ CREDENTIALS_KEY: keyB, CREDENTIALS_KEY_PREVIOUS: keyA });
		try {
			expect(rotated.status, await rotated.clone().text()).toBe(200);
			const result = (await rotated.json()) as { keyId: string; resealed: number; hashedUnderOldKey: string[] };
			expect(await sealedIds()).toEqual(new Set([result.keyId]));
			expect(result.hashedUnderOldKey).toContain(basicFlow.webhookCredentialId);
			expect(result.hashedUnderOldKey).not.toContain(hmacFlow.webhookCredentialId);

			const both = { CREDENTIALS_KEY: keyB, CREDENTIALS_KEY_PREVIOUS: keyA };
			expect((await sendWith(both, basicFlow.flowId, probe({ authorization: basicAuth("user", password) }))).status).toBe(415);
			expect((await sendWith(both, basicFlow.flowId, probe({ authorization: basicAuth("user", "wrong") }))).status).toBe(401);
			expect((await sendWith(both, hmacFlow.flowId, await hmacProbe())).status).toBe(415);

			// Without the previous key: the re-sealed HMAC secret opens, the old hash cannot be checked until it is rotated.
			const onlyB = { CREDENTIALS_KEY: keyB, CREDENTIALS_KEY_PREVIOUS: "" };
			expect((await sendWith(onlyB, hmacFlow.flowId, await hmacProbe())).status).toBe(415);
			expect((await sendWith(onlyB, basicFlow.flowId, probe({ authorization: basicAuth("user", password) }))).status).toBe(503);

			// A key pair that opens nothing changes nothing.
			const refused = await rotate({ CREDENTIALS_KEY: randomKey(), CREDENTIALS_KEY_PREVIOUS: randomKey() });
			expect(refused.status).toBe(409);
			expect(await sealedIds()).toEqual(new Set([result.keyId]));
		} finally {
			const back = await rotate({ CREDENTIALS_KEY: keyA, CREDENTIALS_KEY_PREVIOUS: keyB });
			expect(back.status, await back.clone().text()).toBe(200);
			invalidateIngressConfig();
		}
		expect((await hook(basicFlow.flowId, probe({ authorization: basicAuth("user", password) }))).status).toBe(415);
	});

	it("needs the admin token", async () => {
		expect((await call("POST", "/api/admin/rotate-key", undefined, { authorization: "" })).status).toBe(401);
	});
});

describe("no secret at rest or in transit", () => {
	/** Every string in a value, JSON found inside strings included. */
	function strings(value: unknown): string[] {
		if (typeof value === "string") {
			try {
				const parsed = JSON.parse(value) as unknown;
				if (typeof parsed === "object" && parsed !== null) return [value, ...strings(parsed)];
			} catch {
				// Not JSON: the string itself.
			}
			return [value];
		}
		if (Array.isArray(value)) return value.flatMap(strings);
		if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
		return [];
	}

	async function d1Dump(): Promise<unknown[]> {
		const tables = (await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).results as Array<{ name: string }>;
		const dump: unknown[] = [];
		for (const { name } of tables) {
			if (name.startsWith("_cf_") || name.startsWith("sqlite_")) continue;
			dump.push(name, (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);
		}
		return dump;
	}

	async function objectDump(flowId: string): Promise<unknown[]> {
		return runInDurableObject(env.FLOW.getByName(flowId), async (_: FlowObject, state) => {
			const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray();
			const dump: unknown[] = [...(await state.storage.list()).entries()];
			for (const { name } of tables) {
				if (name.startsWith("_cf_") || name.startsWith("sqlite_")) continue;
				dump.push(name, state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray());
			}
			return dump;
		});
	}

	it("after a walkthrough with every credential type, rotation and failed attempts: not in D1, the flow objects, responses or logs", async () => {
		const logs = captureLogs();
		const responses: string[] = [];
		const keep = async (response: Response) => {
			responses.push(JSON.stringify([...response.headers]), await response.clone().text());
			return response;
		};

		const whsecKey = toBase64(crypto.getRandomValues(new Uint8Array(24)));
		const secrets = {
			password: randomText("basic-password"),
			rotatedPassword: randomText("rotated-password"),
			apiKey: randomText("api-key"),
			hmac: randomText("hmac-secret"),
			whsec: `whsec_${whsecKey}`,
			whsecKey,
		};
		const petstoreKey = "secret"; // The local Petstore's only key.

		const flows = {
			none: await createRunningFlow({ type: "none" }),
			basic: await createRunningFlow({ type: "basic", username: "user", password: secrets.password }),
			apiKey: await createRunningFlow({ type: "apiKey", key: secrets.apiKey }),
			hmac: await createRunningFlow({ type: "hmac", secret: secrets.hmac }),
			standardWebhooks: await createRunningFlow({ type: "standardWebhooks", secret: secrets.whsec }),
		};
		await api("PATCH", `/api/credentials/${flows.basic.webhookCredentialId}`, {
			auth: { type: "basic", username: "user", password: secrets.rotatedPassword },
		});

		const accepted: string[] = [];
		const send = async (flowId: string, headers: Record<string, string>, expected: number) => {
			const response = await keep(await hook(flowId, { headers: { ...JSON_TYPE, ...headers }, body: tutorialBody }));
			expect(response.status, `${flowId} ${JSON.stringify(headers)}`).toBe(expected);
			if (expected === 200) accepted.push(((await response.json()) as { requestId: string }).requestId);
		};
		await send(flows.none.flowId, {}, 200);
		await send(flows.basic.flowId, { authorization: basicAuth("user", secrets.password) }, 200);
		await send(flows.basic.flowId, { authorization: basicAuth("user", secrets.rotatedPassword) }, 200);
		await send(flows.basic.flowId, { authorization: basicAuth("user", `${secrets.password}x`) }, 401);
		await send(flows.apiKey.flowId, { "x-api-key": secrets.apiKey }, 200);
		await send(flows.apiKey.flowId, { "x-api-key": secrets.apiKey.slice(0, -1) }, 401);
		await send(flows.hmac.flowId, { "x-hookflow-signature": `sha256=${await hmacHex(utf8.encode(secrets.hmac), tutorialBody)}` }, 200);
		await send(flows.hmac.flowId, { "x-hookflow-signature": await hmacHex(utf8.encode(`${secrets.hmac}x`), tutorialBody) }, 401);
		await send(flows.standardWebhooks.flowId, await standardWebhookHeaders(secrets.whsec, tutorialBody), 200);
		await send(flows.standardWebhooks.flowId, await standardWebhookHeaders(`whsec_${toBase64(utf8.encode("wrong"))}`, tutorialBody), 401);
		for (const id of accepted) await waitForExecution(id, "succeeded");
		await eventually(
			"the failed Standard Webhooks authentication to be counted",
			async () => (await api("GET", `/api/flows/${flows.standardWebhooks.flowId}`)).flow.counters.authFailures === 1,
		);

		for (const path of [
			"/api/credentials",
			"/api/flows",
			"/api/export",
			...Object.values(flows).flatMap((f) => [
				`/api/credentials/${f.webhookCredentialId}`,
				`/api/credentials/${f.petstoreCredentialId}`,
				`/api/flows/${f.flowId}`,
				`/api/flows/${f.flowId}/executions?limit=100`,
			]),
			...accepted.map((id) => `/api/executions/${id}`),
		]) {
			expect((await keep(await call("GET", path))).status, path).toBe(200);
		}

		const stored = [await d1Dump(), ...(await Promise.all(Object.values(flows).map((f) => objectDump(f.flowId))))];
		// The dump really holds the run log and the objects' tables.
		expect(JSON.stringify(stored)).toContain(accepted[0]);
		expect(JSON.stringify(stored)).toContain('"inbox"');
		// The logs were really written and read.
		expect(logs.lines().filter((l) => l.event === "hook").length).toBeGreaterThanOrEqual(accepted.length);
		const everything = { stored, responses, logged: JSON.parse(JSON.stringify(logs.raw)) as unknown };
		const text = JSON.stringify(everything);
		for (const [name, secret] of Object.entries(secrets)) expect(text.includes(secret), `${name} leaked`).toBe(false);
		// The Petstore key is an ordinary word: it must never be a value, nor follow a key name.
		expect(strings(everything)).not.toContain(petstoreKey);
		expect(text).not.toMatch(/api[-_]?key\W{1,6}secret\b/i);
	});
});
