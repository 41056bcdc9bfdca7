/**
 * @module
 * CREDENTIALS_KEY, and CREDENTIALS_KEY_PREVIOUS while a rotation is under way. Each key gets an
 * id (8 hex of its SHA-256) that sealed values and keyed hashes carry, so either key can be found
 * again; each purpose derives its own CryptoKey from it, imported once per isolate.
 */
import { fromBase64, toHex, utf8 } from "./encoding";

export interface KeyRing {
	CREDENTIALS_KEY: string;
	CREDENTIALS_KEY_PREVIOUS?: string;
}

export interface IdentifiedKey {
	id: string;
	key: CryptoKey;
}

type Derive = (raw: Uint8Array) => Promise<CryptoKey>;

const cache = new Map<string, Promise<IdentifiedKey>>();

/** An HMAC-SHA256 key derived from the credentials key with HKDF under `info`, so no purpose ever uses the key itself. */
export function hkdfHmacKey(info: string): Derive {
	const infoBytes = utf8.encode(info);
	return async (raw) => {
		const material = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
		return crypto.subtle.deriveKey(
			{ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info: infoBytes },
			material,
			{ name: "HMAC", hash: "SHA-256", length: 256 },
			false,
			["sign", "verify"],
		);
	};
}

export function importCredentialsKey(base64Key: string, purpose: string, derive: Derive): Promise<IdentifiedKey> {
	const cacheKey = `${purpose}\n${base64Key}`;
	let cached = cache.get(cacheKey);
	if (!cached) {
		cached = (async () => {
			const raw = fromBase64(base64Key.trim());
			if (raw?.length !== 32) {
				throw new Error("CREDENTIALS_KEY must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)");
			}
			return { id: toHex(await crypto.subtle.digest("SHA-256", raw)).slice(0, 8), key: await derive(raw) };
		})();
		// A malformed key must not stay cached as a rejection.
		cached.catch(() => cache.delete(cacheKey));
		cache.set(cacheKey, cached);
	}
	return cached;
}

/** The key of `keys` whose id is `keyId`, or null when neither the current nor the previous key has it. */
export async function findCredentialsKey(keys: KeyRing, keyId: string, purpose: string, derive: Derive): Promise<CryptoKey | null> {
	for (const candidate of [keys.CREDENTIALS_KEY, keys.CREDENTIALS_KEY_PREVIOUS]) {
		if (!candidate) continue;
		const { id, key } = await importCredentialsKey(candidate, purpose, derive);
		if (id === keyId) return key;
	}
	return null;
}
