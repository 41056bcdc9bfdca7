/**
 * @module
 * `POST /api/admin/rotate-key` (`npm run rotate-key`): with the new key in CREDENTIALS_KEY and the
 * old one in CREDENTIALS_KEY_PREVIOUS, re-seals every credential's secrets, current and previous,
 * under the new key. Basic passwords and API keys are keyed hashes, which cannot be re-made without
 * the plaintext: the answer lists the credentials still hashed under an old key. They keep working
 * while CREDENTIALS_KEY_PREVIOUS is set; rotate them (PATCH a new secret) before removing it.
 */
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { HASHED_WEBHOOK_TYPES, type WebhookSecret } from "../components/webhook-types";
import { currentKeyId, keyedHash, keyedHashKeyId } from "../crypto/keyed-hash";
import { seal, sealJson, unseal, unsealJson } from "../crypto/seal";
import { getDb } from "../db/client";
import { alertTargets, type CredentialRow, credentials } from "../db/schema";
import { invalidateIngressConfig } from "../hook/config-cache";
import { ApiError } from "./errors";

type StoredSecret = WebhookSecret & { apiKey?: string };

async function reseal(row: CredentialRow, sealed: string, env: Env, keyId: string): Promise<{ sealed: string; oldHash: boolean }> {
	let secret = await unsealJson<StoredSecret>(sealed, env);
	// A Basic password or API key stored before hashing: its hash replaces it now.
	if (HASHED_WEBHOOK_TYPES.has(row.type) && secret.value !== undefined) secret = { hash: await keyedHash(secret.value, env) };
	const oldHash = secret.hash !== undefined && keyedHashKeyId(secret.hash) !== keyId;
	return { sealed: await sealJson(secret, env), oldHash };
}

export const rotateKeyRoutes = new Hono<{ Bindings: Env }>().post("/", async (c) => {
	const keyId = await currentKeyId(c.env);
	const db = getDb(c.env.DB);
	const now = Date.now();
	const unreadable: string[] = [];
	const hashedUnderOldKey: string[] = [];
	const updates = [];
	for (const row of await db.select().from(credentials)) {
		try {
			const current = await reseal(row, row.sealedSecrets, c.env, keyId);
			// An expired previous secret is dropped rather than carried over to the new key.
			const previousSealed = row.sealedPrevious !== null && (row.previousExpiresAt ?? 0) > now ? row.sealedPrevious : null;
			const previous = previousSealed ? await reseal(row, previousSealed, c.env, keyId) : null;
			if (current.oldHash || previous?.oldHash) hashedUnderOldKey.push(row.id);
			updates.push(
				db
					.update(credentials)
					.set({
						sealedSecrets: current.sealed,
						sealedPrevious: previous?.sealed ?? null,
						previousExpiresAt: previous ? row.previousExpiresAt : null,
					})
					// A credential changed meanwhile was sealed under the new key by that change: leave it.
					.where(and(eq(credentials.id, row.id), eq(credentials.sealedSecrets, row.sealedSecrets))),
			);
		} catch {
			unreadable.push(`credential ${row.id}`);
		}
	}
	for (const target of await db.select().from(alertTargets)) {
		if (target.sealedSecret === null) continue;
		try {
			const sealed = await seal(await unseal(target.sealedSecret, c.env), c.env);
			updates.push(
				db
					.update(alertTargets)
					.set({ sealedSecret: sealed })
					.where(and(eq(alertTargets.id, target.id), eq(alertTargets.sealedSecret, target.sealedSecret))),
			);
		} catch {
			unreadable.push(`alert target ${target.id}`);
		}
	}
	if (unreadable.length > 0) {
		throw new ApiError(
			409,
			`${unreadable.join(", ")} cannot be opened with CREDENTIALS_KEY or CREDENTIALS_KEY_PREVIOUS; nothing was changed`,
		);
	}
	const [first, ...rest] = updates;
	// One batch: every credential moves to the new key, or none does.
	if (first) await db.batch([first, ...rest]);
	invalidateIngressConfig();
	return c.json({ keyId, resealed: updates.length, hashedUnderOldKey });
});
