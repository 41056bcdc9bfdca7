/**
 * @module
 * What delivery and samples read of a flow: a published version, a Petstore credential.
 */
import { and, eq } from "drizzle-orm";
import { getDb } from "../client";
import { credentials, flowVersions } from "../schema";
import { unsealSecrets } from "./credentials";

/** A published version's definition, or null when the flow has no such version. */
export async function loadFlowVersion(d1: D1Database, flowId: string, version: number) {
	const [row] = await getDb(d1)
		.select({ definition: flowVersions.definition })
		.from(flowVersions)
		.where(and(eq(flowVersions.flowId, flowId), eq(flowVersions.version, version)))
		.limit(1);
	return row?.definition ?? null;
}

/** The Petstore key unsealed, and the base URL: the credential's own or PETSTORE_BASE_URL. */
export async function loadPetstoreCredential(env: Env, credentialId: string, nowMs: number) {
	const [row] = await getDb(env.DB).select().from(credentials).where(eq(credentials.id, credentialId)).limit(1);
	if (row?.component !== "petstore") return null;
	const [secret] = await unsealSecrets<{ apiKey: string }>(row, env, nowMs);
	if (!secret) return null;
	return { apiKey: secret.apiKey, baseUrl: row.details.baseUrl ?? env.PETSTORE_BASE_URL };
}
