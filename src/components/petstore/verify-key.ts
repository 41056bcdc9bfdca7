/**
 * @module
 * Saving a Petstore credential checks the key first: GET {baseUrl}/user/me with header api-key.
 */
import { errorMessage, isTimeout } from "../../log";
import { describeRedirect, normalizeBaseUrl } from "./client";

export const VERIFY_TIMEOUT_MS = 25_000;

export async function verifyPetstoreKey(baseUrl: string, apiKey: string): Promise<{ ok: true } | { ok: false; reason: string }> {
	const url = `${normalizeBaseUrl(baseUrl)}/user/me`;
	let response: Response;
	try {
		response = await fetch(url, {
			headers: { "api-key": apiKey, accept: "application/json" },
			redirect: "manual",
			signal: AbortSignal.timeout(VERIFY_TIMEOUT_MS),
		});
	} catch (error) {
		const timedOut = isTimeout(error);
		return {
			ok: false,
			reason: timedOut
				? `The Petstore at ${baseUrl} did not answer within ${VERIFY_TIMEOUT_MS / 1000} s`
				: `The Petstore at ${baseUrl} is unreachable: ${errorMessage(error)}`,
		};
	}
	await response.body?.cancel();
	if (response.ok) return { ok: true };
	const redirected = describeRedirect(response, url);
	if (redirected) return { ok: false, reason: redirected };
	if (response.status === 401 || response.status === 403)
		return { ok: false, reason: `The Petstore refused the API key (HTTP ${response.status})` };
	return { ok: false, reason: `The Petstore answered HTTP ${response.status} to GET ${url}` };
}
