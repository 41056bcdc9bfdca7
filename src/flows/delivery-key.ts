/**
 * @module
 * The ordering key of one execution under `delivery.ordering = "key"`: the key expression
 * evaluated over the message, under the same sandbox as mappings. A key that fails or yields
 * nothing (no value, null, "") puts the execution in the one "no key" lane, which is ordered too.
 */
import { evaluateExpression, MappingError } from "../mapping/evaluate";

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
		return { key: keyFromValue(await evaluateExpression(expression, message)), error: null };
	} catch (error) {
		if (error instanceof MappingError) return { key: null, error: error.message };
		throw error;
	}
}
