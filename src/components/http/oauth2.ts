/**
 * @module
 * OAuth2 client credentials (RFC 6749 §4.4): a token is fetched on first use, kept until shortly
 * before it expires, and fetched again when the API answers 401 (the caller then retries once).
 * The cache is an interface so the flow object can keep tokens in its memory and tests can look
 * in. A token is a secret: it is never recorded, logged or returned, and no error quotes it.
 */
import { errorMessage, isTimeout } from "../../log";
import type { HttpCredentialDetails, HttpSecret } from "./credential";

export interface CachedToken {
	accessToken: string;
	/** Epoch ms after which the token is not used any more (already shortened by the safety margin). */
	usableUntil: number;
}

export interface TokenCache {
	get(key: string): CachedToken | undefined;
	set(key: string, token: CachedToken): void;
	delete(key: string): void;
}

/** A token is dropped this long before the server says it expires, so a call never carries one that expires on the way. */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;
/** When the token endpoint says nothing about expiry. */
export const DEFAULT_TOKEN_LIFETIME_MS = 5 * 60_000;
const TOKEN_TIMEOUT_MS = 15_000;

export type TokenResult =
	| { ok: true; accessToken: string }
	/** retryable: the token endpoint was unreachable, slow or answered 5xx/429; otherwise it refused the client. */
	| { ok: false; retryable: boolean; error: string };

export function memoryTokenCache(): TokenCache {
	const tokens = new Map<string, CachedToken>();
	return { get: (key) => tokens.get(key), set: (key, token) => tokens.set(key, token), delete: (key) => tokens.delete(key) };
}

/** How long a token with `expiresInSeconds` may be used from `nowMs` (pure). */
export function usableUntil(expiresInSeconds: unknown, nowMs: number): number {
	const lifetime =
		typeof expiresInSeconds === "number" && Number.isFinite(expiresInSeconds) && expiresInSeconds > 0
			? expiresInSeconds * 1000
			: DEFAULT_TOKEN_LIFETIME_MS;
	// A short-lived token keeps at least half its life, whatever the margin.
	return nowMs + Math.max(lifetime / 2, lifetime - TOKEN_EXPIRY_MARGIN_MS);
}

export class OAuth2TokenClient {
	readonly #cache: TokenCache;
	readonly #now: () => number;
	/** One fetch per credential at a time: concurrent calls share it. */
	readonly #pending = new Map<string, Promise<TokenResult>>();

	constructor(cache: TokenCache, now: () => number = Date.now) {
		this.#cache = cache;
		this.#now = now;
	}

	/** A usable token for the credential, from the cache or fetched; `refresh` drops the cached one first (after a 401). */
	async token(key: string, details: HttpCredentialDetails, secret: HttpSecret, refresh = false): Promise<TokenResult> {
		if (refresh) this.#cache.delete(key);
		const cached = this.#cache.get(key);
		if (cached && cached.usableUntil > this.#now()) return { ok: true, accessToken: cached.accessToken };
		const pending = this.#pending.get(key);
		if (pending) return pending;
		const fetching = this.#fetch(key, details, secret).finally(() => this.#pending.delete(key));
		this.#pending.set(key, fetching);
		return fetching;
	}

	forget(key: string): void {
		this.#cache.delete(key);
	}

	async #fetch(key: string, details: HttpCredentialDetails, secret: HttpSecret): Promise<TokenResult> {
		const tokenUrl = details.tokenUrl ?? "";
		const origin = safeOrigin(tokenUrl);
		const form = new URLSearchParams({
			grant_type: "client_credentials",
			client_id: details.clientId ?? "",
			client_secret: secret.clientSecret ?? "",
		});
		if (details.scope) form.set("scope", details.scope);
		if (details.audience) form.set("audience", details.audience);
		let response: Response;
		try {
			response = await fetch(tokenUrl, {
				method: "POST",
				headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
				body: form.toString(),
				redirect: "manual",
				signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
			});
		} catch (error) {
			const why = isTimeout(error) ? `did not answer within ${TOKEN_TIMEOUT_MS / 1000} s` : `is unreachable: ${errorMessage(error)}`;
			return { ok: false, retryable: true, error: `The OAuth2 token endpoint ${origin} ${why}` };
		}
		const text = await response.text();
		let body: Record<string, unknown> = {};
		try {
			const parsed: unknown = JSON.parse(text);
			if (typeof parsed === "object" && parsed !== null) body = parsed as Record<string, unknown>;
		} catch {
			// Described below without quoting the body: it might hold a token.
		}
		if (!response.ok) {
			const reason = [body.error, body.error_description]
				.filter((v) => typeof v === "string")
				.join(": ")
				.slice(0, 300);
			const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
			return {
				ok: false,
				retryable,
				error: `The OAuth2 token endpoint ${origin} answered ${response.status}${reason ? ` (${reason})` : ""}${retryable ? "" : ": check the client ID and secret"}`,
			};
		}
		if (typeof body.access_token !== "string" || body.access_token === "")
			return { ok: false, retryable: false, error: `The OAuth2 token endpoint ${origin} answered without an access_token` };
		this.#cache.set(key, { accessToken: body.access_token, usableUntil: usableUntil(body.expires_in, this.#now()) });
		return { ok: true, accessToken: body.access_token };
	}
}

function safeOrigin(url: string): string {
	try {
		return new URL(url).origin;
	} catch {
		return "(invalid URL)";
	}
}
