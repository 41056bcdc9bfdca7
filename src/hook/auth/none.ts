import { AUTH_OK, type Verifier } from "./types";

/** No Auth: the unguessable flow id in the URL is the only secret. */
export function createNoneVerifier(): Verifier {
	return { verify: async () => AUTH_OK, secretHeaders: [] };
}
