import * as z from "zod";
import { keyedHash } from "../crypto/keyed-hash";
import type { KeyRing } from "../crypto/seal";
import type { CredentialDetails } from "../db/schema";
import { DEFAULT_API_KEY_HEADER } from "../hook/auth/api-key";
import { DEFAULT_HMAC_HEADER } from "../hook/auth/hmac";
import { decodeWebhookSecret } from "../hook/auth/standard-webhooks";
import { CLIENT_IP_HEADERS } from "./client-ip-headers";
import type { WebhookSecret } from "./webhook-verifier";

/** The Webhook trigger: its credential types and how each is stored (webhook-verifier.ts: how each verifies). */

const headerName = z
	.string()
	.regex(/^[A-Za-z0-9_-]{1,64}$/, "Header names may use letters, digits, - and _ only")
	.transform((h) => h.toLowerCase());
const secretText = (what: string) => z.string().min(1, `${what} is required`).max(1024);

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
	z
		.object({
			type: z.literal("hmac"),
			secret: secretText("Secret"),
			algorithm: z.enum(["sha256", "sha512"]).optional(),
			headerName: headerName.optional(),
		})
		.strict(),
	z
		.object({
			type: z.literal("standardWebhooks"),
			secret: secretText("Secret").refine(
				(s) => s.startsWith("whsec_") && decodeWebhookSecret(s) !== null,
				"Secret must look like whsec_<base64>",
			),
		})
		.strict(),
]);
export type WebhookAuth = z.infer<typeof webhookAuthSchema>;
export type WebhookAuthType = WebhookAuth["type"];

/** Splits the API's auth object into the public details and the secret to seal. */
export async function splitWebhookAuth(auth: WebhookAuth, keys: KeyRing): Promise<{ details: CredentialDetails; secret: WebhookSecret }> {
	switch (auth.type) {
		case "none":
			return { details: {}, secret: {} };
		case "basic":
			return { details: { username: auth.username }, secret: { hash: await keyedHash(auth.password, keys) } };
		case "apiKey":
			return { details: { headerName: auth.headerName ?? DEFAULT_API_KEY_HEADER }, secret: { hash: await keyedHash(auth.key, keys) } };
		case "hmac":
			return {
				details: { headerName: auth.headerName ?? DEFAULT_HMAC_HEADER, algorithm: auth.algorithm ?? "sha256" },
				secret: { value: auth.secret },
			};
		case "standardWebhooks":
			return { details: {}, secret: { value: auth.secret } };
	}
}

export const webhookComponent = {
	id: "webhook",
	kind: "trigger",
	title: "Webhook",
	description: "Starts the flow for every HTTP request sent to the flow's hook URL.",
	credentialTypes: [
		{ type: "none", title: "No Auth", fields: [] },
		{
			type: "basic",
			title: "Basic Auth",
			fields: [
				{ name: "username", label: "Username", required: true, secret: false },
				{ name: "password", label: "Password", required: true, secret: true },
			],
		},
		{
			type: "apiKey",
			title: "API Key Auth",
			fields: [
				{ name: "headerName", label: "Header name", required: false, secret: false, default: DEFAULT_API_KEY_HEADER },
				{ name: "key", label: "API key", required: true, secret: true },
			],
		},
		{
			type: "hmac",
			title: "HMAC verification",
			fields: [
				{ name: "secret", label: "Secret", required: true, secret: true },
				{ name: "algorithm", label: "Algorithm", required: false, secret: false, options: ["sha256", "sha512"], default: "sha256" },
				{ name: "headerName", label: "Signature header", required: false, secret: false, default: DEFAULT_HMAC_HEADER },
			],
		},
		{
			type: "standardWebhooks",
			title: "Standard Webhooks",
			fields: [{ name: "secret", label: "Signing secret (whsec_…)", required: true, secret: true }],
		},
	],
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
