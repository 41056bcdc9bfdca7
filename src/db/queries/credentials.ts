/**
 * @module
 * Reading credentials' sealed secrets.
 */
import { type KeyRing, unsealJson } from "../../crypto/seal";
import type { CredentialRow } from "../schema";

/** The current secret first, then the previous one while its rotation overlap lasts. */
export async function unsealSecrets<T>(
	row: Pick<CredentialRow, "sealedSecrets" | "sealedPrevious" | "previousExpiresAt">,
	keys: KeyRing,
	nowMs: number,
): Promise<T[]> {
	const secrets = [await unsealJson<T>(row.sealedSecrets, keys)];
	if (row.sealedPrevious && row.previousExpiresAt && row.previousExpiresAt > nowMs)
		secrets.push(await unsealJson<T>(row.sealedPrevious, keys));
	return secrets;
}
