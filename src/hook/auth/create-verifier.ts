/**
 * @module
 * The verifier of a webhook credential, built once per config load (hook/config-cache.ts).
 */
import { DEFAULT_API_KEY_HEADER, type WebhookAuthType, type WebhookSecret, webhookTypeSpec } from "../../components/webhook-types";
import { type HashedSecret, importKeyedHash, keyedHash } from "../../crypto/keyed-hash";
import type { KeyRing } from "../../crypto/seal";
import type { CredentialDetails } from "../../db/schema";
import { createApiKeyVerifier } from "./api-key";
import { createBasicVerifier } from "./basic";
import { createHmacVerifier } from "./hmac";
import { createHmacPresetVerifier } from "./hmac-presets";
import { createNoneVerifier } from "./none";
import { createStandardWebhooksVerifier } from "./standard-webhooks";
import { createTwilioVerifier } from "./twilio";
import type { Verifier } from "./types";

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
		case "gitlab":
			return createApiKeyVerifier("x-gitlab-token", await importHashes(secrets, keys), "token", webhookTypeSpec("gitlab").deliveryId);
		case "hmac":
			return createHmacVerifier(details, values);
		case "standardWebhooks":
			return createStandardWebhooksVerifier(values);
		case "twilio":
			return createTwilioVerifier(values);
		case "meta":
			return createHmacPresetVerifier("meta", values, {
				verifyTokens: secrets.map((s) => s.verifyToken).filter((v): v is string => typeof v === "string"),
			});
		case "square":
			return createHmacPresetVerifier("square", values, { notificationUrl: details.notificationUrl });
		default:
			return createHmacPresetVerifier(type, values);
	}
}
