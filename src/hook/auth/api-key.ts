import { type HashedSecret, matchesKeyedHash } from "../../crypto/keyed-hash";
import { AUTH_OK, type Verifier } from "./types";

export const DEFAULT_API_KEY_HEADER = "x-api-key";

/** API key in a header of the credential's choosing, stored as keyed hashes. */
export function createApiKeyVerifier(headerName: string, keys: readonly HashedSecret[]): Verifier {
	const header = headerName.toLowerCase();
	return {
		secretHeaders: [header],
		async verify({ headers }) {
			const given = headers.get(header);
			if (given === null) return { ok: false, reason: `Missing ${header} header` };
			return (await matchesKeyedHash(given, keys)) ? AUTH_OK : { ok: false, reason: `Wrong API key in ${header} header` };
		},
	};
}
