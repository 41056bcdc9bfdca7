/** One interface for every webhook credential type: the ingress only ever calls `verify`. */

export interface HookRequestForAuth {
	headers: Headers;
	/** The exact bytes received; signatures are computed over these, never over re-serialized JSON. */
	rawBody: Uint8Array;
	nowMs: number;
}

export type AuthResult = { ok: true } | { ok: false; reason: string; wwwAuthenticate?: string };

export interface Verifier {
	verify(request: HookRequestForAuth): Promise<AuthResult>;
	/** Headers that carry secrets and must never reach the message. */
	secretHeaders: readonly string[];
}

export const AUTH_OK: AuthResult = { ok: true };
