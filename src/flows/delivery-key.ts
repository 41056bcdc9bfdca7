/**
 * @module
 * The ordering key of one execution under `delivery.ordering = "key"`: the key expression
 * evaluated over the message, under the same sandbox as mappings. A key that fails or yields
 * nothing (no value, null, "") puts the execution in the one "no key" lane, which is ordered too.
 */
import { toHex, utf8 } from "../crypto/encoding";
import { evaluateExpression, MappingError } from "../mapping/evaluate";

/**
 * Keys are stored beside each waiting execution (its lane); a longer one is replaced by its
 * SHA-256, so a key can never make a row pass a Durable Object row's 2 MB limit. Executions
 * with the same long key still share a lane.
 */
export const MAX_KEY_LENGTH = 256;

/** A key as stored: itself up to MAX_KEY_LENGTH characters, else `sha256:` and its hash (71 characters). */
export async function storedKey(key: string): Promise<string> {
	if (key.length <= MAX_KEY_LENGTH) return key;
	return `sha256:${toHex(await crypto.subtle.digest("SHA-256", utf8.encode(key)))}`;
}

export interface DeliveryKey {
	/** null: the "no key" lane. */
	key: string | null;
	/** Why there is no key, when the expression failed. */
	error: string | null;
}

/** Strings stay as they are; other values are keyed by their JSON, so 1 and "1" are different keys. */
export function keyFromValue(value: unknown): string | null {
	if (value === undefined || value === null || value === "") return null;
	if (typeof value === "string") return value;
	return JSON.stringify(value) ?? null;
}

export async function computeDeliveryKey(expression: string, message: unknown): Promise<DeliveryKey> {
	try {
		const key = keyFromValue(await evaluateExpression(expression, message));
		return { key: key === null ? null : await storedKey(key), error: null };
	} catch (error) {
		if (error instanceof MappingError) return { key: null, error: error.message };
		throw error;
	}
}
