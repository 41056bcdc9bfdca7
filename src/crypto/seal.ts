import { fromBase64, toBase64Url, toHex, utf8 } from "./encoding";

/**
 * Secret sealing: AES-GCM-256 under CREDENTIALS_KEY. A sealed value is
 * `v1.<keyId>.<iv>.<ciphertext>` (base64url), where keyId names the key so that a key can be
 * rotated: values sealed under CREDENTIALS_KEY_PREVIOUS still open while they are re-sealed.
 */

interface SealingKey {
	id: string;
	key: CryptoKey;
}

const keyCache = new Map<string, Promise<SealingKey>>();

function importSealingKey(base64Key: string): Promise<SealingKey> {
	let cached = keyCache.get(base64Key);
	if (!cached) {
		cached = (async () => {
			const raw = fromBase64(base64Key.trim());
			if (raw?.length !== 32) {
				throw new Error("CREDENTIALS_KEY must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)");
			}
			const id = toHex(await crypto.subtle.digest("SHA-256", raw)).slice(0, 8);
			const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
			return { id, key };
		})();
		keyCache.set(base64Key, cached);
	}
	return cached;
}

export interface KeyRing {
	CREDENTIALS_KEY: string;
	CREDENTIALS_KEY_PREVIOUS?: string;
}

export async function seal(plaintext: string, keys: KeyRing): Promise<string> {
	const { id, key } = await importSealingKey(keys.CREDENTIALS_KEY);
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8.encode(id) }, key, utf8.encode(plaintext));
	return `v1.${id}.${toBase64Url(iv)}.${toBase64Url(ciphertext)}`;
}

export async function unseal(sealed: string, keys: KeyRing): Promise<string> {
	const [version, keyId, ivText, ciphertextText] = sealed.split(".");
	if (version !== "v1" || !keyId || !ivText || !ciphertextText) throw new Error("Sealed secret is malformed");
	const candidates = [keys.CREDENTIALS_KEY, keys.CREDENTIALS_KEY_PREVIOUS].filter((k): k is string => Boolean(k));
	for (const candidate of candidates) {
		const { id, key } = await importSealingKey(candidate);
		if (id !== keyId) continue;
		const iv = fromBase64(ivText);
		const ciphertext = fromBase64(ciphertextText);
		if (!iv || !ciphertext) throw new Error("Sealed secret is malformed");
		const plaintext = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8.encode(id) }, key, ciphertext);
		return new TextDecoder().decode(plaintext);
	}
	throw new Error(`Sealed secret uses key ${keyId}, which is neither CREDENTIALS_KEY nor CREDENTIALS_KEY_PREVIOUS`);
}

export async function sealJson(value: unknown, keys: KeyRing): Promise<string> {
	return seal(JSON.stringify(value), keys);
}

export async function unsealJson<T>(sealed: string, keys: KeyRing): Promise<T> {
	return JSON.parse(await unseal(sealed, keys)) as T;
}
