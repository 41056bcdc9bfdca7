/**
 * @module
 * One interface for every webhook credential type: the ingress only ever calls these.
 */
import type { DeliveryIdSource, HandshakeKind } from "../../components/webhook-types";

export interface HookRequestForAuth {
	method: string;
	/** The URL the sender called, as received (URL-signing providers sign it). */
	url: URL;
	headers: Headers;
	/** The exact bytes received; signatures are computed over these, never over re-serialized JSON. */
	rawBody: Uint8Array;
	nowMs: number;
}

/** The answer to a provider's handshake, given instead of creating an execution. */
export interface HandshakeAnswer {
	kind: HandshakeKind;
	contentType: string;
	body: string;
}

export type AuthResult =
	| {
			ok: true;
			handshake?: HandshakeAnswer;
			/** Which of the credential's secrets verified it, when not the current one (0): a previous one during a rotation. */
			secretIndex?: number;
	  }
	| {
			ok: false;
			/** Which check failed, never a given or expected value. */
			reason: string;
			wwwAuthenticate?: string;
	  };

export interface Verifier {
	verify(request: HookRequestForAuth): Promise<AuthResult>;
	/** Headers that carry secrets and must never reach the message. */
	secretHeaders: readonly string[];
	/** Where the sender puts the id of a delivery, which its retries repeat. */
	deliveryId?: DeliveryIdSource;
	/**
	 * A verified request that is the provider's handshake (Slack url_verification, Zoom
	 * endpoint.url_validation) gets this answer instead of an execution. Given the parsed message and
	 * the index of the secret that verified it, so an answer proves that secret, not another.
	 */
	handshake?(message: Record<string, unknown>, secretIndex: number): Promise<HandshakeAnswer | null>;
	/** A request of a method the type does not otherwise accept that is its handshake (Meta's subscribe GET); `verify` checks it. */
	isHandshakeRequest?(method: string, url: URL): boolean;
}

export const AUTH_OK: AuthResult = { ok: true };

export function refuse(reason: string): AuthResult {
	return { ok: false, reason };
}
