import type { DeliveryIdSource } from "../../components/webhook-types";
import { type HashedSecret, matchesKeyedHash } from "../../crypto/keyed-hash";
import { AUTH_OK, type Verifier } from "./types";

/**
 * A secret sent as is in a header of the credential's choosing (API key; GitLab's X-Gitlab-Token),
 * stored as keyed hashes and compared in constant time.
 */
export function createApiKeyVerifier(
	headerName: string,
	keys: readonly HashedSecret[],
	what = "API key",
	deliveryId?: DeliveryIdSource,
): Verifier {
	const header = headerName.toLowerCase();
	return {
		secretHeaders: [header],
		...(deliveryId ? { deliveryId } : {}),
		async verify({ headers }) {
			const given = headers.get(header);
			if (given === null) return { ok: false, reason: `Missing ${header} header` };
			return (await matchesKeyedHash(given, keys)) ? AUTH_OK : { ok: false, reason: `Wrong ${what} in ${header} header` };
		},
	};
}
