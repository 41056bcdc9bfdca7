/**
 * @module
 * Twilio: `X-Twilio-Signature` is the base64 HMAC-SHA1, keyed with the Auth Token, of the
 * full URL Twilio called followed by each POST field's name and value, sorted by name. Any other
 * body (JSON) is not in the signature: the signed URL must carry `bodySHA256`, the body's hex
 * SHA-256, and the body must match it, as the SDK's `validateRequestWithBody` requires; a
 * non-form body without it is refused, or one captured signature would let anyone post any JSON.
 * As Twilio's own SDK does, the URL is tried with and without its default port.
 */
import { webhookTypeSpec } from "../../components/webhook-types";
import { fromBase64, toHex, utf8 } from "../../crypto/encoding";
import { anyKeyVerifies, importHmacKeys } from "./hmac";
import { AUTH_OK, refuse, type Verifier } from "./types";

const HEADER = "x-twilio-signature";
const decoder = new TextDecoder();

/** The POST fields in Twilio's order: names sorted, a repeated name's distinct values sorted. */
export function twilioSignedFields(form: URLSearchParams): string {
	const byName = new Map<string, Set<string>>();
	for (const [name, value] of form) {
		const values = byName.get(name) ?? new Set<string>();
		values.add(value);
		byName.set(name, values);
	}
	let out = "";
	for (const [name, values] of [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
		for (const value of [...values].sort()) out += name + value;
	}
	return out;
}

/** The URL as received, and the same with its default port written out or left off. */
function urlVariants(url: URL): string[] {
	const defaultPort = url.protocol === "https:" ? "443" : url.protocol === "http:" ? "80" : "";
	const rest = `${url.pathname}${url.search}`;
	const withPort = `${url.protocol}//${url.hostname}:${url.port || defaultPort}${rest}`;
	const withoutPort = url.port === defaultPort || url.port === "" ? `${url.protocol}//${url.hostname}${rest}` : url.href;
	return [...new Set([url.href, withPort, withoutPort])];
}

export async function createTwilioVerifier(authTokens: readonly string[]): Promise<Verifier> {
	const keys = await importHmacKeys(authTokens, "sha1");
	return {
		secretHeaders: [HEADER],
		deliveryId: webhookTypeSpec("twilio").deliveryId,
		async verify({ url, headers, rawBody }) {
			const given = headers.get(HEADER);
			if (given === null) return refuse(`Missing ${HEADER} header`);
			const signature = fromBase64(given.trim());
			if (!signature || signature.length === 0) return refuse(`Malformed ${HEADER} header: expected a base64 HMAC-SHA1`);
			const bodySha256 = url.searchParams.get("bodySHA256");
			const isForm = (headers.get("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
			if (bodySha256 === null && !isForm && rawBody.length > 0)
				return refuse(
					"Unsigned body: Twilio signs a JSON (non-form) body only through bodySHA256 in the URL it calls, and this URL has none",
				);
			const fields = bodySha256 === null && isForm ? twilioSignedFields(new URLSearchParams(decoder.decode(rawBody))) : "";
			let matched = false;
			for (const candidate of urlVariants(url)) {
				if (await anyKeyVerifies(keys, [signature], utf8.encode(candidate + fields))) {
					matched = true;
					break;
				}
			}
			if (!matched)
				return refuse(
					`Signature mismatch in ${HEADER}: Twilio signs the exact URL it called (wrong URL if a proxy changed scheme, host, path or query) followed by the sorted POST fields, with HMAC-SHA1 and the Auth Token`,
				);
			// Exactly the lowercase hex Twilio writes, as the SDK compares it (a hash of the body, not a secret).
			if (bodySha256 !== null && toHex(await crypto.subtle.digest("SHA-256", rawBody)) !== bodySha256)
				return refuse("Body mismatch: the body's SHA-256 differs from the bodySHA256 Twilio signed in the URL");
			return AUTH_OK;
		},
	};
}
