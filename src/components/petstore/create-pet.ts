/**
 * @module
 * Action "Create a Pet": POST {baseUrl}/pet with the mapped fields.
 */
import type { ActionOutcome, ActionRequest } from "../types";
import { callPetstore, normalizeBaseUrl, type PetstoreCredential } from "./client";

export const PET_STATUSES = ["available", "pending", "sold"] as const;
const OPTIONAL_FIELDS = ["id", "category", "tags", "photoUrls"] as const;

export type CreatePetBody = { name: string; status: (typeof PET_STATUSES)[number] } & Partial<
	Record<(typeof OPTIONAL_FIELDS)[number], unknown>
>;

/** The request body from mapped values, or the validation message the execution fails with. */
export function buildCreatePetBody(mapped: Record<string, unknown>): { ok: true; body: CreatePetBody } | { ok: false; error: string } {
	const name = mapped.name;
	if (name === undefined || name === null || name === "") return { ok: false, error: "Name is required" };
	const status = mapped.status;
	if (status === undefined || status === null || status === "") return { ok: false, error: "Status is required" };
	const normalizedStatus = typeof status === "string" ? status.trim().toLowerCase() : "";
	if (!(PET_STATUSES as readonly string[]).includes(normalizedStatus)) return { ok: false, error: "Provided status is invalid." };
	const body: CreatePetBody = {
		name: typeof name === "string" ? name : JSON.stringify(name),
		status: normalizedStatus as CreatePetBody["status"],
	};
	for (const field of OPTIONAL_FIELDS) {
		if (mapped[field] !== undefined) body[field] = mapped[field];
	}
	return { ok: true, body };
}

export function createPetRequest(baseUrl: string, body: CreatePetBody, executionId: string): ActionRequest {
	return {
		method: "POST",
		url: `${normalizeBaseUrl(baseUrl)}/pet`,
		// The execution id as idempotency key: a retried attempt never creates a second pet.
		headers: { "content-type": "application/json", "idempotency-key": executionId },
		body,
	};
}

export async function runCreatePet(
	mapped: Record<string, unknown>,
	credential: PetstoreCredential,
	executionId: string,
): Promise<ActionOutcome> {
	const built = buildCreatePetBody(mapped);
	if (!built.ok) return { kind: "terminal", request: null, response: null, error: built.error };
	return callPetstore(createPetRequest(credential.baseUrl, built.body, executionId), credential.apiKey);
}
