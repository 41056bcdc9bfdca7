/**
 * @module
 * Mapping stage for Create a Pet: each field takes a sample property or a JSONata expression,
 * with a live preview of the Petstore request the mapping makes from the sample.
 */
import { api } from "../../lib/api.js";
import { alertBox, debounce, h, isAbort, pretty } from "../../lib/dom.js";

const CUSTOM = "\u0000custom";

// Every property path of the sample (two levels deep), request metadata (_headers, …) last.
function samplePaths(value, prefix = [], out = []) {
	for (const [key, child] of Object.entries(value ?? {})) {
		const path = [...prefix, key];
		out.push({ path, value: child });
		if (child && typeof child === "object" && !Array.isArray(child) && prefix.length < 1) samplePaths(child, path, out);
	}
	return prefix.length ? out : out.sort((a, b) => a.path[0].startsWith("_") - b.path[0].startsWith("_"));
}

// JSONata needs backticks around names that are not plain identifiers (user-agent, 2fa, …).
const toExpression = (path) => path.map((p) => (/^[A-Za-z_$][\w$]*$/.test(p) ? p : `\`${p.replaceAll("`", "")}\``)).join(".");

const short = (value) => {
	const text = JSON.stringify(value) ?? "";
	return text.length > 28 ? `${text.slice(0, 27)}…` : text;
};

export function mappingStage({ component, step, sample, signal, save, next }) {
	const action = component.actions.find((a) => a.id === step.action) ?? component.actions[0];
	step.action = action.id;
	step.mapping ??= {};
	const paths = samplePaths(sample);
	const alert = alertBox();
	const previewCode = h("pre", { class: "code", tabindex: 0 }, "…");
	const previewIssues = h("ul", { class: "issues", "aria-live": "polite", hidden: true });
	let previewSeq = 0;

	const preview = debounce(async () => {
		const seq = ++previewSeq;
		try {
			const { request, errors } = await api("/mappings/preview", {
				method: "POST",
				body: { sample: sample ?? {}, mapping: step.mapping },
				signal,
			});
			if (seq !== previewSeq) return;
			previewCode.textContent = request ? `POST /pet\n${pretty(request)}` : "No request: the mapping is not valid yet.";
			previewIssues.replaceChildren(...errors.map((e) => h("li", null, e)));
			previewIssues.hidden = !errors.length;
		} catch (error) {
			if (!isAbort(error)) alert.show(error);
		}
	}, 300);
	const persist = debounce(
		() =>
			save().then(
				() => alert.show(null),
				(error) => alert.show(error),
			),
		600,
	);

	function fieldRow(field) {
		const base = `map-${field.name}`;
		const expression = h("input", {
			id: `${base}-expr`,
			class: "code",
			autocomplete: "off",
			spellcheck: "false",
			value: step.mapping[field.name] ?? "",
		});
		const source = h(
			"select",
			{ id: `${base}-source` },
			h("option", { value: "" }, "— Not mapped —"),
			paths.length
				? h(
						"optgroup",
						{ label: "Sample properties" },
						paths.map((p) => h("option", { value: toExpression(p.path) }, `${p.path.join(".")} = ${short(p.value)}`)),
					)
				: null,
			field.options
				? h(
						"optgroup",
						{ label: "Fixed values" },
						field.options.map((o) => h("option", { value: JSON.stringify(o) }, o)),
					)
				: null,
			h("option", { value: CUSTOM, hidden: true }, "JSONata expression"),
		);
		// The expression is the truth; the drop-down shows it when it is one of its choices.
		const reflect = () => {
			const known = [...source.options].some((o) => o.value === expression.value);
			source.value = known ? expression.value : CUSTOM;
		};
		const changed = () => {
			const value = expression.value.trim();
			if (value) step.mapping[field.name] = value;
			else delete step.mapping[field.name];
			preview();
			persist();
		};
		source.addEventListener("change", () => {
			expression.value = source.value;
			changed();
		});
		expression.addEventListener("input", () => {
			reflect();
			changed();
		});
		reflect();
		return h(
			"fieldset",
			{ class: "map-field" },
			h(
				"legend",
				null,
				field.label ?? field.name,
				field.required ? h("span", { class: "tag" }, "required") : h("span", { class: "optional" }, " (optional)"),
			),
			h(
				"div",
				{ class: "map-inputs" },
				h("div", { class: "field" }, h("label", { for: source.id }, "Sample property"), source),
				h("div", { class: "field" }, h("label", { for: expression.id }, "JSONata expression"), expression),
			),
		);
	}

	const required = action.fields.filter((f) => f.required);
	const optional = action.fields.filter((f) => !f.required);
	preview();
	return h(
		"div",
		{ class: "stack" },
		h("h2", { tabindex: -1 }, `Mapping: ${action.title}`),
		h(
			"p",
			{ class: "muted" },
			"Choose a property of the webhook sample for each field, or write a JSONata expression such as ",
			h("code", null, "$uppercase(petname)"),
			".",
		),
		sample
			? null
			: h(
					"p",
					{ class: "notice" },
					"The trigger has no sample, so there are no properties to choose from. You can still write expressions.",
				),
		alert.el,
		h(
			"div",
			{ class: "mapping" },
			h(
				"div",
				{ class: "stack" },
				required.map(fieldRow),
				optional.length ? h("details", { class: "stack" }, h("summary", null, "Optional fields"), optional.map(fieldRow)) : null,
			),
			h(
				"section",
				{ class: "card stack preview", "aria-labelledby": "preview-title" },
				h("h3", { id: "preview-title" }, "Preview"),
				h("p", { class: "muted" }, "The Petstore request this mapping makes from the sample."),
				previewCode,
				previewIssues,
			),
		),
		h("div", { class: "row" }, h("button", { type: "button", class: "primary", onclick: next }, "Continue")),
	);
}
