import { type HashedSecret, importKeyedHash, keyedHash } from "../crypto/keyed-hash";
import type { KeyRing } from "../crypto/seal";
import type { CredentialDetails } from "../db/schema";
import { createApiKeyVerifier, DEFAULT_API_KEY_HEADER } from "../hook/auth/api-key";
import { createBasicVerifier } from "../hook/auth/basic";
import { createHmacVerifier, DEFAULT_HMAC_HEADER } from "../hook/auth/hmac";
import { createNoneVerifier } from "../hook/auth/none";
import { createStandardWebhooksVerifier } from "../hook/auth/standard-webhooks";
import type { Verifier } from "../hook/auth/types";
import type { WebhookAuthType } from "./webhook";

/** How a webhook credential verifies a request; apart from webhook.ts so the hook path loads no zod. */

/**
 * What one secret of each type holds once unsealed: HMAC and Standard Webhooks keys must be read
 * back to sign, so they keep `value`; a Basic password or API key is only compared, so it keeps
 * only `hash` (crypto/keyed-hash.ts). A Basic or API-key `value` is from before hashing.
 */
export interface WebhookSecret {
	value?: string;
	hash?: string;
}

/** The stored hashes, imported; a secret stored before hashing is hashed in memory until `rotate-key` stores its hash. */
function importHashes(secrets: readonly WebhookSecret[], keys: KeyRing): Promise<HashedSecret[]> {
	return Promise.all(
		secrets.flatMap((s) => {
			if (s.hash !== undefined) return [importKeyedHash(s.hash, keys)];
			return s.value === undefined ? [] : [keyedHash(s.value, keys).then((hash) => importKeyedHash(hash, keys))];
		}),
	);
}

/** Builds the verifier for a credential; `secrets` holds the current one first, then any still-valid previous one. */
export async function createWebhookVerifier(
	type: WebhookAuthType,
	details: CredentialDetails,
	secrets: readonly WebhookSecret[],
	keys: KeyRing,
): Promise<Verifier> {
	const values = secrets.map((s) => s.value).filter((v): v is string => typeof v === "string");
	switch (type) {
		case "none":
			return createNoneVerifier();
		case "basic":
			return createBasicVerifier(details.username ?? "", await importHashes(secrets, keys));
		case "apiKey":
			return createApiKeyVerifier(details.headerName ?? DEFAULT_API_KEY_HEADER, await importHashes(secrets, keys));
		case "hmac":
			return createHmacVerifier(details.headerName ?? DEFAULT_HMAC_HEADER, details.algorithm ?? "sha256", values);
		case "standardWebhooks":
			return createStandardWebhooksVerifier(values);
	}
}
