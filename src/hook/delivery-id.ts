import type { DeliveryIdSource } from "../components/webhook-types";

/**
 * A provider's own id for a delivery, which its retries repeat: the first of the preset's headers
 * that is present, else the preset's top-level body field (Stripe's event `id`, Slack's `event_id`).
 */
export function providerDeliveryId(
	source: DeliveryIdSource | undefined,
	headers: Headers,
	message: Record<string, unknown>,
): string | null {
	if (!source) return null;
	for (const name of source.headers ?? []) {
		const value = headers.get(name);
		if (value) return value;
	}
	const value = source.bodyField === undefined ? undefined : message[source.bodyField];
	return typeof value === "string" && value.length > 0 && value.length <= 256 ? value : null;
}
