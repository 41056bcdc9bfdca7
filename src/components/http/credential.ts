/**
 * @module
 * HTTP credentials: a base URL and how to authenticate there. The secret part (password, token,
 * key, client secret) is sealed; the rest is the credential's details. Each secret goes only to
 * URLs under the base URL (base-url.ts); an OAuth2 client secret goes only to its token URL.
 */
import * as z from "zod";
import { baseUrlSchema } from "../base-url";

const secret = (what: string) => z.string().min(1, `${what} is required`).max(4096);
const tokenUrl = z.url({ protocol: /^https?$/, error: "Token URL must be an http(s) URL" }).max(2048);

export const HTTP_AUTH_TYPES = ["none", "basic", "bearer", "apiKey", "oauth2ClientCredentials"] as const;
export type HttpAuthType = (typeof HTTP_AUTH_TYPES)[number];

export const httpAuthSchema = z.discriminatedUnion("type", [
	z.object({ type: z.literal("none") }).strict(),
	z
		.object({ type: z.literal("basic"), username: z.string().min(1, "Username is required").max(256), password: secret("Password") })
		.strict(),
	z.object({ type: z.literal("bearer"), token: secret("Token") }).strict(),
	z
		.object({
			type: z.literal("apiKey"),
			in: z.enum(["header", "query"], { error: 'in is "header" or "query"' }),
			name: z
				.string()
				.regex(/^[A-Za-z0-9_.-]{1,64}$/, "The key's name may use letters, digits, -, _ and . only")
				.describe("The header or query parameter that carries the key"),
			key: secret("Key"),
		})
		.strict(),
	z
		.object({
			type: z.literal("oauth2ClientCredentials"),
			tokenUrl,
			clientId: z.string().min(1, "Client ID is required").max(1024),
			clientSecret: secret("Client secret"),
			scope: z.string().max(2048).optional(),
			audience: z.string().max(2048).optional(),
		})
		.strict(),
]);
export type HttpAuthInput = z.infer<typeof httpAuthSchema>;

export const httpCredentialSchema = z.object({ baseUrl: baseUrlSchema, auth: httpAuthSchema }).strict();

/** Changing where a secret goes needs the secret again, as for the Petstore. */
export const HTTP_BASE_URL_CHANGE_REQUIRES_AUTH =
	"Changing baseUrl requires auth in the same request: the stored secret is never sent to a new address";

/** The non-secret settings stored as the credential's details. */
export interface HttpCredentialDetails {
	baseUrl: string;
	username?: string;
	in?: "header" | "query";
	keyName?: string;
	tokenUrl?: string;
	clientId?: string;
	scope?: string;
	audience?: string;
}

/** The sealed part. */
export interface HttpSecret {
	password?: string;
	token?: string;
	key?: string;
	clientSecret?: string;
}

export function splitHttpAuth(baseUrl: string, auth: HttpAuthInput): { details: HttpCredentialDetails; secret: HttpSecret } {
	switch (auth.type) {
		case "none":
			return { details: { baseUrl }, secret: {} };
		case "basic":
			return { details: { baseUrl, username: auth.username }, secret: { password: auth.password } };
		case "bearer":
			return { details: { baseUrl }, secret: { token: auth.token } };
		case "apiKey":
			return { details: { baseUrl, in: auth.in, keyName: auth.name }, secret: { key: auth.key } };
		case "oauth2ClientCredentials": {
			const { tokenUrl: url, clientId, scope, audience } = auth;
			return { details: { baseUrl, tokenUrl: url, clientId, scope, audience }, secret: { clientSecret: auth.clientSecret } };
		}
	}
}

/** What a call needs: the credential's id (the token cache's key), type, details and secret. */
export interface HttpAuth {
	credentialId: string;
	type: HttpAuthType;
	details: HttpCredentialDetails;
	secret: HttpSecret;
}
