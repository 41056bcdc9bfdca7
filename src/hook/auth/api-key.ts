import { timingSafeEqualText } from "../../crypto/timing-safe";
import { AUTH_OK, type Verifier } from "./types";

export const DEFAULT_API_KEY_HEADER = "x-api-key";

/** API key in a header of the credential's choosing. */
export function createApiKeyVerifier(headerName: string, keys: readonly string[]): Verifier {
	const header = headerName.toLowerCase();
	return {
		secretHeaders: [header],
		async verify({ headers }) {
			const given = headers.get(header);
			if (given === null) return { ok: false, reason: `Missing ${header} header` };
			const matches = await Promise.all(keys.map((k) => timingSafeEqualText(given, k)));
			return matches.includes(true) ? AUTH_OK : { ok: false, reason: `Wrong API key in ${header} header` };
		},
	};
}
