/**
 * @module
 * API reference: the admin API's own OpenAPI document (`/api/openapi.json`) rendered as a page, so
 * the reference is always the API that is running. A small renderer of our own: no CDN, nothing
 * inline, so it works under the designer's Content-Security-Policy.
 */
import { api } from "../lib/api.js";
import { h } from "../lib/dom.js";

/**
 * @typedef {import("../../src/api/openapi-document.ts").JsonSchema} JsonSchema
 * @typedef {import("../../src/api/openapi-document.ts").Operation} Operation
 * @typedef {import("../../src/api/openapi-document.ts").OpenApiDocument} OpenApiDocument
 */

const METHODS = ["get", "post", "put", "patch", "delete"];
/** Deeper schemas are summarised by their type: the page stays readable and a recursive schema ends. */
const MAX_DEPTH = 6;

/**
 * @param {HTMLElement} main
 * @param {{ signal: AbortSignal }} context
 */
export async function apiReferenceView(main, { signal }) {
	/** @type {OpenApiDocument} */
	const doc = await api("/openapi.json", { signal });
	const schemas = doc.components?.schemas ?? {};
	const operations = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
		METHODS.filter((method) => byMethod[method]).map((method) => ({
			path,
			method,
			operation: /** @type {Operation} */ (byMethod[method]),
		})),
	);
	const tags = [...new Set(operations.map(({ operation }) => operation.tags?.[0] ?? "other"))];

	const filter = h("input", { id: "api-filter", type: "search", autocomplete: "off", placeholder: "flows, /executions, retry…" });
	const count = h("p", { class: "muted", role: "status" });
	const sections = tags.map((tag) => {
		const items = operations
			.filter(({ operation }) => (operation.tags?.[0] ?? "other") === tag)
			.map(({ path, method, operation }) => {
				const el = operationView(path, method, operation, schemas);
				return { el, text: `${method} ${path} ${operation.summary ?? ""}`.toLowerCase() };
			});
		const section = h(
			"section",
			{ class: "api-tag", "aria-labelledby": `api-tag-${tag}` },
			h("h2", { id: `api-tag-${tag}` }, tag),
			...items.map((i) => i.el),
		);
		return { section, items };
	});

	const applyFilter = () => {
		const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
		let shown = 0;
		for (const { section, items } of sections) {
			let any = false;
			for (const item of items) {
				item.el.hidden = !words.every((word) => item.text.includes(word));
				if (!item.el.hidden) any = true;
				if (!item.el.hidden) shown++;
			}
			section.hidden = !any;
		}
		count.textContent = `${shown} of ${operations.length} operations`;
	};
	filter.addEventListener("input", applyFilter);
	applyFilter();

	main.append(
		h("div", { class: "page-head" }, h("h1", { tabindex: -1 }, "API reference")),
		h(
			"p",
			{ class: "muted" },
			`${doc.info.title}, version ${doc.info.version} (OpenAPI ${doc.openapi}). Every call needs `,
			h("code", null, "Authorization: Bearer <ADMIN_TOKEN>"),
			"; errors are ",
			h("code", null, '{"error":{"message","issues"?}}'),
			". The document itself: ",
			h("a", { href: "/api/openapi.json", download: "openapi.json", onclick: download }, "openapi.json"),
			".",
		),
		h("div", { class: "field" }, h("label", { for: "api-filter" }, "Filter operations"), filter),
		count,
		...sections.map((s) => s.section),
	);

	/**
	 * The document needs the bearer token, which a plain link cannot send: download it through the API helper.
	 * @param {MouseEvent} event
	 */
	async function download(event) {
		event.preventDefault();
		const text = JSON.stringify(await api("/openapi.json", { signal }), null, 2);
		const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })), download: "openapi.json" });
		link.click();
		URL.revokeObjectURL(link.href);
	}
}

/**
 * One operation as a disclosure: method, path and summary; open, its parameters, body and answers.
 * @param {string} path
 * @param {string} method
 * @param {Operation} operation
 * @param {Record<string, JsonSchema>} schemas
 */
