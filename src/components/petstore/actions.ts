/**
 * @module
 * The Petstore actions' requests, from the mapped fields: pure, so each can be tested without a
 * Petstore. Create a Pet keeps its own module (create-pet.ts) and the tutorial's messages.
 */
import type { ActionRequest } from "../types";
import { normalizeBaseUrl } from "./client";
import { buildCreatePetBody, createPetRequest, PET_STATUSES } from "./create-pet";

export type PetstoreActionId = "createPet" | "getPetById" | "findPetsByStatus" | "updatePet" | "deletePet";
export const PETSTORE_ACTIONS: readonly PetstoreActionId[] = ["createPet", "getPetById", "findPetsByStatus", "updatePet", "deletePet"];

type Built = { ok: true; request: ActionRequest } | { ok: false; error: string };

function petId(value: unknown): { ok: true; id: string } | { ok: false; error: string } {
	if (value === undefined || value === null || value === "") return { ok: false, error: "Pet ID is required" };
	const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
	if (!/^\d{1,19}$/.test(text)) return { ok: false, error: `Pet ID must be a whole number, not ${JSON.stringify(value)}` };
	return { ok: true, id: text };
}

/** The request of `action` for the mapped values; `idempotencyKey` goes on calls that change something. */
export function buildPetstoreRequest(
	action: PetstoreActionId,
	mapped: Record<string, unknown>,
	baseUrl: string,
	idempotencyKey: string,
): Built {
	const base = normalizeBaseUrl(baseUrl);
	switch (action) {
		case "createPet": {
			const built = buildCreatePetBody(mapped);
			return built.ok ? { ok: true, request: createPetRequest(baseUrl, built.body, idempotencyKey) } : built;
		}
		case "getPetById":
		case "deletePet": {
			const id = petId(mapped.petId);
			if (!id.ok) return id;
			const method = action === "getPetById" ? "GET" : "DELETE";
			const headers: Record<string, string> = action === "deletePet" ? { "idempotency-key": idempotencyKey } : {};
			return { ok: true, request: { method, url: `${base}/pet/${id.id}`, headers, body: undefined } };
		}
		case "findPetsByStatus": {
			const wanted = (Array.isArray(mapped.status) ? mapped.status : [mapped.status]).filter(
				(s) => s !== undefined && s !== null && s !== "",
			);
			if (wanted.length === 0) return { ok: false, error: "Status is required" };
			const statuses = wanted.map((s) => (typeof s === "string" ? s.trim().toLowerCase() : ""));
			if (!statuses.every((s) => (PET_STATUSES as readonly string[]).includes(s)))
				return { ok: false, error: "Provided status is invalid." };
			const query = new URLSearchParams(statuses.map((s) => ["status", s]));
			return { ok: true, request: { method: "GET", url: `${base}/pet/findByStatus?${query}`, headers: {}, body: undefined } };
		}
		case "updatePet": {
			const id = petId(mapped.id);
			if (!id.ok) return { ok: false, error: id.error.replace("Pet ID", "ID") };
			const built = buildCreatePetBody(mapped);
			if (!built.ok) return built;
			return {
				ok: true,
				request: {
					method: "PUT",
					url: `${base}/pet`,
					headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
					body: { ...built.body, id: Number(id.id) },
				},
			};
		}
	}
}
