/**
 * @module
 * The Webhook trigger for the admin API: the zod schema of each credential type's `auth`
 * and how each is stored. The declarative description lives in webhook-types.ts (also read by the
 * hook path, which must not load zod); how each verifies is src/hook/auth.
 */
import * as z from "zod";
import { keyedHash } from "../crypto/keyed-hash";
import type { KeyRing } from "../crypto/seal";
import type { CredentialDetails } from "../db/schema";
import { CLIENT_IP_HEADERS } from "./client-ip-headers";
import {
	DEFAULT_API_KEY_HEADER,
	DEFAULT_HMAC_HEADER,
	DEFAULT_HMAC_TOLERANCE_SECONDS,
	DEFAULT_SIGNED_CONTENT,
	decodeWebhookSecret,
	hmacAlgorithms,
	SIGNED_CONTENT_PLACEHOLDERS,
	signatureEncodings,
	type WebhookSecret,
	webhookTypeSpecs,
} from "./webhook-types";

export type { WebhookAuthType } from "./webhook-types";

const headerName = z
	.string()
	.regex(/^[A-Za-z0-9_-]{1,64}$/, "Header names may use letters, digits, - and _ only")
	.transform((h) => h.toLowerCase());
const secretText = (what: string) => z.string().min(1, `${what} is required`).max(1024);
const secretOnly = <T extends string, F extends string>(type: T, field: F, what: string) =>
	z.object({ type: z.literal(type), [field]: secretText(what) } as { type: z.ZodLiteral<T> } & Record<F, z.ZodString>).strict();

/** `{body}`, `{timestamp}`, `{url}` and literal text; `{timestamp}` needs the header that carries it. */
const signedContent = z
	.string()
	.min(1)
	.max(256)
	.refine((t) => t.includes("{body}"), "signedContent must contain {body}")
	.refine(
		(t) => (t.match(/\{[^}]*\}/g) ?? []).every((p) => (SIGNED_CONTENT_PLACEHOLDERS as readonly string[]).includes(p)),
		`signedContent may only use the placeholders ${SIGNED_CONTENT_PLACEHOLDERS.join(", ")}`,
	);

const hmacAuth = z
	.object({
		type: z.literal("hmac"),
		secret: secretText("Secret"),
		algorithm: z.enum(hmacAlgorithms).optional(),
		encoding: z.enum(signatureEncodings).optional(),
		headerName: headerName.optional(),
		prefix: z
			.string()
			.max(32)
			.regex(/^[\x21-\x7e]*$/, "prefix may only hold printable ASCII without spaces")
			.optional(),
		signedContent: signedContent.optional(),
		timestampHeader: headerName.optional(),
		toleranceSeconds: z.number().int().min(1).max(86_400).optional(),
	})
	.strict()
	.refine((a) => !(a.signedContent ?? "").includes("{timestamp}") || a.timestampHeader !== undefined, {
		message: "signedContent uses {timestamp}: set timestampHeader to the header that carries it",
		path: ["timestampHeader"],
	})
	.refine((a) => a.timestampHeader === undefined || (a.signedContent ?? "").includes("{timestamp}"), {
		message: "timestampHeader needs {timestamp} in signedContent, or the timestamp would not be signed",
		path: ["signedContent"],
	});

const whsec = secretText("Secret").refine(
	(s) => s.startsWith("whsec_") && decodeWebhookSecret(s) !== null,
	"Secret must look like whsec_<base64>",
);

