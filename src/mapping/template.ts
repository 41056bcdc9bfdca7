/**
 * @module
 * Templates: text with `{{ JSONata }}` parts (`https://api.example.com/customers/{{customer.id}}/notes`).
 * In a URL every part is percent-encoded, so a value cannot change where the call goes; a URL
 * template that is one part and nothing else is a whole URL, left as it is (the credential's
 * base-URL rule then decides whether it may be called).
 */
import { compileExpression, type ExpressionVariables, evaluateExpression, MappingError } from "./evaluate";

export type TemplatePart = { text: string } | { expression: string };

/** The parts of a template; throws MappingError for an unclosed `{{` or an empty part. */
export function parseTemplate(template: string): TemplatePart[] {
	const parts: TemplatePart[] = [];
	let rest = template;
	for (;;) {
		const open = rest.indexOf("{{");
		if (open === -1) break;
		const close = rest.indexOf("}}", open + 2);
		if (close === -1) throw new MappingError(`"{{" at position ${template.length - rest.length + open} is not closed with "}}"`);
		if (open > 0) parts.push({ text: rest.slice(0, open) });
		const expression = rest.slice(open + 2, close).trim();
		if (expression === "") throw new MappingError(`Empty {{ }} at position ${template.length - rest.length + open}`);
		parts.push({ expression });
		rest = rest.slice(close + 2);
	}
	if (rest !== "") parts.push({ text: rest });
	return parts;
}

/** Parses and compiles every part (publish-time check); returns the expressions. */
export function compileTemplate(template: string): string[] {
	const expressions = parseTemplate(template).flatMap((p) => ("expression" in p ? [p.expression] : []));
	for (const expression of expressions) compileExpression(expression);
	return expressions;
}

/** A template that is a single `{{ }}` part: read as a whole value (a whole URL). */
export function isWholeValue(parts: readonly TemplatePart[]): boolean {
	const [only] = parts;
	return parts.length === 1 && only !== undefined && "expression" in only;
}

/** The text a value becomes inside a template: strings as they are, nothing as "", the rest as JSON. */
export function templateText(value: unknown): string {
	if (value === undefined || value === null) return "";
	if (typeof value === "string") return value;
	if (typeof value === "number" || typeof value === "boolean") return String(value);
	return JSON.stringify(value) ?? "";
}

/**
 * Renders a template. `url`: each part is percent-encoded (path and query alike: `/`, `?`, `&`,
 * `#` and `=` inside a value stay data), unless the template is one part alone.
 */
export async function renderTemplate(
	template: string,
	input: unknown,
	variables: ExpressionVariables,
	mode: "url" | "text",
): Promise<string> {
	const parts = parseTemplate(template);
	let out = "";
	for (const part of parts) {
		if ("text" in part) {
			out += part.text;
			continue;
		}
		let value: unknown;
		try {
			value = await evaluateExpression(part.expression, input, variables);
		} catch (error) {
			if (error instanceof MappingError) throw new MappingError(`{{${part.expression}}}: ${error.message}`);
			throw error;
		}
		const text = templateText(value);
		out += mode === "url" && !isWholeValue(parts) ? encodeURIComponent(text) : text;
	}
	return out;
}
