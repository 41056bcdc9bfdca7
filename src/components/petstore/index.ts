import * as z from "zod";
import { PET_STATUSES } from "./create-pet";
import { VERIFY_TIMEOUT_MS } from "./verify-key";

/** The Petstore API action component: credential fields and the catalogue entry. */

export const petstoreCredentialSchema = z
	.object({
		apiKey: z.string().min(1, "API key is required").max(1024),
		baseUrl: z
			.url({ protocol: /^https?$/, error: "Base URL must be an http(s) URL" })
			.max(2048)
			.optional(),
	})
	.strict();

export const petstoreComponent = {
	id: "petstore",
	kind: "action",
	title: "Petstore API (Node.js)",
	description: "Creates pets in a Swagger Petstore compatible API.",
	/** How long saving a credential may take at most: the key check's timeout, so the designer's promise is the server's. */
	verifyTimeoutSeconds: VERIFY_TIMEOUT_MS / 1000,
	credentialFields: [
		{ name: "apiKey", label: "API key", required: true, secret: true },
		{ name: "baseUrl", label: "Base URL", required: false, secret: false },
	],
	actions: [
		{
			id: "createPet",
			title: "Create a Pet",
			fields: [
				{ name: "name", label: "Name", required: true },
				{ name: "status", label: "Status", required: true, options: PET_STATUSES },
				{ name: "id", label: "ID", required: false },
				{ name: "category", label: "Category", required: false },
				{ name: "tags", label: "Tags", required: false },
				{ name: "photoUrls", label: "Photo URLs", required: false },
			],
		},
	],
} as const;
