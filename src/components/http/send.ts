/**
 * @module
 * Sends a prepared HTTP request with its credential: the only place a secret is added, after the
 * URL was checked against the credential's base URL (request.ts). Redirects are not followed; an
 * OAuth2 401 fetches a new token and retries once. Never throws: every failure is an outcome.
 */
import { toBase64, utf8 } from "../../crypto/encoding";
import { errorMessage, isTimeout } from "../../log";
import type { ActionOutcome, ActionRequest } from "../types";
import { MAX_OUTPUTS_BYTES } from "../types";
import type { HttpAuth } from "./credential";
import type { OAuth2TokenClient } from "./oauth2";
import { type HttpAnswer, interpretHttpAnswer, recordedHttpRequest } from "./request";

export const HTTP_TIMEOUT_MS = 30_000;

/** The request with the credential's secret in it (a header, or a query parameter for apiKey in query). */
async function authorize(
	request: ActionRequest,
	auth: HttpAuth | null,
	tokens: OAuth2TokenClient,
	refresh: boolean,
): Promise<{ ok: true; url: string; headers: Record<string, string> } | { ok: false; retryable: boolean; error: string }> {
	const headers = { ...request.headers };
	const url = new URL(request.url);
	if (auth) {
		const { details, secret } = auth;
		switch (auth.type) {
			case "basic":
				headers.authorization = `Basic ${toBase64(utf8.encode(`${details.username ?? ""}:${secret.password ?? ""}`))}`;
				break;
			case "bearer":
				headers.authorization = `Bearer ${secret.token ?? ""}`;
				break;
			case "apiKey":
				if (details.in === "query") url.searchParams.set(details.keyName ?? "", secret.key ?? "");
				else headers[(details.keyName ?? "x-api-key").toLowerCase()] = secret.key ?? "";
				break;
			case "oauth2ClientCredentials": {
				const token = await tokens.token(auth.credentialId, details, secret, refresh);
				if (!token.ok) return token;
				headers.authorization = `Bearer ${token.accessToken}`;
				break;
			}
			case "none":
				break;
		}
	}
	return { ok: true, url: url.toString(), headers };
}

/** Reads at most `limit` bytes; null when the body is longer (the step's output would be over the bound). */
async function readAtMost(response: Response, limit: number): Promise<string | null> {
	const chunks: Uint8Array[] = [];
	let total = 0;
	if (response.body) {
		for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
			total += chunk.length;
			if (total > limit) {
				await response.body.cancel().catch(() => undefined);
				return null;
			}
			chunks.push(chunk);
		}
	}
	const bytes = new Uint8Array(total);
	let at = 0;
	for (const chunk of chunks) {
		bytes.set(chunk, at);
		at += chunk.length;
	}
	return new TextDecoder().decode(bytes);
}

function answerHeaders(response: Response): Record<string, string> {
	const headers: Record<string, string> = {};
	response.headers.forEach((value, name) => {
		if (name !== "set-cookie") headers[name] = value;
	});
	return headers;
}

export async function sendHttpCall(
	request: ActionRequest,
	auth: HttpAuth | null,
	tokens: OAuth2TokenClient,
	timeoutMs = HTTP_TIMEOUT_MS,
): Promise<ActionOutcome> {
	const recorded = recordedHttpRequest(request);
	const origin = new URL(request.url).origin;
	for (let refresh = false; ; refresh = true) {
		const authorized = await authorize(request, auth, tokens, refresh);
		if (!authorized.ok) {
			return authorized.retryable
				? { kind: "retryable", request: recorded, response: null, error: authorized.error, retryAfter: null }
				: { kind: "terminal", request: recorded, response: null, error: authorized.error };
		}
		let response: Response;
		let text: string | null;
		try {
			response = await fetch(authorized.url, {
				method: request.method,
				headers: authorized.headers,
				body: request.body === undefined ? undefined : JSON.stringify(request.body),
				redirect: "manual",
				signal: AbortSignal.timeout(timeoutMs),
			});
			text = await readAtMost(response, MAX_OUTPUTS_BYTES);
		} catch (error) {
			const message = isTimeout(error)
				? `${origin} did not answer within ${timeoutMs / 1000} s`
				: `${origin} is unreachable: ${errorMessage(error)}`;
			return { kind: "retryable", request: recorded, response: null, error: message, retryAfter: null };
		}
		// One new token and one more try when an OAuth2 API says the token is no longer good.
		if (response.status === 401 && auth?.type === "oauth2ClientCredentials" && !refresh) continue;
		const headers = answerHeaders(response);
		if (text === null)
			return {
				kind: "terminal",
				request: recorded,
				response: { status: response.status, headers, body: null },
				error: `${origin} answered with a body over ${MAX_OUTPUTS_BYTES} bytes, more than a step's output may carry`,
			};
		const location = response.headers.get("location");
		const answer: HttpAnswer = {
			status: response.status,
			headers,
			text,
			redirectedTo: location ? safeOrigin(location, request.url) : null,
			retryAfter: response.headers.get("retry-after"),
		};
		return interpretHttpAnswer(request, answer);
	}
}

function safeOrigin(location: string, base: string): string {
	try {
		return new URL(location, base).origin;
	} catch {
		return "an invalid location";
	}
}
