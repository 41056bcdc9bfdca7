import type { ActionOutcome, ActionRequest } from "../types";

/** The Petstore HTTP client: one call, a 30 s timeout, the outcome classified by status. */

export const PETSTORE_TIMEOUT_MS = 30_000;

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

async function readBody(response: Response): Promise<unknown> {
	const text = await response.text();
	try {
		return JSON.parse(text);
	} catch {
		return text.slice(0, 4096);
	}
}

/** Sends `request` with the key added; never throws: every failure is an outcome. */
export async function callPetstore(request: ActionRequest, apiKey: string, timeoutMs = PETSTORE_TIMEOUT_MS): Promise<ActionOutcome> {
	let response: Response;
	try {
		response = await fetch(request.url, {
			method: request.method,
			headers: { ...request.headers, "api-key": apiKey },
			body: request.body === undefined ? undefined : JSON.stringify(request.body),
			signal: AbortSignal.timeout(timeoutMs),
		});
	} catch (error) {
		const timedOut = (error as Error).name === "TimeoutError";
		const message = timedOut ? `Petstore did not answer within ${timeoutMs / 1000} s` : `Petstore unreachable: ${(error as Error).message}`;
		return { kind: "retryable", request, response: null, error: message, retryAfter: null };
	}
	const result = { status: response.status, body: await readBody(response) };
	if (response.ok) return { kind: "succeeded", request, response: result };
	const error = `Petstore answered ${response.status}${describeError(result.body)}`;
	if (isRetryableStatus(response.status))
		return { kind: "retryable", request, response: result, error, retryAfter: response.headers.get("retry-after") };
	return { kind: "terminal", request, response: result, error };
}

function describeError(body: unknown): string {
	const message = typeof body === "object" && body !== null && "message" in body ? String((body as { message: unknown }).message) : "";
	return message ? `: ${message}` : "";
}
