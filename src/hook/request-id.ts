import { randomHexId, toHex, utf8 } from "../crypto/encoding";

/**
 * The execution id a hook request gets. A sender's own 32-hex `x-request-id` is used as is; a
 * `webhook-id` or `idempotency-key` is hashed with the flow id, so a retried delivery maps to the
 * same execution id and the flow object's dedupe makes it a no-op that answers the first id.
 */
export async function executionIdFor(flowId: string, headers: Headers): Promise<string> {
	const given = headers.get("x-request-id");
	if (given && /^[0-9a-fA-F]{32}$/.test(given)) return given.toLowerCase();
	for (const header of ["webhook-id", "idempotency-key"]) {
		const value = headers.get(header);
		if (value) {
			const digest = await crypto.subtle.digest("SHA-256", utf8.encode(`${flowId}\n${header}\n${value}`));
			return toHex(digest).slice(0, 32);
		}
	}
	return randomHexId();
}
