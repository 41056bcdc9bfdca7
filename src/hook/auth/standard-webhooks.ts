import { fromBase64, utf8 } from "../../crypto/encoding";
import { importHmacKey } from "./hmac";
import { AUTH_OK, type Verifier } from "./types";

/** Standard Webhooks 1.0: https://www.standardwebhooks.com/ */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/** `whsec_<base64>` (the prefix is optional) to the raw key bytes; null when malformed. */
export function decodeWebhookSecret(secret: string): Uint8Array | null {
	const key = fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
	return key && key.length > 0 ? key : null;
}

export async function createStandardWebhooksVerifier(secrets: readonly string[]): Promise<Verifier> {
	const keys = await Promise.all(
		secrets.map((s) => {
			const raw = decodeWebhookSecret(s);
			if (!raw) throw new Error("Standard Webhooks secret must be whsec_ followed by base64");
			return importHmacKey(raw, "sha256");
		}),
	);
	return {
		secretHeaders: ["webhook-signature"],
		async verify({ headers, rawBody, nowMs }) {
			const id = headers.get("webhook-id");
			const timestamp = headers.get("webhook-timestamp");
			const signatureHeader = headers.get("webhook-signature");
			const missing = [!id && "webhook-id", !timestamp && "webhook-timestamp", !signatureHeader && "webhook-signature"].filter(Boolean);
			if (missing.length > 0 || !id || !timestamp || !signatureHeader) return { ok: false, reason: `Missing ${missing.join(", ")} header` };
			if (!/^\d{1,12}$/.test(timestamp))
				return { ok: false, reason: "Malformed webhook-timestamp header: expected integer seconds since the epoch" };
			const skew = Math.round(nowMs / 1000) - Number(timestamp);
			if (Math.abs(skew) > TIMESTAMP_TOLERANCE_SECONDS) {
				return { ok: false, reason: `webhook-timestamp outside the ±${TIMESTAMP_TOLERANCE_SECONDS} s tolerance (skew ${skew} s)` };
			}
			const signatures = signatureHeader
				.split(" ")
				.filter((part) => part.startsWith("v1,"))
				.map((part) => fromBase64(part.slice(3)))
				.filter((sig): sig is Uint8Array => sig !== null);
			if (signatures.length === 0)
				return { ok: false, reason: "Malformed webhook-signature header: expected space-separated v1,<base64> signatures" };
			const prefix = utf8.encode(`${id}.${timestamp}.`);
			const signed = new Uint8Array(prefix.length + rawBody.length);
			signed.set(prefix);
			signed.set(rawBody, prefix.length);
			for (const key of keys) {
				for (const signature of signatures) {
					if (await crypto.subtle.verify("HMAC", key, signature, signed)) return AUTH_OK;
				}
			}
			return {
				ok: false,
				reason: "Signature mismatch in webhook-signature: sign `{webhook-id}.{webhook-timestamp}.{raw body}` with the whsec_ key",
			};
		},
	};
}
