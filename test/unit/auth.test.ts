import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decodeWebhookSecret } from "../../src/components/webhook-types";
import { importKeyedHash, keyedHash } from "../../src/crypto/keyed-hash";
import { createApiKeyVerifier } from "../../src/hook/auth/api-key";
import { createBasicVerifier } from "../../src/hook/auth/basic";
import { createWebhookVerifier } from "../../src/hook/auth/create-verifier";
import { createHmacVerifier } from "../../src/hook/auth/hmac";
import { createNoneVerifier } from "../../src/hook/auth/none";
import { createStandardWebhooksVerifier } from "../../src/hook/auth/standard-webhooks";
import type { AuthResult, Verifier } from "../../src/hook/auth/types";

const encoder = new TextEncoder();
const NOW_MS = 1_700_000_000_000;

function verify(verifier: Verifier, headers: Record<string, string>, body = "", nowMs = NOW_MS): Promise<AuthResult> {
	return verifier.verify({
		method: "POST",
		url: new URL("https://hookflow.example/hook/f1"),
		headers: new Headers(headers),
		rawBody: encoder.encode(body),
		nowMs,
	});
}

function basic(user: string, password: string): string {
	// UTF-8 bytes, as curl and browsers send them.
	const bytes = encoder.encode(`${user}:${password}`);
	return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** Signatures for rotation tests, computed here with WebCrypto rather than through src. */
async function hmac(hash: "SHA-1" | "SHA-256" | "SHA-512", key: Uint8Array, data: string): Promise<Uint8Array> {
	const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
	return new Uint8Array(await crypto.subtle.sign("HMAC", imported, encoder.encode(data)));
}
const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** Basic passwords and API keys are stored as keyed hashes: the verifiers take those. */
const hashed = (...values: string[]) => Promise.all(values.map(async (v) => importKeyedHash(await keyedHash(v, env), env)));

function expectRefused(result: AuthResult, reason: RegExp): void {
	expect(result.ok).toBe(false);
	if (!result.ok) expect(result.reason).toMatch(reason);
}

// RFC 4231, test case 2.
const RFC4231_KEY = "Jefe";
const RFC4231_DATA = "what do ya want for nothing?";
const RFC4231_SHA256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
const RFC4231_SHA512 =
	"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";

// The example from the Standard Webhooks specification.
const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW_TIMESTAMP = "1614265330";
const SW_NOW_MS = 1614265330 * 1000;
const SW_PAYLOAD = '{"test": 2432232314}';
const SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const swHeaders = (signature = SW_SIGNATURE) => ({
	"webhook-id": SW_ID,
	"webhook-timestamp": SW_TIMESTAMP,
	"webhook-signature": signature,
});

describe("none", () => {
	it("accepts any request and hides no headers", async () => {
		const verifier = createNoneVerifier();
		expect(await verify(verifier, {})).toEqual({ ok: true });
		expect(await verify(verifier, { authorization: "Basic garbage" }, "{}")).toEqual({ ok: true });
		expect(verifier.secretHeaders).toEqual([]);
	});

	it("is what createWebhookVerifier builds for type none", async () => {
		const verifier = await createWebhookVerifier("none", {}, [], env);
		expect(await verify(verifier, {})).toEqual({ ok: true });
	});
});

const PASS = await hashed("pass");

describe("basic", () => {
	const verifier = createBasicVerifier("user", PASS);

	it("accepts the right username and password", async () => {
		expect(await verify(verifier, { authorization: basic("user", "pass") })).toEqual({ ok: true });
	});

	it("accepts a lower-case scheme name", async () => {
		expect(await verify(verifier, { authorization: `basic ${btoa("user:pass")}` })).toEqual({ ok: true });
	});

	it("accepts a password that contains a colon", async () => {
		const withColon = createBasicVerifier("user", await hashed("pa:ss"));
		expect(await verify(withColon, { authorization: basic("user", "pa:ss") })).toEqual({ ok: true });
	});

	it("refuses a missing header with a Basic challenge", async () => {
		const result = await verify(verifier, {});
		expectRefused(result, /Missing Authorization header/);
		expect(result).toMatchObject({ wwwAuthenticate: 'Basic realm="hookflow"' });
	});

	it.each([
		["another scheme", "Bearer abc"],
		["no credentials", "Basic "],
		["not base64", "Basic !!!"],
		["invalid base64 length", "Basic abcde"],
		["no colon", `Basic ${btoa("userpass")}`],
	])("refuses a malformed header (%s)", async (_, header) => {
		const result = await verify(verifier, { authorization: header });
		expectRefused(result, /Malformed Authorization header/);
		expect(result).toMatchObject({ wwwAuthenticate: 'Basic realm="hookflow"' });
	});

	it("refuses a wrong password and a wrong username", async () => {
		expectRefused(await verify(verifier, { authorization: basic("user", "wrong") }), /Wrong username or password/);
		expectRefused(await verify(verifier, { authorization: basic("admin", "pass") }), /Wrong username or password/);
		expectRefused(await verify(verifier, { authorization: basic("user", "pass ") }), /Wrong username or password/);
		expectRefused(await verify(verifier, { authorization: basic("user", "") }), /Wrong username or password/);
	});

	it("accepts both passwords during rotation and refuses a third", async () => {
		const rotating = await createWebhookVerifier("basic", { username: "user" }, [{ value: "new" }, { value: "old" }], env);
		expect(await verify(rotating, { authorization: basic("user", "new") })).toEqual({ ok: true });
		expect(await verify(rotating, { authorization: basic("user", "old") })).toEqual({ ok: true });
		expectRefused(await verify(rotating, { authorization: basic("user", "other") }), /Wrong username or password/);
	});

	it("hides the authorization header", async () => {
		expect(verifier.secretHeaders).toEqual(["authorization"]);
	});

	it("accepts a non-ASCII password sent as UTF-8", async () => {
		const unicode = createBasicVerifier("jürgen", await hashed("pässwörd"));
		expect(await verify(unicode, { authorization: basic("jürgen", "pässwörd") })).toEqual({ ok: true });
	});
});

describe("apiKey", () => {
	it("accepts the key in the default x-api-key header", async () => {
		const verifier = await createWebhookVerifier("apiKey", {}, [{ value: "k-123" }], env);
		expect(await verify(verifier, { "x-api-key": "k-123" })).toEqual({ ok: true });
		expect(verifier.secretHeaders).toEqual(["x-api-key"]);
	});

	it("uses a custom header name, case-insensitively, and hides it", async () => {
		const verifier = createApiKeyVerifier("X-My_Key", await hashed("k-123"));
		expect(verifier.secretHeaders).toEqual(["x-my_key"]);
		expect(await verify(verifier, { "X-MY_KEY": "k-123" })).toEqual({ ok: true });
		// The default header does not count when another one is configured.
		expectRefused(await verify(verifier, { "x-api-key": "k-123" }), /Missing x-my_key header/);
	});

	it("refuses a missing header", async () => {
		expectRefused(await verify(createApiKeyVerifier("x-api-key", await hashed("k-123")), {}), /Missing x-api-key header/);
	});

	it("refuses a wrong key, a prefix of the key and an empty value", async () => {
		const verifier = createApiKeyVerifier("x-api-key", await hashed("k-123"));
		expectRefused(await verify(verifier, { "x-api-key": "k-124" }), /Wrong API key in x-api-key header/);
		expectRefused(await verify(verifier, { "x-api-key": "k-12" }), /Wrong API key/);
		expectRefused(await verify(verifier, { "x-api-key": "K-123" }), /Wrong API key/);
		expectRefused(await verify(verifier, { "x-api-key": "" }), /Wrong API key/);
	});

	it("accepts both keys during rotation and refuses a third", async () => {
		const verifier = await createWebhookVerifier("apiKey", { headerName: "x-key" }, [{ value: "new" }, { value: "old" }], env);
		expect(await verify(verifier, { "x-key": "new" })).toEqual({ ok: true });
		expect(await verify(verifier, { "x-key": "old" })).toEqual({ ok: true });
		expectRefused(await verify(verifier, { "x-key": "third" }), /Wrong API key/);
	});

	it("refuses everything when no key is stored", async () => {
		expectRefused(await verify(createApiKeyVerifier("x-api-key", []), { "x-api-key": "" }), /Wrong API key/);
	});
});

describe("hmac", () => {
	it("accepts the RFC 4231 HMAC-SHA256 of the raw body (default header and algorithm)", async () => {
		const verifier = await createWebhookVerifier("hmac", {}, [{ value: RFC4231_KEY }], env);
		expect(verifier.secretHeaders).toEqual(["x-hookflow-signature"]);
		expect(await verify(verifier, { "x-hookflow-signature": RFC4231_SHA256 }, RFC4231_DATA)).toEqual({ ok: true });
	});

	it("accepts the sha256= prefix, upper-case hex and surrounding spaces", async () => {
		const verifier = await createHmacVerifier({ headerName: "x-hookflow-signature", algorithm: "sha256" }, [RFC4231_KEY]);
		for (const header of [`sha256=${RFC4231_SHA256}`, `SHA256=${RFC4231_SHA256}`, RFC4231_SHA256.toUpperCase(), ` ${RFC4231_SHA256} `]) {
			expect(await verify(verifier, { "x-hookflow-signature": header }, RFC4231_DATA), header).toEqual({ ok: true });
		}
	});

	it("accepts the RFC 4231 HMAC-SHA512 with and without the sha512= prefix", async () => {
		const verifier = await createWebhookVerifier("hmac", { algorithm: "sha512", headerName: "x-signature" }, [{ value: RFC4231_KEY }], env);
		expect(verifier.secretHeaders).toEqual(["x-signature"]);
		expect(await verify(verifier, { "x-signature": RFC4231_SHA512 }, RFC4231_DATA)).toEqual({ ok: true });
		expect(await verify(verifier, { "x-signature": `sha512=${RFC4231_SHA512.toUpperCase()}` }, RFC4231_DATA)).toEqual({ ok: true });
	});

	it("refuses a SHA-256 signature when the credential is SHA-512, and the other way round", async () => {
		const sha512 = await createHmacVerifier({ headerName: "x-sig", algorithm: "sha512" }, [RFC4231_KEY]);
		expectRefused(await verify(sha512, { "x-sig": RFC4231_SHA256 }, RFC4231_DATA), /Signature mismatch in x-sig.*HMAC-SHA512/);
		const sha256 = await createHmacVerifier({ headerName: "x-sig", algorithm: "sha256" }, [RFC4231_KEY]);
		expectRefused(await verify(sha256, { "x-sig": RFC4231_SHA512 }, RFC4231_DATA), /Signature mismatch in x-sig.*HMAC-SHA256/);
		// The prefix of the other algorithm is not stripped, so the value is not hex.
		expectRefused(await verify(sha256, { "x-sig": `sha512=${RFC4231_SHA256}` }, RFC4231_DATA), /Malformed x-sig header/);
	});

	it("signs the exact bytes: a changed body, or the same JSON re-serialized, is refused", async () => {
		const verifier = await createHmacVerifier({ headerName: "x-sig", algorithm: "sha256" }, [RFC4231_KEY]);
		expectRefused(await verify(verifier, { "x-sig": RFC4231_SHA256 }, `${RFC4231_DATA} `), /Signature mismatch/);
		const body = '{"a": 1}';
		const signature = hex(await hmac("SHA-256", encoder.encode(RFC4231_KEY), body));
		expect(await verify(verifier, { "x-sig": signature }, body)).toEqual({ ok: true });
		expectRefused(await verify(verifier, { "x-sig": signature }, JSON.stringify(JSON.parse(body))), /Signature mismatch/);
	});

	it("refuses a missing header", async () => {
		const verifier = await createHmacVerifier({ headerName: "x-sig", algorithm: "sha256" }, [RFC4231_KEY]);
		expectRefused(await verify(verifier, {}, RFC4231_DATA), /Missing x-sig header/);
	});

	it.each([
		["not hex", "zz".repeat(32)],
		["odd length", RFC4231_SHA256.slice(1)],
		["base64", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="],
	])("refuses a malformed signature (%s)", async (_, header) => {
		const verifier = await createHmacVerifier({ headerName: "x-sig", algorithm: "sha256" }, [RFC4231_KEY]);
		expectRefused(await verify(verifier, { "x-sig": header }, RFC4231_DATA), /Malformed x-sig header: expected the sha256 HMAC/);
	});

	it("refuses a signature made with the wrong secret, or truncated", async () => {
		const verifier = await createHmacVerifier({ headerName: "x-sig", algorithm: "sha256" }, ["not-jefe"]);
		expectRefused(await verify(verifier, { "x-sig": RFC4231_SHA256 }, RFC4231_DATA), /Signature mismatch in x-sig/);
		const right = await createHmacVerifier({ headerName: "x-sig", algorithm: "sha256" }, [RFC4231_KEY]);
		expectRefused(await verify(right, { "x-sig": RFC4231_SHA256.slice(0, 32) }, RFC4231_DATA), /Signature mismatch/);
	});

	it("accepts signatures from both secrets during rotation and refuses a third", async () => {
		const verifier = await createWebhookVerifier(
			"hmac",
			{ algorithm: "sha256", headerName: "x-sig" },
			[{ value: "new" }, { value: "old" }],
			env,
		);
		const body = '{"event":"rotated"}';
		// The result says when the previous secret verified it (a handshake answer must be made with that one).
		for (const [secret, verified] of [
			["new", { ok: true }],
			["old", { ok: true, secretIndex: 1 }],
		] as const) {
			const signature = hex(await hmac("SHA-256", encoder.encode(secret), body));
			expect(await verify(verifier, { "x-sig": signature }, body), secret).toEqual(verified);
		}
		const third = hex(await hmac("SHA-256", encoder.encode("third"), body));
		expectRefused(await verify(verifier, { "x-sig": third }, body), /Signature mismatch/);
	});
});

describe("hmac, configured", () => {
	const body = '{"petname":"Gromit"}';
	const sha1Key = encoder.encode("s3cret");

	it("sha1, base64, a required prefix and a custom header", async () => {
		const verifier = await createHmacVerifier({ headerName: "x-sig", algorithm: "sha1", encoding: "base64", prefix: "sha1=" }, ["s3cret"]);
		const signature = base64(await hmac("SHA-1", sha1Key, body));
		expect(await verify(verifier, { "x-sig": `sha1=${signature}` }, body)).toEqual({ ok: true });
		expectRefused(await verify(verifier, { "x-sig": signature }, body), /^Malformed x-sig header: expected sha1=<base64 signature>$/);
		expectRefused(
			await verify(verifier, { "x-sig": `sha1=${signature}` }, `${body} `),
			/^Signature mismatch in x-sig: sign the exact raw body bytes with HMAC-SHA1$/,
		);
	});

	it("{timestamp}.{body} with a timestamp header and tolerance", async () => {
		const details = {
			headerName: "x-sig",
			algorithm: "sha256",
			signedContent: "{timestamp}.{body}",
			timestampHeader: "x-ts",
			toleranceSeconds: 60,
		} as const;
		const verifier = await createHmacVerifier(details, ["s3cret"]);
		const ts = String(NOW_MS / 1000);
		const signature = hex(await hmac("SHA-256", sha1Key, `${ts}.${body}`));
		expect(await verify(verifier, { "x-sig": signature, "x-ts": ts }, body)).toEqual({ ok: true });
		expectRefused(await verify(verifier, { "x-sig": signature }, body), /^Missing x-ts header$/);
		expectRefused(
			await verify(verifier, { "x-sig": signature, "x-ts": ts }, body, NOW_MS + 61_000),
			/^Stale timestamp: x-ts outside the ±60 s tolerance \(skew 61 s\)$/,
		);
		expectRefused(await verify(verifier, { "x-sig": signature, "x-ts": "yesterday" }, body), /^Malformed x-ts header/);
		// The timestamp is signed: another one with the same signature does not pass.
		expectRefused(
			await verify(verifier, { "x-sig": signature, "x-ts": String(NOW_MS / 1000 + 1) }, body),
			/^Signature mismatch in x-sig: sign `\{timestamp\}\.\{body\}`/,
		);
	});

	it("{url}{body} signs the URL the request was sent to", async () => {
		const verifier = await createHmacVerifier({ headerName: "x-sig", algorithm: "sha512", signedContent: "{url}{body}" }, ["s3cret"]);
		const signature = hex(await hmac("SHA-512", sha1Key, `https://hookflow.example/hook/f1${body}`));
		expect(await verify(verifier, { "x-sig": signature }, body)).toEqual({ ok: true });
		expectRefused(await verify(verifier, { "x-sig": hex(await hmac("SHA-512", sha1Key, body)) }, body), /^Signature mismatch/);
	});

	it("the API refuses options that cannot work, and stores today's credentials as before", async () => {
		const { splitWebhookAuth, webhookAuthSchema } = await import("../../src/components/webhook");
		const refused = (auth: object) => webhookAuthSchema.safeParse({ type: "hmac", secret: "s", ...auth }).error?.issues[0]?.message;
		expect(refused({ signedContent: "{timestamp}.{body}" })).toMatch(/set timestampHeader/);
		expect(refused({ signedContent: "{ts}.{body}" })).toMatch(/may only use the placeholders \{body\}, \{timestamp\}, \{url\}/);
		expect(refused({ signedContent: "{timestamp}", timestampHeader: "x-ts" })).toMatch(/must contain \{body\}/);
		expect(refused({ timestampHeader: "x-ts" })).toMatch(/needs \{timestamp\} in signedContent/);
		expect(refused({ algorithm: "md5" })).toBe('Invalid option: expected one of "sha1"|"sha256"|"sha512"');
		const today = webhookAuthSchema.parse({ type: "hmac", secret: "s" });
		expect((await splitWebhookAuth(today, env)).details).toEqual({ headerName: "x-hookflow-signature", algorithm: "sha256" });
		const timed = webhookAuthSchema.parse({ type: "hmac", secret: "s", signedContent: "{timestamp}.{body}", timestampHeader: "X-TS" });
		expect((await splitWebhookAuth(timed, env)).details).toEqual({
			headerName: "x-hookflow-signature",
			algorithm: "sha256",
			signedContent: "{timestamp}.{body}",
			timestampHeader: "x-ts",
			toleranceSeconds: 300,
		});
	});
});

describe("standardWebhooks", () => {
	it("accepts the specification's example", async () => {
		const verifier = await createWebhookVerifier("standardWebhooks", {}, [{ value: SW_SECRET }], env);
		expect(await verify(verifier, swHeaders(), SW_PAYLOAD, SW_NOW_MS)).toEqual({ ok: true });
	});

	it("hides the signature header (and Svix's name for it) but keeps id and timestamp visible", async () => {
		const verifier = await createStandardWebhooksVerifier([SW_SECRET]);
		expect(verifier.secretHeaders).toEqual(["webhook-signature", "svix-signature"]);
	});

	it("refuses the example when the body, id or timestamp changed", async () => {
		const verifier = await createStandardWebhooksVerifier([SW_SECRET]);
		expectRefused(await verify(verifier, swHeaders(), '{"test":2432232314}', SW_NOW_MS), /Signature mismatch in webhook-signature/);
		expectRefused(
			await verify(verifier, { ...swHeaders(), "webhook-id": "msg_other" }, SW_PAYLOAD, SW_NOW_MS),
			/Signature mismatch in webhook-signature/,
		);
		expectRefused(
			await verify(verifier, { ...swHeaders(), "webhook-timestamp": "1614265331" }, SW_PAYLOAD, SW_NOW_MS),
			/Signature mismatch in webhook-signature/,
		);
	});

	it("refuses the example under another secret", async () => {
		const verifier = await createStandardWebhooksVerifier([`whsec_${base64(crypto.getRandomValues(new Uint8Array(24)))}`]);
		expectRefused(await verify(verifier, swHeaders(), SW_PAYLOAD, SW_NOW_MS), /Signature mismatch/);
	});

	it("accepts a timestamp up to 5 minutes either side and refuses one beyond, naming the skew", async () => {
		const verifier = await createStandardWebhooksVerifier([SW_SECRET]);
		expect(await verify(verifier, swHeaders(), SW_PAYLOAD, SW_NOW_MS + 300_000)).toEqual({ ok: true });
		expect(await verify(verifier, swHeaders(), SW_PAYLOAD, SW_NOW_MS - 300_000)).toEqual({ ok: true });
		const late = await verify(verifier, swHeaders(), SW_PAYLOAD, SW_NOW_MS + 301_000);
		expectRefused(late, /webhook-timestamp outside the ±300 s tolerance \(skew 301 s\)/);
		const early = await verify(verifier, swHeaders(), SW_PAYLOAD, SW_NOW_MS - 3_600_000);
		expectRefused(early, /outside the ±300 s tolerance \(skew -3600 s\)/);
	});

	it("accepts a list of signatures when any one of them matches", async () => {
		const verifier = await createStandardWebhooksVerifier([SW_SECRET]);
		const other = `v1,${base64(crypto.getRandomValues(new Uint8Array(32)))}`;
		const list = `v1a,ignoredAsymmetric ${other} ${SW_SIGNATURE}`;
		expect(await verify(verifier, swHeaders(list), SW_PAYLOAD, SW_NOW_MS)).toEqual({ ok: true });
		expectRefused(await verify(verifier, swHeaders(`${other} v1,${"A".repeat(44)}`), SW_PAYLOAD, SW_NOW_MS), /Signature mismatch/);
	});

	it("refuses a signature without the v1 prefix", async () => {
		const verifier = await createStandardWebhooksVerifier([SW_SECRET]);
		const bare = SW_SIGNATURE.slice("v1,".length);
		expectRefused(await verify(verifier, swHeaders(bare), SW_PAYLOAD, SW_NOW_MS), /Malformed webhook-signature header/);
		expectRefused(await verify(verifier, swHeaders("v2,abc"), SW_PAYLOAD, SW_NOW_MS), /Malformed webhook-signature header/);
	});

	it("names every missing header", async () => {
		const verifier = await createStandardWebhooksVerifier([SW_SECRET]);
		expectRefused(await verify(verifier, {}, SW_PAYLOAD, SW_NOW_MS), /^Missing webhook-id, webhook-timestamp, webhook-signature header$/);
		const { "webhook-timestamp": _, ...noTimestamp } = swHeaders();
		expectRefused(await verify(verifier, noTimestamp, SW_PAYLOAD, SW_NOW_MS), /^Missing webhook-timestamp header$/);
		const { "webhook-signature": __, ...noSignature } = swHeaders();
		expectRefused(await verify(verifier, noSignature, SW_PAYLOAD, SW_NOW_MS), /^Missing webhook-signature header$/);
	});

	it.each(["1614265330.5", "-1614265330", "soon", "16142653300000"])("refuses a malformed timestamp %s", async (timestamp) => {
		const verifier = await createStandardWebhooksVerifier([SW_SECRET]);
		expectRefused(
			await verify(verifier, { ...swHeaders(), "webhook-timestamp": timestamp }, SW_PAYLOAD, SW_NOW_MS),
			/Malformed webhook-timestamp header/,
		);
	});

	it("accepts both secrets during rotation and refuses a third", async () => {
		const keys = [0, 1, 2].map(() => crypto.getRandomValues(new Uint8Array(24)));
		const secrets = keys.map((k) => `whsec_${base64(k)}`);
		const verifier = await createWebhookVerifier("standardWebhooks", {}, [{ value: secrets[0] }, { value: secrets[1] }], env);
		const body = '{"type":"pet.created"}';
		const signFor = async (key: Uint8Array) => `v1,${base64(await hmac("SHA-256", key, `msg_1.${NOW_MS / 1000}.${body}`))}`;
		const headers = (signature: string) => ({
			"webhook-id": "msg_1",
			"webhook-timestamp": String(NOW_MS / 1000),
			"webhook-signature": signature,
		});
		expect(await verify(verifier, headers(await signFor(keys[0]!)), body)).toEqual({ ok: true });
		expect(await verify(verifier, headers(await signFor(keys[1]!)), body)).toEqual({ ok: true });
		expectRefused(await verify(verifier, headers(await signFor(keys[2]!)), body), /Signature mismatch/);
	});

	it("refuses to build a verifier from a secret that is not whsec_<base64>", async () => {
		await expect(createStandardWebhooksVerifier(["whsec_"])).rejects.toThrow(/whsec_ followed by base64/);
		await expect(createStandardWebhooksVerifier(["whsec_not base64!"])).rejects.toThrow(/whsec_ followed by base64/);
	});

	it("decodes the whsec_ secret to its raw key bytes", () => {
		const key = decodeWebhookSecret(SW_SECRET);
		expect(key).toHaveLength(24);
		expect(base64(key!)).toBe("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
		expect(decodeWebhookSecret("whsec_")).toBeNull();
	});
});
