import { randomHexId, toHex, utf8 } from "../crypto/encoding";

/**
 * The execution id a hook request gets. A provider's own delivery id (`senderId`, read where the
 * credential's preset says: X-GitHub-Delivery, Stripe's event id, …) wins, then a `webhook-id` or
 * `idempotency-key`: it is hashed
 * with the flow id, so a sender's retry maps to the same execution id and the flow object's
 * dedupe makes it a no-op that answers the first id — even when a proxy stamps every retry with
 * a fresh x-request-id. Otherwise a sender's own 32-hex `x-request-id` is the id (the consumer
 * re-keys it if another flow already used it); otherwise a random one.
 */
export async function executionIdFor(
	flowId: string,
	headers: Headers,
	senderId: string | null = null,
): Promise<{ id: string; fromSender: boolean }> {
	if (senderId) return { id: await scopedId(flowId, "webhook-id", senderId), fromSender: false };
	for (const header of ["webhook-id", "idempotency-key"]) {
		const value = headers.get(header);
		if (value) return { id: await scopedId(flowId, header, value), fromSender: false };
	}
	const given = headers.get("x-request-id");
	if (given && /^[0-9a-fA-F]{32}$/.test(given)) return { id: given.toLowerCase(), fromSender: true };
	return { id: randomHexId(), fromSender: false };
}

/** A deterministic 32-hex id for `value` within one flow. */
export async function scopedId(flowId: string, kind: string, value: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", utf8.encode(`${flowId}\n${kind}\n${value}`));
	return toHex(digest).slice(0, 32);
}
