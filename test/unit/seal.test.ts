import { describe, expect, it } from "vitest";
import { seal, sealJson, unseal, unsealJson } from "../../src/crypto/seal";
import { timingSafeEqualText } from "../../src/crypto/timing-safe";

function randomKey(): string {
	return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

const KEY_A = randomKey();
const KEY_B = randomKey();
const SECRET = "correct horse battery staple";

/** Flips one bit of the base64url part at `index` of a sealed value. */
function tamper(sealed: string, index: 2 | 3): string {
	const parts = sealed.split(".");
	const text = parts[index]!;
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const at = Math.floor(text.length / 2);
	const flipped = alphabet[(alphabet.indexOf(text[at]!) ^ 1) % 64]!;
	parts[index] = text.slice(0, at) + flipped + text.slice(at + 1);
	return parts.join(".");
}

describe("seal / unseal", () => {
	it("round-trips text, including non-ASCII and empty text", async () => {
		for (const plaintext of [SECRET, "pässwörd 🔑", ""]) {
			expect(await unseal(await seal(plaintext, { CREDENTIALS_KEY: KEY_A }), { CREDENTIALS_KEY: KEY_A })).toBe(plaintext);
		}
	});

	it("round-trips JSON", async () => {
		const value = { value: SECRET, nested: [1, { a: null }] };
		expect(await unsealJson(await sealJson(value, { CREDENTIALS_KEY: KEY_A }), { CREDENTIALS_KEY: KEY_A })).toEqual(value);
	});

	it("produces v1.<keyId>.<iv>.<ciphertext> without the plaintext in it", async () => {
		const sealed = await seal(SECRET, { CREDENTIALS_KEY: KEY_A });
		expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
		expect(sealed).not.toContain(SECRET);
		expect(sealed).not.toContain(btoa(SECRET).slice(0, 12));
		expect(sealed).not.toContain("horse");
	});

	it("uses a fresh IV each time, so equal secrets do not look equal", async () => {
		const first = await seal(SECRET, { CREDENTIALS_KEY: KEY_A });
		const second = await seal(SECRET, { CREDENTIALS_KEY: KEY_A });
		expect(first).not.toBe(second);
		expect(first.split(".")[1]).toBe(second.split(".")[1]);
	});

	it("refuses a tampered ciphertext or IV", async () => {
		const sealed = await seal(SECRET, { CREDENTIALS_KEY: KEY_A });
		await expect(unseal(tamper(sealed, 3), { CREDENTIALS_KEY: KEY_A })).rejects.toThrow();
		await expect(unseal(tamper(sealed, 2), { CREDENTIALS_KEY: KEY_A })).rejects.toThrow();
		const truncated = sealed.slice(0, -4);
		await expect(unseal(truncated, { CREDENTIALS_KEY: KEY_A })).rejects.toThrow();
	});

	it("refuses a value whose key id was changed to another key's", async () => {
		const sealedA = await seal(SECRET, { CREDENTIALS_KEY: KEY_A });
		const idB = (await seal("x", { CREDENTIALS_KEY: KEY_B })).split(".")[1]!;
		const relabelled = sealedA.split(".").with(1, idB).join(".");
		await expect(unseal(relabelled, { CREDENTIALS_KEY: KEY_B, CREDENTIALS_KEY_PREVIOUS: KEY_A })).rejects.toThrow();
	});

	it("opens a value sealed under the old key once that key is CREDENTIALS_KEY_PREVIOUS", async () => {
		const sealedOld = await seal(SECRET, { CREDENTIALS_KEY: KEY_A });
		const rotated = { CREDENTIALS_KEY: KEY_B, CREDENTIALS_KEY_PREVIOUS: KEY_A };
		expect(await unseal(sealedOld, rotated)).toBe(SECRET);
		// New values are sealed under the new key and open without the previous one.
		const sealedNew = await seal(SECRET, rotated);
		expect(sealedNew.split(".")[1]).not.toBe(sealedOld.split(".")[1]);
		expect(await unseal(sealedNew, { CREDENTIALS_KEY: KEY_B })).toBe(SECRET);
	});

	it("says which key a value needs when neither key matches", async () => {
		const sealed = await seal(SECRET, { CREDENTIALS_KEY: KEY_A });
		const keyId = sealed.split(".")[1]!;
		await expect(unseal(sealed, { CREDENTIALS_KEY: KEY_B })).rejects.toThrow(
			`Sealed secret uses key ${keyId}, which is neither CREDENTIALS_KEY nor CREDENTIALS_KEY_PREVIOUS`,
		);
		await expect(unseal(sealed, { CREDENTIALS_KEY: KEY_B, CREDENTIALS_KEY_PREVIOUS: randomKey() })).rejects.toThrow(/neither/);
	});

	it.each([
		["not base64", "not a key!"],
		["too short", btoa("sixteen byte key")],
		["too long", btoa("x".repeat(33))],
		["empty", ""],
	])("explains how to make a CREDENTIALS_KEY when it is %s", async (_, key) => {
		const expected = "CREDENTIALS_KEY must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)";
		await expect(seal(SECRET, { CREDENTIALS_KEY: key })).rejects.toThrow(expected);
		if (key) {
			await expect(unseal(await seal(SECRET, { CREDENTIALS_KEY: KEY_A }), { CREDENTIALS_KEY: key })).rejects.toThrow(expected);
		}
	});

	it("accepts a key with surrounding whitespace, as pasted from a terminal", async () => {
		const sealed = await seal(SECRET, { CREDENTIALS_KEY: `${KEY_A}\n` });
		expect(await unseal(sealed, { CREDENTIALS_KEY: KEY_A })).toBe(SECRET);
	});

	it.each(["", "v1", "v2.abcd1234.AAAA.BBBB", "v1.abcd1234.AAAA", "plaintext-secret"])("calls %j malformed", async (value) => {
		await expect(unseal(value, { CREDENTIALS_KEY: KEY_A })).rejects.toThrow("Sealed secret is malformed");
	});
});

describe("timingSafeEqualText", () => {
	it("is true only for identical text", async () => {
		expect(await timingSafeEqualText("secret", "secret")).toBe(true);
		expect(await timingSafeEqualText("", "")).toBe(true);
		expect(await timingSafeEqualText("pässwörd", "pässwörd")).toBe(true);
		expect(await timingSafeEqualText("secret", "Secret")).toBe(false);
		expect(await timingSafeEqualText("secret", "secret ")).toBe(false);
		expect(await timingSafeEqualText("secret", "secre")).toBe(false);
		expect(await timingSafeEqualText("", "secret")).toBe(false);
		expect(await timingSafeEqualText("a".repeat(10_000), `${"a".repeat(9_999)}b`)).toBe(false);
	});
});
