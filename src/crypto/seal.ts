/**
 * @module
 * Secret sealing: AES-GCM-256 under CREDENTIALS_KEY. A sealed value is
 * `v1.<keyId>.<iv>.<ciphertext>` (base64url), where keyId names the key so that a key can be
 * rotated: values sealed under CREDENTIALS_KEY_PREVIOUS still open while they are re-sealed.
 */
import { findCredentialsKey, importCredentialsKey, type KeyRing } from "./credentials-key";
import { fromBase64, toBase64Url, utf8 } from "./encoding";

export type { KeyRing } from "./credentials-key";

const PURPOSE = "seal";
const deriveAesKey = (raw: Uint8Array) => crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);

export async function seal(plaintext: string, keys: KeyRing): Promise<string> {
	const { id, key } = await importCredentialsKey(keys.CREDENTIALS_KEY, PURPOSE, deriveAesKey);
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8.encode(id) }, key, utf8.encode(plaintext));
	return `v1.${id}.${toBase64Url(iv)}.${toBase64Url(ciphertext)}`;
}

export async function unseal(sealed: string, keys: KeyRing): Promise<string> {
	const [version, keyId, ivText, ciphertextText] = sealed.split(".");
	if (version !== "v1" || !keyId || !ivText || !ciphertextText) throw new Error("Sealed secret is malformed");
	const key = await findCredentialsKey(keys, keyId, PURPOSE, deriveAesKey);
	if (!key) throw new Error(`Sealed secret uses key ${keyId}, which is neither CREDENTIALS_KEY nor CREDENTIALS_KEY_PREVIOUS`);
	const iv = fromBase64(ivText);
	const ciphertext = fromBase64(ciphertextText);
	if (!iv || !ciphertext) throw new Error("Sealed secret is malformed");
	const plaintext = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8.encode(keyId) }, key, ciphertext);
	return new TextDecoder().decode(plaintext);
}

export async function sealJson(value: unknown, keys: KeyRing): Promise<string> {
	return seal(JSON.stringify(value), keys);
}

export async function unsealJson<T>(sealed: string, keys: KeyRing): Promise<T> {
	return JSON.parse(await unseal(sealed, keys)) as T;
}
