/**
 * @module The Webhook trigger's credential types, declared once: fields, titles, default header
 * names, where each provider keeps the secret, the header it sends, what it signs, the tolerance,
 * where its delivery id is and which handshake it needs. Plain data without zod, so the hook path
 * (src/hook/auth) reads it at no cost; webhook.ts builds the API's zod schema next to it and the
 * component catalogue serves it to the designer.
 */

import { fromBase64 } from "../crypto/encoding";
import type { CredentialDetails } from "../db/schema";

export const webhookAuthTypes = [
	"none",
	"basic",
	"apiKey",
	"hmac",
	"standardWebhooks",
	"github",
	"stripe",
	"shopify",
	"slack",
	"twilio",
	"paddle",
	"linear",
	"zoom",
	"meta",
	"square",
	"gitlab",
] as const;
export type WebhookAuthType = (typeof webhookAuthTypes)[number];

export type HmacAlgorithm = NonNullable<CredentialDetails["algorithm"]>;
export type SignatureEncoding = NonNullable<CredentialDetails["encoding"]>;
export const hmacAlgorithms = ["sha1", "sha256", "sha512"] as const satisfies readonly HmacAlgorithm[];
export const signatureEncodings = ["hex", "base64"] as const satisfies readonly SignatureEncoding[];

export const DEFAULT_API_KEY_HEADER = "x-api-key";
export const DEFAULT_HMAC_HEADER = "x-hookflow-signature";
/** The placeholders a generic HMAC's `signedContent` may use. */
export const SIGNED_CONTENT_PLACEHOLDERS = ["{body}", "{timestamp}", "{url}"] as const;
export const DEFAULT_SIGNED_CONTENT = "{body}";
export const DEFAULT_HMAC_TOLERANCE_SECONDS = 300;
/** Standard Webhooks 1.0: https://www.standardwebhooks.com/ */
export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 5 * 60;

/**
 * What one secret of each type holds once unsealed: signing keys must be read back to sign, so
 * they keep `value` (Meta also its `verifyToken`); a Basic password, API key or GitLab token is only
 * compared, so it keeps only `hash` (crypto/keyed-hash.ts). A hashed type's `value` is from before hashing.
 */
export interface WebhookSecret {
	value?: string;
	hash?: string;
	verifyToken?: string;
}

/** Types whose secret is only compared, never used to sign: stored as keyed hashes. */
export const HASHED_WEBHOOK_TYPES: ReadonlySet<string> = new Set<WebhookAuthType>(["basic", "apiKey", "gitlab"]);

/** `whsec_<base64>` (the prefix is optional) to the raw key bytes; null when malformed. */
export function decodeWebhookSecret(secret: string): Uint8Array | null {
	const key = fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
	return key && key.length > 0 ? key : null;
}

export interface CredentialField {
	name: string;
	label: string;
	required: boolean;
	secret: boolean;
	default?: string | number;
	options?: readonly string[];
	/** A number rather than text. */
	inputType?: "number";
	help?: string;
}

/** Where a provider puts the id of a delivery, which stays the same across its retries. */
export interface DeliveryIdSource {
	/** Headers tried in order. */
	headers?: readonly string[];
	/** A top-level field of the JSON body. */
	bodyField?: string;
}

/** The methods a hook request can become an execution with (HEAD only answers whether the flow runs). */
export type HookMethod = "GET" | "POST";
const ANY_METHOD: readonly HookMethod[] = ["GET", "POST"];
const POST_ONLY: readonly HookMethod[] = ["POST"];
/** Why a preset that signs only the body takes only POST: a GET's payload is its query, which nothing signs. */
const bodySigned = (who: string, what = "a POST's body") => `${who} signs only ${what}, so a GET's query would run unsigned`;

export type HandshakeKind = "slack.url_verification" | "zoom.endpoint.url_validation" | "meta.subscribe";

