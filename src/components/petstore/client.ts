/**
 * @module
 * The Petstore HTTP client: one call, a 30 s timeout, the outcome classified by status.
 */
import { errorMessage, isTimeout } from "../../log";
import { readRecordedBody, recordedValue } from "../recorded-body";
import type { ActionOutcome, ActionRequest, ActionResponse } from "../types";

export const PETSTORE_TIMEOUT_MS = 30_000;
/** An error message quoted from a Petstore answer is cut here: errors are stored with every attempt. */
const MAX_QUOTED_ERROR_CHARS = 500;

export interface PetstoreCredential {
	apiKey: string;
	baseUrl: string;
}

/** Trailing slashes dropped so `${base}/pet` is always one slash. */
export function normalizeBaseUrl(baseUrl: string): string {
	return baseUrl.replace(/\/+$/, "");
}

export function isRetryableStatus(status: number): boolean {
	return status === 408 || status === 429 || status >= 500;
}

/**
 * Calls carrying the key never follow a redirect (fetch with `redirect: "manual"`): the key goes
 * only to the base URL its owner confirmed. A 3xx is an error naming where it pointed, by origin.
 */
export function describeRedirect(response: Response, requestUrl: string): string | null {
	if (response.status < 300 || response.status > 399 || response.status === 304) return null;
	const location = response.headers.get("location");
	let target = "an unnamed location";
	if (location) {
		try {
			target = new URL(location, requestUrl).origin;
		} catch {
			target = "an invalid location";
		}
	}
	return `The Petstore redirected (HTTP ${response.status}) to ${target}; redirects are not followed so the API key is never sent elsewhere: fix the credential's base URL`;
}

/** The request as the run log records it: its body within MAX_RECORDED_BODY_BYTES. */
function recordedRequest(request: ActionRequest): ActionRequest {
	return { ...request, ...recordedValue(request.body) };
}

/** Sends `request` with the key added; never throws: every failure is an outcome. */
export async function callPetstore(request: ActionRequest, apiKey: string, timeoutMs = PETSTORE_TIMEOUT_MS): Promise<ActionOutcome> {
	const recorded = recordedRequest(request);
	let result: ActionResponse;
	let response: Response;
	try {
		response = await fetch(request.url, {
			method: request.method,
			headers: { ...request.headers, "api-key": apiKey },
			body: request.body === undefined ? undefined : JSON.stringify(request.body),
			redirect: "manual",
			signal: AbortSignal.timeout(timeoutMs),
		});
		result = { status: response.status, ...(await readRecordedBody(response)) };
	} catch (error) {
		const timedOut = isTimeout(error);
		const message = timedOut ? `Petstore did not answer within ${timeoutMs / 1000} s` : `Petstore unreachable: ${errorMessage(error)}`;
		return { kind: "retryable", request: recorded, response: null, error: message, retryAfter: null };
	}
	if (response.ok) return { kind: "succeeded", request: recorded, response: result };
	const redirected = describeRedirect(response, request.url);
	if (redirected) return { kind: "terminal", request: recorded, response: result, error: redirected };
	const error = `Petstore answered ${response.status}${describeError(result.body)}`;
	if (isRetryableStatus(response.status))
		return { kind: "retryable", request: recorded, response: result, error, retryAfter: response.headers.get("retry-after") };
	return { kind: "terminal", request: recorded, response: result, error };
}

function describeError(body: unknown): string {
	const message = typeof body === "object" && body !== null && "message" in body ? String((body as { message: unknown }).message) : "";
	return message ? `: ${message.slice(0, MAX_QUOTED_ERROR_CHARS)}` : "";
}
