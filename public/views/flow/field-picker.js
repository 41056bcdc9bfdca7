/**
 * @module
 * The drop-down of fields a step's expression can read: the webhook sample's properties, every
 * earlier step's kept sample (`CRM lookup › body › email`, inserted as `$steps.crm.body.email`)
 * and, inside a split, the current item (`$item.sku`).
 */
import { h } from "../../lib/dom.js";

/** @typedef {{ label: string, fields: { path: string[], expression: string, value: unknown }[] }} Source */

// JSONata needs backticks around names that are not plain identifiers (user-agent, 2fa, …).
const part = (p) => (/^[A-Za-z_$][\w$]*$/.test(p) ? p : `\`${p.replaceAll("`", "")}\``);

/** Property paths of a value, `depth` levels deep, at most 60. */
function paths(value, depth, prefix = [], out = []) {
	if (!value || typeof value !== "object" || Array.isArray(value)) return out;
	for (const [key, child] of Object.entries(value)) {
		if (out.length >= 60) break;
		out.push({ path: [...prefix, key], value: child });
		if (prefix.length + 1 < depth) paths(child, depth, [...prefix, key], out);
	}
	return out;
}

const short = (value) => {
	const text = JSON.stringify(value) ?? "";
	return text.length > 28 ? `${text.slice(0, 27)}…` : text;
};

/**
 * The sources a step sees: the trigger sample (request metadata such as _headers last), each earlier
 * step that kept a sample, and the split's item.
 * @param {unknown} triggerSample
 * @param {{ id?: string, sample?: unknown }[]} earlier
 * @param {(step: any) => string} nameOf
 * @param {{ item?: unknown } | null} split
 * @returns {Source[]}
 */
export function fieldSources(triggerSample, earlier, nameOf, split) {
	const own = paths(triggerSample, 2).sort((a, b) => Number(a.path[0]?.startsWith("_")) - Number(b.path[0]?.startsWith("_")));
	/** @type {Source[]} */
	const sources = [{ label: "Webhook sample", fields: own.map((f) => ({ ...f, expression: f.path.map(part).join(".") })) }];
	for (const step of earlier) {
		if (step.sample === undefined) continue;
		// A call's answer headers after its body: the body is what mappings mostly read.
		const fields = paths(step.sample, 3)
			.sort((a, b) => Number(a.path[0] === "headers") - Number(b.path[0] === "headers"))
			.map((f) => ({ ...f, expression: ["$steps", step.id, ...f.path].map(part).join(".") }));
		const label = nameOf(step);
		sources.push({
			label,
			fields: [{ path: [], expression: `$steps.${step.id}`, value: step.sample }, ...fields].map((f) => ({
				...f,
				path: [label, ...f.path],
			})),
		});
	}
	if (split)
		sources.push({
			label: "Current item",
			fields: [{ path: [], value: split.item }, ...paths(split.item, 2)].map((f) => ({
				path: ["Item", ...f.path],
				expression: ["$item", ...f.path].map(part).join("."),
				value: f.value,
			})),
		});
	return sources;
}

/**
 * A labelled <select> of the sources' fields. `first` is the empty choice's text; `extra` more
 * options (a field's fixed values). Each option's value is the expression it stands for.
 * @param {string} id
 * @param {Source[]} sources
 * @param {string} first
 * @param {Node[]} [extra]
 */
export function fieldSelect(id, sources, first, extra = []) {
	return h(
		"select",
		{ id },
		h("option", { value: "" }, first),
		sources.map((source, i) =>
			source.fields.length
				? h(
						"optgroup",
						{ label: source.label },
						source.fields.map((f) =>
							h("option", { value: f.expression }, `${i === 0 ? f.path.join(".") : f.path.join(" › ")} = ${short(f.value)}`),
						),
					)
				: null,
		),
		extra,
	);
}

/**
 * An "Insert field" drop-down that puts the chosen field at the caret of `input`, as `{{ }}` in a template.
 * @param {HTMLInputElement | HTMLTextAreaElement} input
 * @param {Source[]} sources
 * @param {boolean} template
 * @param {() => void} changed
 */
export function insertPicker(input, sources, template, changed) {
	const select = fieldSelect(`${input.id}-pick`, sources, "Insert field…");
	select.setAttribute("aria-label", `Insert a field into ${input.dataset.label ?? "the expression"}`);
	select.addEventListener("change", () => {
		const text = template ? `{{${select.value}}}` : select.value;
		const at = input.selectionStart ?? input.value.length;
		input.value = input.value.slice(0, at) + text + input.value.slice(input.selectionEnd ?? at);
		select.value = "";
		input.focus();
		input.setSelectionRange(at + text.length, at + text.length);
		changed();
	});
	return select;
}
