/**
 * @module
 * The Petstore API action component: credential fields and the catalogue entry. Its actions'
 * requests are built in actions.ts.
 */
import * as z from "zod";
import { baseUrlSchema } from "../base-url";
import { type ActionSetting, CALL_OUTPUT } from "../fields";
import { PET_STATUSES } from "./create-pet";
import { VERIFY_TIMEOUT_MS } from "./verify-key";

/**
 * Where a Petstore key may be sent: the one base-URL rule of every credential (base-url.ts), so
 * `${baseUrl}/pet` and `${baseUrl}/user/me` are always paths under it.
 */
export const petstoreBaseUrlSchema = baseUrlSchema;

export const petstoreCredentialSchema = z
	.object({
		apiKey: z.string().min(1, "API key is required").max(1024),
		baseUrl: petstoreBaseUrlSchema.optional(),
	})
	.strict();

/** Changing where a key goes needs the key again: a stored key is never sent to an address its owner did not confirm with it. */
export const BASE_URL_CHANGE_REQUIRES_KEY =
	"Changing baseUrl requires apiKey in the same request: the stored key is never sent to a new address";

const petstoreSettings: readonly ActionSetting[] = [
	{
		name: "credentialId",
		label: "Petstore credential",
		required: true,
		kind: "credential",
		credentialComponent: "petstore",
		requiredMessage: "Choose a Petstore credential",
	},
	{ name: "mapping", label: "Mapping", required: true, kind: "mapping", help: "Each field a JSONata expression" },
];

export const petstoreComponent = {
	id: "petstore",
	kind: "action",
	title: "Petstore API (Node.js)",
	description: "Creates pets in a Swagger Petstore compatible API.",
	/** How long saving a credential may take at most: the key check's timeout, so the designer's promise is the server's. */
	verifyTimeoutSeconds: VERIFY_TIMEOUT_MS / 1000,
	credentialFields: [
		{ name: "apiKey", label: "API key", required: true, secret: true },
		{
			name: "baseUrl",
			label: "Base URL",
			required: false,
			secret: false,
			/** Served to the designer: its form asks for this field again when the base URL changes. */
			changeRequires: "apiKey",
			hint: "http(s), without user name, query or fragment",
		},
	],
	actions: [
		{
			id: "createPet",
			title: "Create a Pet",
			runs: "call",
			settings: petstoreSettings,
			fields: [
				{ name: "name", label: "Name", required: true },
				{ name: "status", label: "Status", required: true, options: PET_STATUSES },
				{ name: "id", label: "ID", required: false },
				{ name: "category", label: "Category", required: false },
				{ name: "tags", label: "Tags", required: false },
				{ name: "photoUrls", label: "Photo URLs", required: false },
			],
			output: CALL_OUTPUT,
		},
		{
			id: "getPetById",
			title: "Get a Pet by ID",
			runs: "call",
			settings: petstoreSettings,
			fields: [{ name: "petId", label: "Pet ID", required: true, help: "A whole number" }],
			output: CALL_OUTPUT,
		},
		{
			id: "findPetsByStatus",
			title: "Find Pets by Status",
			runs: "call",
			settings: petstoreSettings,
			fields: [{ name: "status", label: "Status", required: true, options: PET_STATUSES, help: "One status, or a list of them" }],
			output: CALL_OUTPUT,
		},
		{
			id: "updatePet",
			title: "Update a Pet",
			runs: "call",
			settings: petstoreSettings,
			fields: [
				{ name: "id", label: "ID", required: true },
				{ name: "name", label: "Name", required: true },
				{ name: "status", label: "Status", required: true, options: PET_STATUSES },
				{ name: "category", label: "Category", required: false },
				{ name: "tags", label: "Tags", required: false },
				{ name: "photoUrls", label: "Photo URLs", required: false },
			],
			output: CALL_OUTPUT,
		},
		{
			id: "deletePet",
			title: "Delete a Pet",
			runs: "call",
			settings: petstoreSettings,
			fields: [{ name: "petId", label: "Pet ID", required: true, help: "A whole number" }],
			output: CALL_OUTPUT,
		},
	],
} as const;
