import { fromBase64, toBase64Url, toHex, utf8 } from "./encoding";
import type { KeyRing } from "./seal";

/**
 * Keyed hashes for secrets that are only ever compared, never read back (webhook Basic passwords
 * and API keys): HMAC-SHA256 under a key derived from CREDENTIALS_KEY with HKDF, stored as
 * `kh1.<keyId>.<mac>` (base64url). keyId is the id seal.ts gives the same CREDENTIALS_KEY, so a
 * hash made under what is now CREDENTIALS_KEY_PREVIOUS keeps verifying while that secret is set.
 * Without the plaintext a hash cannot be re-made under a new key: such a credential keeps working
 * only as long as CREDENTIALS_KEY_PREVIOUS is set, or until it is rotated (PATCH with a new secret).
 */

const HKDF_INFO = utf8.encode("hookflow keyed-hash v1");

interface HashKey {
	id: string;
	key: CryptoKey;
}

const keyCache = new Map<string, Promise<HashKey>>();

function importHashKey(base64Key: string): Promise<HashKey> {
	let cached = keyCache.get(base64Key);
	if (!cached) {
		cached = (async () => {
			const raw = fromBase64(base64Key.trim());
			if (raw?.length !== 32) {
				throw new Error("CREDENTIALS_KEY must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)");
			}
			const id = toHex(await crypto.subtle.digest("SHA-256", raw)).slice(0, 8);
			const material = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
			const key = await crypto.subtle.deriveKey(
				{ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: HKDF_INFO },
				material,
				{ name: "HMAC", hash: "SHA-256", length: 256 },
				false,
				["sign", "verify"],
			);
			return { id, key };
		})();
		// A malformed key must not stay cached as a rejection.
		cached.catch(() => keyCache.delete(base64Key));
		keyCache.set(base64Key, cached);
	}
	return cached;
}

/** The id of CREDENTIALS_KEY, as it appears in sealed values and keyed hashes. */
export async function currentKeyId(keys: KeyRing): Promise<string> {
	return (await importHashKey(keys.CREDENTIALS_KEY)).id;
}

/** The key id a stored hash was made under; null when it is not a keyed hash. */
export function keyedHashKeyId(stored: string): string | null {
	return /^kh1\.([0-9a-f]{8})\.[A-Za-z0-9_-]+$/.exec(stored)?.[1] ?? null;
}

/** The form to store: always under the current CREDENTIALS_KEY. */
export async function keyedHash(value: string, keys: KeyRing): Promise<string> {
	const { id, key } = await importHashKey(keys.CREDENTIALS_KEY);
	return `kh1.${id}.${toBase64Url(await crypto.subtle.sign("HMAC", key, utf8.encode(value)))}`;
}

/** A stored hash ready to compare against, with its key imported once per config load. */
export interface HashedSecret {
	key: CryptoKey;
	mac: Uint8Array;
}

export async function importKeyedHash(stored: string, keys: KeyRing): Promise<HashedSecret> {
	const keyId = keyedHashKeyId(stored);
	const mac = fromBase64(stored.split(".")[2] ?? "");
	if (!keyId || mac?.length !== 32) throw new Error("Stored keyed hash is malformed");
	for (const candidate of [keys.CREDENTIALS_KEY, keys.CREDENTIALS_KEY_PREVIOUS]) {
		if (!candidate) continue;
		const { id, key } = await importHashKey(candidate);
		if (id === keyId) return { key, mac };
	}
	throw new Error(
		`A Basic password or API key is hashed under key ${keyId}, which is neither CREDENTIALS_KEY nor CREDENTIALS_KEY_PREVIOUS: set CREDENTIALS_KEY_PREVIOUS again, or rotate the credential`,
	);
}

/** Whether `given` matches any of the hashes; every one is checked, each compare in constant time (crypto.subtle.verify). */
export async function matchesKeyedHash(given: string, hashes: readonly HashedSecret[]): Promise<boolean> {
	const data = utf8.encode(given);
	const results = await Promise.all(hashes.map(({ key, mac }) => crypto.subtle.verify("HMAC", key, mac, data)));
	return results.includes(true);
}
