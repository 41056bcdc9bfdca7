/**
 * @module
 * The execution id a hook request gets, and how dedupe is bound to content.
 *
 * A sender names a delivery with a header its retries repeat. Only Standard Webhooks signs that
 * name; for every other auth type a replay of an old, correctly signed body could carry the id
 * of a future event and pre-empt it. So a sender's id never stands alone: the execution id is
 * derived from (flow id, header, value, SHA-256 of the request's content). The content is what the
 * credential signs: under a signature of the body alone (every HMAC preset, Standard Webhooks), only
 * the body, since anyone replaying a signed request can append a query or a path that no signature
 * covers; otherwise the method, path with query, and body. The same id with the
 * same content is a duplicate that answers the first requestId; the same id with other content is
 * a new execution. Not a 409: the ingress keeps no per-id state on the hot path, so it cannot know
 * whether an id was used before.
 */
import { randomHexId, toHex, utf8 } from "../crypto/encoding";
import { scopedId } from "../flows/execution-ids";

/** Headers whose value names a delivery, so a sender's retry maps to the same execution id. */
export const SENDER_DELIVERY_ID_HEADERS = ["webhook-id", "idempotency-key"] as const;

/** What a request carried: its method, path with query, and raw body. */
export interface RequestContent {
	method: string;
	url: URL;
	rawBody: Uint8Array;
	/**
	 * The flow's hook path (`/hook/<flowId>`) when the credential signs only the body: the method,
	 * an extra path and the query are then not the sender's to vouch for and stay out of the binding.
	 */
	bodyOnlyPath?: string;
}

export interface ExecutionId {
	id: string;
	/** The id is the sender's own `x-request-id` (used as is, as the contract says). */
	fromSender: boolean;
	/** SHA-256 hex of the content, when a sender's id was given: the flow object binds an `x-request-id` to it. */
	contentHash?: string;
}

/**
 * SHA-256 hex over method, path with query, and body; with `bodyOnlyPath`, over the body as a plain
 * POST to the flow's path carries it, so a request without a suffix keeps the id it always had.
 */
export async function contentHash({ method, url, rawBody, bodyOnlyPath }: RequestContent): Promise<string> {
	const head = utf8.encode(bodyOnlyPath === undefined ? `${method} ${url.pathname}${url.search}\n` : `POST ${bodyOnlyPath}\n`);
	const bytes = new Uint8Array(head.length + rawBody.length);
	bytes.set(head);
	bytes.set(rawBody, head.length);
	return toHex(await crypto.subtle.digest("SHA-256", bytes));
}

/**
 * A provider's own delivery id (`senderId`, read where the credential's preset says:
 * X-GitHub-Delivery, Stripe's event id, …) wins, then a delivery-id header; either is bound to the
 * content. Otherwise a sender's own 32-hex `x-request-id` is the id (the flow object re-keys a
 * repeat that came with other content, and the consumer one another flow already used);
 * otherwise a random one.
 */
export async function executionIdFor(
	flowId: string,
	headers: Headers,
	content: RequestContent,
	senderId: string | null = null,
): Promise<ExecutionId> {
	// Providers' ids share the "webhook-id" kind: a Standard Webhooks sender's id and a preset's name the same thing.
	if (senderId) return { id: await scopedId(flowId, "webhook-id", `${senderId}\n${await contentHash(content)}`), fromSender: false };
	for (const header of SENDER_DELIVERY_ID_HEADERS) {
		const value = headers.get(header);
		if (value) return { id: await scopedId(flowId, header, `${value}\n${await contentHash(content)}`), fromSender: false };
	}
	const given = headers.get("x-request-id");
	if (given && /^[0-9a-fA-F]{32}$/.test(given))
		return { id: given.toLowerCase(), fromSender: true, contentHash: await contentHash(content) };
	return { id: randomHexId(), fromSender: false };
}
