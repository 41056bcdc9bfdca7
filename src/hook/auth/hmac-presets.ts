/**
 * @module
 * The providers that sign with an HMAC, each exactly as its documentation and SDK do:
 * GitHub, Stripe, Shopify, Slack, Paddle, Linear, Zoom, Meta and Square. Header names, tolerances,
 * delivery ids and handshakes come from the component's description (components/webhook-types.ts).
 */
import { type WebhookAuthType, webhookTypeSpec } from "../../components/webhook-types";
import { toHex, utf8 } from "../../crypto/encoding";
import { timingSafeEqualText } from "../../crypto/timing-safe";
import { createHmacSchemeVerifier, type HmacScheme, importHmacKeys, prefixed, type SignatureHeader } from "./hmac";
import { AUTH_OK, type AuthResult, type HookRequestForAuth, refuse, type Verifier } from "./types";

type HmacPresetType = "github" | "stripe" | "shopify" | "slack" | "paddle" | "linear" | "zoom" | "meta" | "square";

const headerOf = (type: WebhookAuthType) => (webhookTypeSpec(type).header ?? "").toLowerCase();
const toleranceOf = (type: WebhookAuthType) => webhookTypeSpec(type).toleranceSeconds;

/** `k=v` pairs split by `separator` (Stripe: `t=…,v1=…,v1=…`; Paddle: `ts=…;h1=…`). */
function pairs(value: string, separator: string): Array<[string, string]> {
	return value.split(separator).map((part) => {
		const eq = part.indexOf("=");
		return eq < 0 ? [part.trim(), ""] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
	});
}

function keyedPairs(separator: string, timestampKey: string, signatureKey: string, format: string) {
	return (value: string): SignatureHeader | string => {
		const all = pairs(value, separator);
		const timestamp = all.find(([k]) => k === timestampKey)?.[1];
		const signatures = all.filter(([k]) => k === signatureKey).map(([, v]) => v);
		if (!timestamp || signatures.length === 0) return `expected ${format}`;
		return { timestamp, signatures };
	};
}

/** Linear puts its timestamp (ms) in the body, signed with it; it must be within a minute. */
function linearTimestamp(request: HookRequestForAuth): AuthResult {
	let timestamp: unknown;
	try {
		timestamp = (JSON.parse(new TextDecoder().decode(request.rawBody)) as { webhookTimestamp?: unknown }).webhookTimestamp;
	} catch {
		return refuse("Malformed body: Linear sends JSON with webhookTimestamp");
	}
	if (typeof timestamp !== "number") return refuse("Missing webhookTimestamp in the body");
	const tolerance = toleranceOf("linear") ?? 60;
	const skew = Math.round((request.nowMs - timestamp) / 1000);
	if (Math.abs(request.nowMs - timestamp) > tolerance * 1000)
		return refuse(`Stale timestamp: webhookTimestamp outside the ±${tolerance} s tolerance (skew ${skew} s)`);
	return AUTH_OK;
}

function schemeFor(type: HmacPresetType, notificationUrl: string | undefined): HmacScheme {
	const header = headerOf(type);
	const common = { header, algorithm: "sha256", toleranceSeconds: toleranceOf(type) } as const;
	switch (type) {
		case "github":
		case "meta":
			return {
				...common,
				encoding: "hex",
				read: prefixed("sha256=", "hex"),
				signedContent: "{body}",
				describe: "sha256=<hex HMAC-SHA256 of the raw body>",
				hint: `sign the exact raw body bytes with HMAC-SHA256 and the ${type === "meta" ? "app secret" : "webhook secret"}`,
			};
		case "shopify":
			return {
				...common,
				encoding: "base64",
				read: (value) => ({ signatures: [value.trim()] }),
				signedContent: "{body}",
				describe: "the base64 HMAC-SHA256 of the raw body",
				hint: "sign the exact raw body bytes with HMAC-SHA256 and the webhook signing secret",
			};
		case "stripe":
			return {
				...common,
				encoding: "hex",
				read: keyedPairs(",", "t", "v1", "t=<timestamp>,v1=<signature>"),
				signedContent: "{timestamp}.{body}",
				describe: "t=<timestamp>,v1=<hex HMAC-SHA256>",
				hint: "sign `{t}.{raw body}` with HMAC-SHA256 and the endpoint's whsec_ signing secret",
			};
		case "paddle":
			return {
				...common,
				encoding: "hex",
				read: keyedPairs(";", "ts", "h1", "ts=<timestamp>;h1=<signature>"),
				signedContent: "{timestamp}:{body}",
				describe: "ts=<timestamp>;h1=<hex HMAC-SHA256>",
				hint: "sign `{ts}:{raw body}` with HMAC-SHA256 and the notification destination's secret key",
			};
		case "slack":
		case "zoom":
			return {
				...common,
				encoding: "hex",
				read: prefixed("v0=", "hex"),
				signedContent: "v0:{timestamp}:{body}",
				timestampHeader: type === "slack" ? "x-slack-request-timestamp" : "x-zm-request-timestamp",
				describe: "v0=<hex HMAC-SHA256>",
				hint: `sign \`v0:{timestamp}:{raw body}\` with HMAC-SHA256 and the ${type === "slack" ? "signing secret" : "secret token"}`,
			};
		case "linear":
			return {
				...common,
				encoding: "hex",
				read: (value) => ({ signatures: [value.trim()] }),
				signedContent: "{body}",
				describe: "the hex HMAC-SHA256 of the raw body",
				hint: "sign the exact raw body bytes with HMAC-SHA256 and the webhook's signing secret",
				afterSignature: linearTimestamp,
			};
		case "square":
			return {
				...common,
				encoding: "base64",
				read: (value) => ({ signatures: [value.trim()] }),
				signedContent: "{url}{body}",
				signedUrl: notificationUrl ?? "",
				describe: "the base64 HMAC-SHA256 of the notification URL followed by the raw body",
				hint: "sign `{notificationUrl}{raw body}` with HMAC-SHA256 and the subscription's signature key",
			};
	}
}