export const webhookAuthSchema = z.discriminatedUnion("type", [
	z.object({ type: z.literal("none") }).strict(),
	z
		.object({
			type: z.literal("basic"),
			username: z
				.string()
				.min(1, "Username is required")
				.max(256)
				.refine((u) => !u.includes(":"), "Username may not contain ':'"),
			password: secretText("Password"),
		})
		.strict(),
	z.object({ type: z.literal("apiKey"), headerName: headerName.optional(), key: secretText("API key") }).strict(),
	hmacAuth,
	z.object({ type: z.literal("standardWebhooks"), secret: whsec }).strict(),
	secretOnly("github", "secret", "Webhook secret"),
	z
		.object({
			type: z.literal("stripe"),
			secret: secretText("Signing secret").refine((s) => s.startsWith("whsec_"), "Stripe signing secrets start with whsec_"),
		})
		.strict(),
	secretOnly("shopify", "secret", "Webhook signing secret"),
	secretOnly("slack", "signingSecret", "Signing secret"),
	secretOnly("twilio", "authToken", "Auth Token"),
	secretOnly("paddle", "secret", "Secret key"),
	secretOnly("linear", "secret", "Signing secret"),
	secretOnly("zoom", "secretToken", "Secret Token"),
	z.object({ type: z.literal("meta"), appSecret: secretText("App secret"), verifyToken: secretText("Verify token") }).strict(),
	z
		.object({
			type: z.literal("square"),
			signatureKey: secretText("Signature key"),
			notificationUrl: z.url({ protocol: /^https?$/, error: "notificationUrl must be the http(s) URL entered in Square" }).max(2048),
		})
		.strict(),
	secretOnly("gitlab", "token", "Secret token"),
]);
export type WebhookAuth = z.infer<typeof webhookAuthSchema>;

/** Splits the API's auth object into the public details and the secret to seal. */
export async function splitWebhookAuth(auth: WebhookAuth, keys: KeyRing): Promise<{ details: CredentialDetails; secret: WebhookSecret }> {
	switch (auth.type) {
		case "none":
			return { details: {}, secret: {} };
		case "basic":
			return { details: { username: auth.username }, secret: { hash: await keyedHash(auth.password, keys) } };
		case "apiKey":
			return { details: { headerName: auth.headerName ?? DEFAULT_API_KEY_HEADER }, secret: { hash: await keyedHash(auth.key, keys) } };
		case "gitlab":
			return { details: {}, secret: { hash: await keyedHash(auth.token, keys) } };
		case "hmac": {
			const { type: _, secret, ...options } = auth;
			const details: CredentialDetails = {
				...options,
				headerName: auth.headerName ?? DEFAULT_HMAC_HEADER,
				algorithm: auth.algorithm ?? "sha256",
			};
			// Today's credentials hold only headerName and algorithm; the rest is stored only when set, so both read the same.
			if (details.timestampHeader && details.toleranceSeconds === undefined) details.toleranceSeconds = DEFAULT_HMAC_TOLERANCE_SECONDS;
			if (details.signedContent === DEFAULT_SIGNED_CONTENT) delete details.signedContent;
			return { details, secret: { value: secret } };
		}
		case "standardWebhooks":
		case "github":
		case "stripe":
		case "shopify":
		case "paddle":
		case "linear":
			return { details: {}, secret: { value: auth.secret } };
		case "slack":
			return { details: {}, secret: { value: auth.signingSecret } };
		case "twilio":
			return { details: {}, secret: { value: auth.authToken } };
		case "zoom":
			return { details: {}, secret: { value: auth.secretToken } };
		case "meta":
			return { details: {}, secret: { value: auth.appSecret, verifyToken: auth.verifyToken } };
		case "square":
			return { details: { notificationUrl: auth.notificationUrl }, secret: { value: auth.signatureKey } };
	}
}

export const webhookComponent = {
	id: "webhook",
	kind: "trigger",
	title: "Webhook",
	description: "Starts the flow for every HTTP request sent to the flow's hook URL.",
	credentialGroups: [
		{ id: "generic", title: "Generic" },
		{ id: "providers", title: "Providers" },
	],
	credentialTypes: webhookTypeSpecs,
	/** Switches of the trigger step, stored in the definition's `trigger` (the designer shows one checkbox each). */
	triggerSettings: [
		{
			name: "keepClientIpHeaders",
			label: "Keep client IP headers in _headers",
			hint: `Off by default: ${CLIENT_IP_HEADERS.join(", ")} are personal data and are dropped from every execution.`,
			default: false,
		},
	],
} as const;
