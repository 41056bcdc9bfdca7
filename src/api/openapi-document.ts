/**
 * @module
 * The parts of the OpenAPI 3.1 document (openapi.ts) that its readers use: the designer's API page
 * renders it with these types, which ship no bytes to the browser.
 */

/** A JSON Schema (2020-12, as zod's toJSONSchema writes it), as far as a reader shows it. */
export interface JsonSchema {
	$ref?: string;
	type?: string | string[];
	description?: string;
	properties?: Record<string, JsonSchema>;
	required?: string[];
	items?: JsonSchema;
	anyOf?: JsonSchema[];
	oneOf?: JsonSchema[];
	allOf?: JsonSchema[];
	enum?: unknown[];
	const?: unknown;
	default?: unknown;
	additionalProperties?: boolean | JsonSchema;
	minimum?: number;
	maximum?: number;
	minLength?: number;
	maxLength?: number;
	minItems?: number;
	maxItems?: number;
	pattern?: string;
	format?: string;
}

export interface Parameter {
	name: string;
	in: string;
	required?: boolean;
	schema?: JsonSchema;
}

export interface ApiResponse {
	description?: string;
	content?: Record<string, { schema?: JsonSchema }>;
}

export interface Operation {
	tags?: string[];
	summary?: string;
	operationId?: string;
	parameters?: Parameter[];
	requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
	responses?: Record<string, ApiResponse>;
}

export interface OpenApiDocument {
	openapi: string;
	info: { title: string; version: string; description?: string };
	servers?: { url: string }[];
	paths: Record<string, Record<string, Operation>>;
	components?: { schemas?: Record<string, JsonSchema> };
}