export interface WebhookTypeSpec {
	type: WebhookAuthType;
	title: string;
	group: "generic" | "providers";
	fields: readonly CredentialField[];
	/** Where the sender shows the secret to copy into this credential. */
	secretLocation?: string;
	/** The header carrying the signature or secret, as the sender spells it. */
	header?: string;
	/** What is signed, for the README and the designer. */
	signed?: string;
	toleranceSeconds?: number;
	deliveryId?: DeliveryIdSource;
	handshake?: HandshakeKind;
	/** Signing by hand makes no sense for it: the designer says to send a test from this dashboard instead. */
	testFrom?: string;
	/**
	 * The methods that become executions: those whose payload (a POST's body, a GET's query) the type
	 * verifies. Any other answers 405 (acceptedMethods; the generic HMAC adds GET when it signs {url}).
	 */
	methods: readonly HookMethod[];
	/** Why, for the 405 and the designer. */
	methodsHint: string;
}

const secretField = (name: string, label: string, help?: string): CredentialField => ({
	name,
	label,
	required: true,
	secret: true,
	...(help ? { help } : {}),
});

export const webhookTypeSpecs: readonly WebhookTypeSpec[] = [
	{
		type: "none",
		title: "No Auth",
		group: "generic",
		fields: [],
		methods: ANY_METHOD,
		methodsHint: "Nothing is checked: the URL is the secret, for a GET (its query is the payload) as for a POST",
	},
	{
		type: "basic",
		title: "Basic Auth",
		group: "generic",
		header: "Authorization",
		fields: [{ name: "username", label: "Username", required: true, secret: false }, secretField("password", "Password")],
		methods: ANY_METHOD,
		methodsHint: "Nothing is signed: the credential itself is the proof, for a GET (its query is the payload) as for a POST",
	},
	{
		type: "apiKey",
		title: "API Key Auth",
		group: "generic",
		header: "x-api-key (or the header you choose)",
		fields: [
			{ name: "headerName", label: "Header name", required: false, secret: false, default: DEFAULT_API_KEY_HEADER },
			secretField("key", "API key"),
		],
		methods: ANY_METHOD,
		methodsHint: "Nothing is signed: the credential itself is the proof, for a GET (its query is the payload) as for a POST",
	},
	{
		type: "hmac",
		title: "HMAC verification",
		group: "generic",
		header: `${DEFAULT_HMAC_HEADER} (or the header you choose)`,
		signed: "the signedContent template, {body} by default",
		fields: [
			secretField("secret", "Secret"),
			{ name: "algorithm", label: "Algorithm", required: false, secret: false, options: hmacAlgorithms, default: "sha256" },
			{ name: "encoding", label: "Signature encoding", required: false, secret: false, options: signatureEncodings, default: "hex" },
			{ name: "headerName", label: "Signature header", required: false, secret: false, default: DEFAULT_HMAC_HEADER },
			{
				name: "prefix",
				label: "Signature prefix",
				required: false,
				secret: false,
				help: "Text before the signature, e.g. sha256= or v1=. Without one, an <algorithm>= prefix is optional.",
			},
			{
				name: "signedContent",
				label: "Signed content",
				required: false,
				secret: false,
				default: DEFAULT_SIGNED_CONTENT,
				help: "What the sender signs: {body} (the exact bytes), {timestamp}, {url}, and literal text, e.g. {timestamp}.{body}",
			},
			{
				name: "timestampHeader",
				label: "Timestamp header",
				required: false,
				secret: false,
				help: "The header carrying {timestamp} (Unix seconds); needed when signedContent uses {timestamp}.",
			},
			{
				name: "toleranceSeconds",
				label: "Timestamp tolerance (seconds)",
				required: false,
				secret: false,
				inputType: "number",
				default: DEFAULT_HMAC_TOLERANCE_SECONDS,
			},
		],
		methods: POST_ONLY,
		methodsHint:
			"The HMAC covers the body, so a GET's query would run unsigned; put {url} in signedContent to sign the query and accept GET too",
	},
	{
		type: "standardWebhooks",
		title: "Standard Webhooks",
		group: "generic",
		header: "webhook-signature (or svix-signature)",
		signed: "{webhook-id}.{webhook-timestamp}.{body} with the base64 key after whsec_",
		toleranceSeconds: STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
		deliveryId: { headers: ["webhook-id", "svix-id"] },
		secretLocation: "The sender's endpoint settings (Svix: the endpoint's Signing Secret, whsec_…)",
		fields: [secretField("secret", "Signing secret (whsec_…)")],
		methods: POST_ONLY,
		methodsHint: bodySigned("Standard Webhooks", "a POST's body, with its id and timestamp"),
	},
	{
		type: "github",
		title: "GitHub",
		group: "providers",
		header: "X-Hub-Signature-256",
		signed: "sha256=<hex HMAC-SHA256 of the body>",
		deliveryId: { headers: ["x-github-delivery"] },
		secretLocation: "Repository or organization → Settings → Webhooks → the webhook's Secret (you choose it there)",
		fields: [secretField("secret", "Webhook secret")],
		methods: POST_ONLY,
		methodsHint: bodySigned("GitHub"),
	},
	{
		type: "stripe",
		title: "Stripe",
		group: "providers",
		header: "Stripe-Signature",
		signed: "t=<ts>,v1=<hex HMAC-SHA256 of {ts}.{body}>",
		toleranceSeconds: 300,
		deliveryId: { bodyField: "id" },
		secretLocation: "Dashboard → Developers → Webhooks → the endpoint → Signing secret (whsec_…)",
		fields: [secretField("secret", "Signing secret (whsec_…)")],
		methods: POST_ONLY,
		methodsHint: bodySigned("Stripe"),
	},
	{
		type: "shopify",
		title: "Shopify",
		group: "providers",
		header: "X-Shopify-Hmac-Sha256",
		signed: "<base64 HMAC-SHA256 of the body>",
		deliveryId: { headers: ["x-shopify-webhook-id"] },
		secretLocation:
			"Settings → Notifications → Webhooks (the key shown under the list), or the app's client secret in the Partner Dashboard",
		fields: [secretField("secret", "Webhook signing secret")],
		methods: POST_ONLY,
		methodsHint: bodySigned("Shopify"),
	},
	{
		type: "slack",
		title: "Slack",
		group: "providers",
		header: "X-Slack-Signature",
		signed: "v0=<hex HMAC-SHA256 of v0:{X-Slack-Request-Timestamp}:{body}>",
		toleranceSeconds: 300,
		deliveryId: { bodyField: "event_id" },
		handshake: "slack.url_verification",
		secretLocation: "api.slack.com/apps → your app → Basic Information → App Credentials → Signing Secret",
		fields: [secretField("signingSecret", "Signing secret")],
		methods: POST_ONLY,
		methodsHint: bodySigned("Slack"),
	},
	{
		type: "twilio",
		title: "Twilio",
		group: "providers",
		header: "X-Twilio-Signature",
		signed: "<base64 HMAC-SHA1 of the URL + sorted form fields> (JSON: the URL with bodySHA256)",
		deliveryId: { headers: ["i-twilio-idempotency-token"] },
		secretLocation: "Twilio Console → Account → API keys & tokens → Auth Token (the primary one)",
		testFrom: "Twilio",
		fields: [secretField("authToken", "Auth Token")],
		methods: ANY_METHOD,
		methodsHint: "Twilio signs the URL it calls, query included, so a GET (a Twilio webhook's other method) is verified as well as a POST",
	},
	{
		type: "paddle",
		title: "Paddle",
		group: "providers",
		header: "Paddle-Signature",
		signed: "ts=<ts>;h1=<hex HMAC-SHA256 of {ts}:{body}>",
		toleranceSeconds: 5,
		deliveryId: { bodyField: "event_id" },
		secretLocation: "Paddle → Developer Tools → Notifications → the destination → Secret key (pdl_ntfset_…)",
		fields: [secretField("secret", "Secret key")],
		methods: POST_ONLY,
		methodsHint: bodySigned("Paddle"),
	},
	{
		type: "linear",
		title: "Linear",
		group: "providers",
		header: "Linear-Signature",
		signed: "<hex HMAC-SHA256 of the body>; the body's webhookTimestamp (ms)",
		toleranceSeconds: 60,
		deliveryId: { headers: ["linear-delivery"] },
		secretLocation: "Linear → Settings → API → Webhooks → the webhook → Signing secret",
		testFrom: "Linear",
		fields: [secretField("secret", "Signing secret")],
		methods: POST_ONLY,
		methodsHint: bodySigned("Linear"),
	},
	{
		type: "zoom",
		title: "Zoom",
		group: "providers",
		header: "x-zm-signature",
		signed: "v0=<hex HMAC-SHA256 of v0:{x-zm-request-timestamp}:{body}>",
		toleranceSeconds: 300,
		handshake: "zoom.endpoint.url_validation",
		secretLocation: "Zoom App Marketplace → your app → Features → Access → Secret Token",
		fields: [secretField("secretToken", "Secret Token")],
		methods: POST_ONLY,
		methodsHint: bodySigned("Zoom"),
	},
	{
		type: "meta",
		title: "Meta (WhatsApp, Instagram, Messenger)",
		group: "providers",
		header: "X-Hub-Signature-256",
		signed: "sha256=<hex HMAC-SHA256 of the body>",
		handshake: "meta.subscribe",
		secretLocation:
			"developers.facebook.com → your app → App settings → Basic → App secret; the verify token is any text you choose and enter in the Webhooks product",
		fields: [secretField("appSecret", "App secret"), secretField("verifyToken", "Verify token")],
		methods: POST_ONLY,
		methodsHint: `${bodySigned("Meta")}; a GET is only its subscribe check (hub.mode=subscribe), answered here`,
	},
	{
		type: "square",
		title: "Square",
		group: "providers",
		header: "x-square-hmacsha256-signature",
		signed: "<base64 HMAC-SHA256 of {notificationUrl}{body}>",
		deliveryId: { bodyField: "event_id" },
		secretLocation: "Developer Console → your application → Webhooks → Subscriptions → the subscription → Signature key",
		fields: [
			secretField("signatureKey", "Signature key"),
			{
				name: "notificationUrl",
				label: "Notification URL",
				required: true,
				secret: false,
				help: "Exactly the URL entered in Square (this flow's hook URL); Square signs it.",
			},
		],
		methods: POST_ONLY,
		methodsHint: bodySigned("Square", "a POST's body, with the notification URL (not this request's)"),
	},
	{
		type: "gitlab",
		title: "GitLab",
		group: "providers",
		header: "X-Gitlab-Token",
		signed: "not signed: the token is compared in constant time",
		deliveryId: { headers: ["idempotency-key"] },
		secretLocation: "Project or group → Settings → Webhooks → Secret token (you choose it there)",
		fields: [secretField("token", "Secret token")],
		methods: ANY_METHOD,
		methodsHint: "The token signs nothing: it is the proof, for a GET (its query is the payload) as for a POST",
	},
];

const byType = new Map(webhookTypeSpecs.map((spec) => [spec.type, spec]));

/** The methods a credential of `type` with `details` accepts: the generic HMAC signs the query when its signedContent holds {url}. */
export function acceptedMethods(type: WebhookAuthType, details: CredentialDetails): readonly HookMethod[] {
	if (type === "hmac" && details.signedContent?.includes("{url}")) return ANY_METHOD;
	return webhookTypeSpec(type).methods;
}

/**
 * The signature covers the body and nothing of the URL (so only POST is accepted): a sender's
 * delivery id is then bound to the body alone, since anyone can append a query or a path.
 */
export function signsOnlyBody(type: WebhookAuthType, details: CredentialDetails): boolean {
	return !acceptedMethods(type, details).includes("GET");
}

export function webhookTypeSpec(type: WebhookAuthType): WebhookTypeSpec {
	const spec = byType.get(type);
	// Every type is declared above; a type without a spec is a bug, not input.
	if (!spec) throw new Error(`webhook type ${type} has no declaration in webhook-types.ts`);
	return spec;
}
