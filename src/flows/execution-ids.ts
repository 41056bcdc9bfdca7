/**
 * @module
 * Execution ids derived from what identifies a delivery: the hook derives a sender's delivery ids
 * with them, and delivery re-keys an `x-request-id` another flow or another body already used.
 */
import { toHex, utf8 } from "../crypto/encoding";

/** A deterministic 32-hex id for `value` within one flow. */
export async function scopedId(flowId: string, kind: string, value: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", utf8.encode(`${flowId}\n${kind}\n${value}`));
	return toHex(digest).slice(0, 32);
}

/** Where a payload too large for a queue message waits in the flow object: a sender's id with other content never replaces it. */
export function stagingKey(envelope: { id: string; contentHash?: string }): string {
	return envelope.contentHash ? `${envelope.id}.${envelope.contentHash}` : envelope.id;
}