const textAnswer = (kind: "slack.url_verification" | "meta.subscribe", body: string) => ({
	kind,
	contentType: "text/plain; charset=utf-8",
	body,
});

const isMetaSubscribe = (method: string, url: URL) => method === "GET" && url.searchParams.get("hub.mode") === "subscribe";

/** Meta's subscribe GET carries no signature: the verify token is its proof. */
function withMetaSubscribe(verifier: Verifier, verifyTokens: readonly string[]): Verifier {
	return {
		...verifier,
		isHandshakeRequest: isMetaSubscribe,
		async verify(request) {
			const query = request.url.searchParams;
			if (!isMetaSubscribe(request.method, request.url)) return verifier.verify(request);
			const given = query.get("hub.verify_token");
			if (given === null) return refuse("Missing hub.verify_token in the subscribe request");
			let matches = false;
			for (const token of verifyTokens) if (await timingSafeEqualText(given, token)) matches = true;
			if (!matches) return refuse("Wrong hub.verify_token: it must equal the credential's verify token");
			const challenge = query.get("hub.challenge");
			if (challenge === null) return refuse("Missing hub.challenge in the subscribe request");
			return { ok: true, handshake: textAnswer("meta.subscribe", challenge) };
		},
	};
}

/** Builds the verifier of an HMAC-signing provider; `secrets` holds the current secret first. */
export async function createHmacPresetVerifier(
	type: HmacPresetType,
	secrets: readonly string[],
	options: { notificationUrl?: string; verifyTokens?: readonly string[] } = {},
): Promise<Verifier> {
	const spec = webhookTypeSpec(type);
	const verifier = { ...(await createHmacSchemeVerifier(schemeFor(type, options.notificationUrl), secrets)), deliveryId: spec.deliveryId };
	switch (type) {
		case "slack":
			return {
				...verifier,
				// Slack sends url_verification once, signed, when the Events URL is saved; the answer is the challenge.
				handshake: async (message) =>
					message.type === "url_verification" && typeof message.challenge === "string"
						? textAnswer("slack.url_verification", message.challenge)
						: null,
			};
		case "zoom": {
			const keys = await importHmacKeys(secrets, "sha256");
			return {
				...verifier,
				// Zoom validates the URL (and re-validates every 72 h): echo plainToken with its HMAC-SHA256, hex,
				// under the secret that signed the request: during a rotation, a holder of the old secret gets no HMAC made with the new one.
				handshake: async (message, secretIndex) => {
					const plainToken = (message.payload as { plainToken?: unknown } | undefined)?.plainToken;
					const key = keys[secretIndex];
					if (message.event !== "endpoint.url_validation" || typeof plainToken !== "string" || !key) return null;
					const encryptedToken = toHex(await crypto.subtle.sign("HMAC", key, utf8.encode(plainToken)));
					return {
						kind: "zoom.endpoint.url_validation",
						contentType: "application/json",
						body: JSON.stringify({ plainToken, encryptedToken }),
					};
				},
			};
		}
		case "meta":
			return withMetaSubscribe(verifier, options.verifyTokens ?? []);
		default:
			return verifier;
	}
}

export type { HmacPresetType };
