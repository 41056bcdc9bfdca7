/**
 * @module
 * A step's credential, loaded and unsealed for a call: a Petstore key with its base URL, or an
 * HTTP credential's details and secret.
 */
import { eq } from "drizzle-orm";
import { HTTP_AUTH_TYPES, type HttpSecret } from "../components/http/credential";
import { getDb } from "../db/client";
import { unsealSecrets } from "../db/queries/credentials";
import { credentials } from "../db/schema";
import type { StepCredential } from "./step-actions";

/** null when the credential is gone or is not one a step can use. */
export async function loadStepCredential(env: Env, credentialId: string, nowMs: number): Promise<StepCredential | null> {
	const [row] = await getDb(env.DB).select().from(credentials).where(eq(credentials.id, credentialId)).limit(1);
	if (row?.component === "petstore") {
		const [secret] = await unsealSecrets<{ apiKey: string }>(row, env, nowMs);
		return secret ? { component: "petstore", apiKey: secret.apiKey, baseUrl: row.details.baseUrl ?? env.PETSTORE_BASE_URL } : null;
	}
	if (row?.component === "http") {
		const [secret] = await unsealSecrets<HttpSecret>(row, env, nowMs);
		const type = HTTP_AUTH_TYPES.find((t) => t === row.type);
		if (!secret || !type || !row.details.baseUrl) return null;
		const { baseUrl, username, in: where, keyName, tokenUrl, clientId, scope, audience } = row.details;
		return {
			component: "http",
			credentialId: row.id,
			type,
			details: { baseUrl, username, in: where, keyName, tokenUrl, clientId, scope, audience },
			secret,
		};
	}
	return null;
}