function operationView(path, method, operation, schemas) {
	const parameters = operation.parameters ?? [];
	const body = operation.requestBody?.content?.["application/json"]?.schema;
	const responses = Object.entries(operation.responses ?? {});
	return h(
		"details",
		{ class: "api-op", id: operation.operationId ? `op-${operation.operationId}` : null },
		h(
			"summary",
			null,
			h("span", { class: `api-method api-method-${method}` }, method.toUpperCase()),
			" ",
			h("code", { class: "api-path" }, path),
			" ",
			h("span", { class: "api-summary" }, operation.summary ?? ""),
		),
		parameters.length > 0 &&
			h(
				"div",
				{ class: "api-part" },
				h("h3", null, "Parameters"),
				h(
					"table",
					{ class: "api-params" },
					h(
						"thead",
						null,
						h("tr", null, h("th", { scope: "col" }, "name"), h("th", { scope: "col" }, "in"), h("th", { scope: "col" }, "schema")),
					),
					h(
						"tbody",
						null,
						parameters.map((p) =>
							h(
								"tr",
								null,
								h(
									"td",
									{ class: "api-cell" },
									h("code", null, p.name),
									p.required ? h("span", { class: "api-required" }, " required") : null,
								),
								h("td", { class: "api-cell" }, p.in),
								h("td", { class: "api-cell" }, p.schema ? schemaView(p.schema, schemas, 0, new Set()) : "—"),
							),
						),
					),
				),
			),
		body && h("div", { class: "api-part" }, h("h3", null, "Request body"), schemaView(body, schemas, 0, new Set())),
		h(
			"div",
			{ class: "api-part" },
			h("h3", null, "Responses"),
			h(
				"dl",
				{ class: "api-responses" },
				responses.map(([status, response]) => {
					const schema = response.content?.["application/json"]?.schema;
					return [
						h("dt", { class: "api-term" }, h("code", null, status), " ", response.description ?? "", refName(schema)),
						// An answer other than a bare object shows its fields; the shared error shape is named only.
						h(
							"dd",
							{ class: "api-def" },
							schema && status !== "default" && (schema.$ref || schema.properties) ? schemaView(schema, schemas, 0, new Set()) : null,
						),
					];
				}),
			),
		),
	);
}

/**
 * The name of a referenced component, shown after a response's description.
 * @param {JsonSchema | undefined} schema
 */
function refName(schema) {
	return schema?.$ref ? h("span", { class: "muted" }, ` (${schema.$ref.split("/").at(-1)})`) : null;
}

/**
 * A schema as a short type line, with an object's properties as a nested list.
 * @param {JsonSchema} schema
 * @param {Record<string, JsonSchema>} schemas the document's components, for `$ref`
 * @param {number} depth
 * @param {Set<string>} seen the refs being expanded above, so a recursive schema stops
 * @returns {HTMLElement}
 */
export function schemaView(schema, schemas, depth, seen) {
	if (schema.$ref) {
		const name = schema.$ref.split("/").at(-1) ?? schema.$ref;
		const target = schemas[name];
		if (!target || seen.has(name) || depth >= MAX_DEPTH) return h("span", { class: "api-type" }, name);
		return schemaView(target, schemas, depth, new Set([...seen, name]));
	}
	const variants = schema.anyOf ?? schema.oneOf;
	if (variants) {
		return h(
			"div",
			{ class: "api-schema" },
			h("span", { class: "api-type" }, "one of"),
			describe(schema),
			h(
				"ol",
				{ class: "api-variants" },
				variants.map((variant) => h("li", null, schemaView(variant, schemas, depth + 1, seen))),
			),
		);
	}
	const properties = Object.entries(schema.properties ?? {});
	const required = new Set(schema.required ?? []);
	return h(
		"div",
		{ class: "api-schema" },
		h("span", { class: "api-type" }, typeLine(schema)),
		describe(schema),
		properties.length > 0 &&
			(depth >= MAX_DEPTH
				? h("span", { class: "muted" }, ` {${properties.map(([name]) => name).join(", ")}}`)
				: h(
						"dl",
						{ class: "api-props" },
						properties.map(([name, property]) => [
							h(
								"dt",
								{ class: "api-term" },
								h("code", null, name),
								required.has(name) ? h("span", { class: "api-required" }, " required") : null,
							),
							h("dd", { class: "api-def" }, schemaView(property, schemas, depth + 1, seen)),
						]),
					)),
		schema.items && depth < MAX_DEPTH && h("div", { class: "api-items" }, "items: ", schemaView(schema.items, schemas, depth + 1, seen)),
	);
}

/**
 * `string`, `integer ≥ 0`, `"none"`, `"sha256" | "sha512"`, `string[]`…
 * @param {JsonSchema} schema
 */
export function typeLine(schema) {
	if (schema.const !== undefined) return JSON.stringify(schema.const);
	if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
	const type = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type ?? "any");
	/** @type {string[]} */
	const limits = [];
	if (schema.minimum !== undefined) limits.push(`≥ ${schema.minimum}`);
	if (schema.maximum !== undefined) limits.push(`≤ ${schema.maximum}`);
	if (schema.minLength !== undefined) limits.push(`${schema.minLength}+ chars`);
	if (schema.maxLength !== undefined) limits.push(`≤ ${schema.maxLength} chars`);
	if (schema.minItems !== undefined) limits.push(`${schema.minItems}+ items`);
	if (schema.maxItems !== undefined) limits.push(`≤ ${schema.maxItems} items`);
	if (schema.format) limits.push(schema.format);
	if (schema.pattern) limits.push(`matching ${schema.pattern}`);
	if (type === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") limits.push("map");
	return limits.length > 0 ? `${type} (${limits.join(", ")})` : type;
}

/**
 * The description and default, when the schema has them.
 * @param {JsonSchema} schema
 */
function describe(schema) {
	return [
		schema.description ? h("span", { class: "api-description" }, ` — ${schema.description}`) : null,
		schema.default !== undefined ? h("span", { class: "muted" }, ` (default ${JSON.stringify(schema.default)})`) : null,
	];
}
