import { fromHex, utf8 } from "../../crypto/encoding";
import { AUTH_OK, type Verifier } from "./types";

export const DEFAULT_HMAC_HEADER = "x-hookflow-signature";
export type HmacAlgorithm = "sha256" | "sha512";

const HASH: Record<HmacAlgorithm, string> = { sha256: "SHA-256", sha512: "SHA-512" };

export function importHmacKey(secret: Uint8Array, algorithm: HmacAlgorithm): Promise<CryptoKey> {
	return crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: HASH[algorithm] }, false, ["sign", "verify"]);
}

/**
 * HMAC of the raw body, lowercase hex, optionally prefixed `sha256=` / `sha512=` (GitHub style).
 * Keys are imported once per config load; crypto.subtle.verify compares in constant time.
 */
export async function createHmacVerifier(headerName: string, algorithm: HmacAlgorithm, secrets: readonly string[]): Promise<Verifier> {
	const header = headerName.toLowerCase();
	const keys = await Promise.all(secrets.map((s) => importHmacKey(utf8.encode(s), algorithm)));
	const prefix = new RegExp(`^${algorithm}=`, "i");
	return {
		secretHeaders: [header],
		async verify({ headers, rawBody }) {
			const given = headers.get(header);
			if (given === null) return { ok: false, reason: `Missing ${header} header` };
			const hex = given.trim().replace(prefix, "");
			const signature = fromHex(hex);
			if (!signature) return { ok: false, reason: `Malformed ${header} header: expected the ${algorithm} HMAC of the raw body as hex` };
			for (const key of keys) {
				if (await crypto.subtle.verify("HMAC", key, signature, rawBody)) return AUTH_OK;
			}
			return { ok: false, reason: `Signature mismatch in ${header}: sign the exact raw body bytes with HMAC-${algorithm.toUpperCase()}` };
		},
	};
}
