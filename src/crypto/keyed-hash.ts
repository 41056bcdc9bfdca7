/**
 * @module
 * Keyed hashes for secrets that are only ever compared, never read back (webhook Basic passwords
 * and API keys): HMAC-SHA256 under a key derived from CREDENTIALS_KEY with HKDF, stored as
 * `kh1.<keyId>.<mac>` (base64url). keyId is the id seal.ts gives the same CREDENTIALS_KEY, so a
 * hash made under what is now CREDENTIALS_KEY_PREVIOUS keeps verifying while that secret is set.
 * Without the plaintext a hash cannot be re-made under a new key: such a credential keeps working
 * only as long as CREDENTIALS_KEY_PREVIOUS is set, or until it is rotated (PATCH with a new secret).
 */
import { findCredentialsKey, hkdfHmacKey, importCredentialsKey, type KeyRing } from "./credentials-key";
import { fromBase64, toBase64Url, utf8 } from "./encoding";

const PURPOSE = "keyed-hash";

const deriveHashKey = hkdfHmacKey("hookflow keyed-hash v1");

const importHashKey = (base64Key: string) => importCredentialsKey(base64Key, PURPOSE, deriveHashKey);

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
	const key = await findCredentialsKey(keys, keyId, PURPOSE, deriveHashKey);
	if (key) return { key, mac };
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
