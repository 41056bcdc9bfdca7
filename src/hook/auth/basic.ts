import { type HashedSecret, matchesKeyedHash } from "../../crypto/keyed-hash";
import { timingSafeEqualText } from "../../crypto/timing-safe";
import { AUTH_OK, type Verifier } from "./types";

const CHALLENGE = 'Basic realm="hookflow"';

/** HTTP Basic: any of the credential's passwords (current, or previous during rotation), stored as keyed hashes, passes. */
export function createBasicVerifier(username: string, passwords: readonly HashedSecret[]): Verifier {
	return {
		secretHeaders: ["authorization"],
		async verify({ headers }) {
			const header = headers.get("authorization");
			if (!header) return { ok: false, reason: "Missing Authorization header (Basic credentials expected)", wwwAuthenticate: CHALLENGE };
			const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
			let decoded: string | null = null;
			try {
				// base64 → bytes → UTF-8, so non-ASCII usernames and passwords sent by curl or browsers match.
				decoded = match?.[1]
					? new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(match[1]), (ch) => ch.charCodeAt(0)))
					: null;
			} catch {
				decoded = null;
			}
			const colon = decoded?.indexOf(":") ?? -1;
			if (decoded === null || colon < 0) {
				return {
					ok: false,
					reason: "Malformed Authorization header: expected Basic base64(username:password)",
					wwwAuthenticate: CHALLENGE,
				};
			}
			const givenUser = decoded.slice(0, colon);
			const givenPassword = decoded.slice(colon + 1);
			const userMatches = await timingSafeEqualText(givenUser, username);
			const passwordMatches = await matchesKeyedHash(givenPassword, passwords);
			if (userMatches && passwordMatches) return AUTH_OK;
			return { ok: false, reason: "Wrong username or password", wwwAuthenticate: CHALLENGE };
		},
	};
}
