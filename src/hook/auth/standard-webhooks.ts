/**
 * @module
 * Standard Webhooks 1.0 (https://www.standardwebhooks.com/): HMAC-SHA256 of
 * `{id}.{timestamp}.{body}` with the base64 key after `whsec_`. Svix senders use the same scheme
 * under `svix-id`, `svix-timestamp` and `svix-signature`, accepted as well.
 */
import { decodeWebhookSecret, STANDARD_WEBHOOKS_TOLERANCE_SECONDS, webhookTypeSpec } from "../../components/webhook-types";
import { fromBase64, utf8 } from "../../crypto/encoding";
import { anyKeyVerifies, importHmacKey, timestampProblem } from "./hmac";
import { AUTH_OK, refuse, type Verifier } from "./types";

export async function createStandardWebhooksVerifier(secrets: readonly string[]): Promise<Verifier> {
	const keys = await Promise.all(
		secrets.map((s) => {
			const raw = decodeWebhookSecret(s);
			if (!raw) throw new Error("Standard Webhooks secret must be whsec_ followed by base64");
			return importHmacKey(raw, "sha256");
		}),
	);
	return {
		secretHeaders: ["webhook-signature", "svix-signature"],
		deliveryId: webhookTypeSpec("standardWebhooks").deliveryId,
		async verify({ headers, rawBody, nowMs }) {
			// Svix's names only when the request uses them: a request with neither is told the standard ones.
			const svix =
				!headers.has("webhook-id") && !headers.has("webhook-signature") && (headers.has("svix-id") || headers.has("svix-signature"));
			const [idName, timestampName, signatureName] = svix
				? ["svix-id", "svix-timestamp", "svix-signature"]
				: ["webhook-id", "webhook-timestamp", "webhook-signature"];
			const id = headers.get(idName);
			const timestamp = headers.get(timestampName);
			const signatureHeader = headers.get(signatureName);
			const missing = [!id && idName, !timestamp && timestampName, !signatureHeader && signatureName].filter(Boolean);
			if (missing.length > 0 || !id || !timestamp || !signatureHeader) return refuse(`Missing ${missing.join(", ")} header`);
			const problem = timestampProblem(timestampName, timestamp, nowMs, STANDARD_WEBHOOKS_TOLERANCE_SECONDS);
			if (problem) return refuse(problem);
			const signatures = signatureHeader
				.split(" ")
				.filter((part) => part.startsWith("v1,"))
				.map((part) => fromBase64(part.slice(3)))
				.filter((sig): sig is Uint8Array => sig !== null);
			if (signatures.length === 0) return refuse(`Malformed ${signatureName} header: expected space-separated v1,<base64> signatures`);
			const prefix = utf8.encode(`${id}.${timestamp}.`);
			const signed = new Uint8Array(prefix.length + rawBody.length);
			signed.set(prefix);
			signed.set(rawBody, prefix.length);
			if (await anyKeyVerifies(keys, signatures, signed)) return AUTH_OK;
			return refuse(`Signature mismatch in ${signatureName}: sign \`{${idName}}.{${timestampName}}.{raw body}\` with the whsec_ key`);
		},
	};
}
