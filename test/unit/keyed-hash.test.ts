import { describe, expect, it } from "vitest";
import { splitWebhookAuth } from "../../src/components/webhook";
import { currentKeyId, importKeyedHash, keyedHash, keyedHashKeyId, matchesKeyedHash } from "../../src/crypto/keyed-hash";
import { seal } from "../../src/crypto/seal";
import { createWebhookVerifier } from "../../src/hook/auth/create-verifier";

function randomKey(): string {
	return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

const KEY_A = randomKey();
const KEY_B = randomKey();
const PASSWORD = "correct horse battery staple";
const encoder = new TextEncoder();
const base64Url = (bytes: ArrayBuffer) =>
	btoa(String.fromCharCode(...new Uint8Array(bytes)))
		.replaceAll("+", "-")
		.replaceAll("/", "_")
		.replace(/=+$/, "");

/** HKDF-SHA256(CREDENTIALS_KEY, info) → HMAC-SHA256, computed here with WebCrypto rather than through src. */
async function expectedMac(base64Key: string, value: string): Promise<string> {
	const raw = Uint8Array.from(atob(base64Key), (c) => c.charCodeAt(0));
	const material = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveBits"]);
	const bits = await crypto.subtle.deriveBits(
		{ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: encoder.encode("hookflow keyed-hash v1") },
		material,
		256,
	);
	const key = await crypto.subtle.importKey("raw", bits, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return base64Url(await crypto.subtle.sign("HMAC", key, encoder.encode(value)));
}

async function matches(given: string, stored: string[], keys: { CREDENTIALS_KEY: string; CREDENTIALS_KEY_PREVIOUS?: string }) {
	return matchesKeyedHash(given, await Promise.all(stored.map((s) => importKeyedHash(s, keys))));
}

describe("keyedHash", () => {
	it("is kh1.<keyId>.<HMAC-SHA256 under an HKDF-derived key>, with the key id seal.ts uses", async () => {
		const stored = await keyedHash(PASSWORD, { CREDENTIALS_KEY: KEY_A });
		const keyId = (await seal("x", { CREDENTIALS_KEY: KEY_A })).split(".")[1];
		expect(stored).toBe(`kh1.${keyId}.${await expectedMac(KEY_A, PASSWORD)}`);
		expect(keyedHashKeyId(stored)).toBe(keyId);
		expect(await currentKeyId({ CREDENTIALS_KEY: KEY_A })).toBe(keyId);
		expect(stored).not.toContain(PASSWORD);
	});

	it("never uses CREDENTIALS_KEY itself as the HMAC key", async () => {
		const raw = Uint8Array.from(atob(KEY_A), (c) => c.charCodeAt(0));
		const direct = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
		const plain = base64Url(await crypto.subtle.sign("HMAC", direct, encoder.encode(PASSWORD)));
		expect(await keyedHash(PASSWORD, { CREDENTIALS_KEY: KEY_A })).not.toContain(plain);
	});

	it("is deterministic under one key and different under another", async () => {
		const a1 = await keyedHash(PASSWORD, { CREDENTIALS_KEY: KEY_A });
		expect(await keyedHash(PASSWORD, { CREDENTIALS_KEY: KEY_A })).toBe(a1);
		expect(await keyedHash(PASSWORD, { CREDENTIALS_KEY: KEY_B })).not.toBe(a1);
	});

	it("refuses a malformed CREDENTIALS_KEY", async () => {
		await expect(keyedHash(PASSWORD, { CREDENTIALS_KEY: "short" })).rejects.toThrow(/32 random bytes/);
	});
});

describe("matchesKeyedHash", () => {
	it("matches the value and nothing else: not a prefix, another case, a trailing space or empty", async () => {
		const stored = [await keyedHash("k-123", { CREDENTIALS_KEY: KEY_A })];
		const keys = { CREDENTIALS_KEY: KEY_A };
		expect(await matches("k-123", stored, keys)).toBe(true);
		for (const wrong of ["k-12", "K-123", "k-123 ", "", "k-1234"]) expect(await matches(wrong, stored, keys), wrong).toBe(false);
	});

	it("matches any of several hashes (rotation) and none of an empty list", async () => {
		const stored = await Promise.all(["new", "old"].map((v) => keyedHash(v, { CREDENTIALS_KEY: KEY_A })));
		expect(await matches("new", stored, { CREDENTIALS_KEY: KEY_A })).toBe(true);
		expect(await matches("old", stored, { CREDENTIALS_KEY: KEY_A })).toBe(true);
		expect(await matches("third", stored, { CREDENTIALS_KEY: KEY_A })).toBe(false);
		expect(await matchesKeyedHash("", [])).toBe(false);
	});

	it("accepts a hash made under CREDENTIALS_KEY_PREVIOUS while it is set, and names the missing key once it is not", async () => {
		const underA = await keyedHash(PASSWORD, { CREDENTIALS_KEY: KEY_A });
		expect(await matches(PASSWORD, [underA], { CREDENTIALS_KEY: KEY_B, CREDENTIALS_KEY_PREVIOUS: KEY_A })).toBe(true);
		const error = await importKeyedHash(underA, { CREDENTIALS_KEY: KEY_B }).catch((e: Error) => e);
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(/neither CREDENTIALS_KEY nor CREDENTIALS_KEY_PREVIOUS/);
		expect((error as Error).message).not.toContain(PASSWORD);
	});

	it("refuses a malformed stored hash", async () => {
		const stored = await keyedHash(PASSWORD, { CREDENTIALS_KEY: KEY_A });
		for (const bad of ["", PASSWORD, stored.replace("kh1.", "kh2."), stored.slice(0, -4), `${stored}.x`]) {
			await expect(importKeyedHash(bad, { CREDENTIALS_KEY: KEY_A }), bad).rejects.toThrow();
		}
	});
});

describe("webhook credentials", () => {
	const keys = { CREDENTIALS_KEY: KEY_A };

	it("store a keyed hash, never the plaintext, for Basic and API key; HMAC and Standard Webhooks keep their key", async () => {
		const basic = await splitWebhookAuth({ type: "basic", username: "user", password: PASSWORD }, keys);
		expect(basic).toEqual({ details: { username: "user" }, secret: { hash: expect.stringMatching(/^kh1\./) } });
		expect(JSON.stringify(basic)).not.toContain(PASSWORD);
		const apiKey = await splitWebhookAuth({ type: "apiKey", key: PASSWORD }, keys);
		expect(apiKey.secret).toEqual({ hash: await keyedHash(PASSWORD, keys) });
		expect((await splitWebhookAuth({ type: "hmac", secret: "s3cret" }, keys)).secret).toEqual({ value: "s3cret" });
	});

	it("verify against the stored hashes, and against a secret stored before hashing", async () => {
		const headers = (password: string) => new Headers({ authorization: `Basic ${btoa(`user:${password}`)}` });
		const request = (password: string) => ({
			method: "POST",
			url: new URL("https://h.example/"),
			headers: headers(password),
			rawBody: new Uint8Array(),
			nowMs: Date.now(),
		});
		const stored = [{ hash: await keyedHash("new", keys) }, { value: "old" }];
		const verifier = await createWebhookVerifier("basic", { username: "user" }, stored, keys);
		expect(await verifier.verify(request("new"))).toEqual({ ok: true });
		expect(await verifier.verify(request("old"))).toEqual({ ok: true });
		expect(await verifier.verify(request("other"))).toMatchObject({ ok: false, reason: "Wrong username or password" });
		const apiKey = await createWebhookVerifier("apiKey", { headerName: "x-key" }, [{ hash: await keyedHash("k", keys) }], keys);
		expect(
			await apiKey.verify({
				method: "POST",
				url: new URL("https://h.example/"),
				headers: new Headers({ "x-key": "k" }),
				rawBody: new Uint8Array(),
				nowMs: 0,
			}),
		).toEqual({ ok: true });
	});
});
