/**
 * @module
 * A step's settings, built from its action's declaration in the catalogue (label, required,
 * kind, options, help): mapping fields, expressions and templates with a drop-down of the fields
 * they can read, headers and query lists, a router's routes. The preview evaluates the step on the
 * samples with the engine's own context (POST /flows/:id/steps/preview: no call is made).
 */
import { api } from "../../lib/api.js";
import { alertBox, debounce, h, isAbort, pretty, uid } from "../../lib/dom.js";
import { fieldSelect, insertPicker } from "./field-picker.js";

const CUSTOM = "\u0000custom";

/** @param {{ request?: any, error?: string | null, logic?: { passed?: boolean, items?: unknown[], routes?: string[] }, output?: unknown }} p */
export function describeOutcome(p) {
	if (p.error) return null;
	if (p.request) {
		const { method, url, headers = {}, body } = p.request;
		const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
		return [`${method} ${url}`, ...lines, ...(body === undefined ? [] : ["", pretty(body)])].join("\n");
	}
	const logic = p.logic;
	if (logic?.passed !== undefined)
		return logic.passed ? "The sample passes: the execution goes on." : "The sample is filtered out: the execution ends as filtered.";
	if (logic?.routes) return logic.routes.length ? `The sample takes: ${logic.routes.join(", ")}` : "The sample takes no route.";
	if (logic?.items) return `${logic.items.length} items; the first is $item:\n${pretty(logic.items[0] ?? null)}`;
	return pretty(p.output ?? null);
}

/**
 * @param {{ component: any, action: any, step: any, sources: import("./field-picker.js").Source[], flowId: string | undefined,
 *   preview: Record<string, unknown>, signal: AbortSignal, save: () => Promise<unknown>, changed: () => void,
 *   chooseAction: ((id: string) => void) | null, next: () => void }} options
 */
export function stepForm({ component, action, step, sources, flowId, preview: context, signal, save, changed, chooseAction, next }) {
	const alert = alertBox();
	const previewCode = h("pre", { class: "code", tabindex: 0 }, "…");
	const previewIssues = h("ul", { class: "issues", "aria-live": "polite", hidden: true });
	let seq = 0;

	const preview = debounce(async () => {
		const mine = ++seq;
		try {
			const { preview: p } = await api(`/flows/${flowId}/steps/preview`, { method: "POST", body: { step, ...context }, signal });
			if (mine !== seq) return;
			previewCode.textContent = describeOutcome(p) ?? "Nothing to show: the settings are not valid yet.";
			previewIssues.replaceChildren(...(p.error ? [h("li", null, p.error)] : []));
			previewIssues.hidden = !p.error;
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
	const update = () => {
		changed();
		preview();
		persist();
	};

	/** A label with its required mark, the input and its help. */
	const field = (id, setting, input, ...more) => {
		// Required is said by aria-required; the visible mark stays out of the input's name.
		if (setting.required) input.setAttribute("aria-required", "true");
		return h(
			"div",
			{ class: "field" },
			h(
				"div",
				{ class: "row" },
				h("label", { for: id }, setting.label, setting.required ? "" : h("span", { class: "optional" }, " (optional)")),
				setting.required ? h("span", { class: "tag", "aria-hidden": "true" }, "required") : null,
			),
			h("div", { class: "with-picker" }, input, ...more),
			setting.help ? h("p", { class: "hint", id: `${id}-help` }, setting.help) : null,
		);
	};

	/**
	 * An expression or template box bound to `set`, with its Insert field drop-down.
	 * @returns {[HTMLInputElement, HTMLSelectElement]}
	 */
	function codeInput(id, label, value, set, template, help) {
		const input = h("input", { id, class: "code", autocomplete: "off", spellcheck: "false", value: value ?? "", "data-label": label });
		if (help) input.setAttribute("aria-describedby", `${id}-help`);
		const on = () => {
			set(input.value.trim() ? input.value : undefined);
			update();
		};
		input.addEventListener("input", on);
		return [input, insertPicker(input, sources, template, on)];
	}

	/** A mapping field, as the tutorial has it: a drop-down of sample fields and the JSONata expression it fills in. */
	function mappingRow(f) {
		const base = `map-${f.name}`;
		const expression = h("input", {
			id: `${base}-expr`,
			class: "code",
			autocomplete: "off",
			spellcheck: "false",
			value: step.mapping[f.name] ?? "",
		});
		const fixed = f.options
			? [
					h(
						"optgroup",
						{ label: "Fixed values" },
						f.options.map((o) => h("option", { value: JSON.stringify(o) }, o)),
					),
				]
			: [];
		const source = fieldSelect(`${base}-source`, sources, "— Not mapped —", [
			...fixed,
			h("option", { value: CUSTOM, hidden: true }, "JSONata expression"),
		]);
		const reflect = () => {
			source.value = [...source.options].some((o) => o.value === expression.value) ? expression.value : CUSTOM;
		};
		const set = () => {
			const value = expression.value.trim();
			if (value) step.mapping[f.name] = value;
			else delete step.mapping[f.name];
			update();
		};
		source.addEventListener("change", () => {
			expression.value = source.value;
			set();
		});
		expression.addEventListener("input", () => {
			reflect();
			set();
		});
		reflect();
		return h(
			"fieldset",
			{ class: "map-field" },
			h("legend", null, f.label, f.required ? h("span", { class: "tag" }, "required") : h("span", { class: "optional" }, " (optional)")),
			h(
				"div",
				{ class: "map-inputs" },
				h("div", { class: "field" }, h("label", { for: source.id }, "Sample property"), source),
				h("div", { class: "field" }, h("label", { for: expression.id }, "JSONata expression"), expression),
			),
			f.help ? h("p", { class: "hint" }, f.help) : null,
		);
	}

	/** Headers or query parameters: name and template rows. */
	function templateMap(setting) {
		const rows = h("div", { class: "stack" });
		const entries = Object.entries(step[setting.name] ?? {});
		// The rows back into the step; typing and Insert field in a value box call this through codeInput's `set`.
		const write = () => {
			const map = Object.fromEntries(entries.filter(([name]) => name.trim()).map(([name, value]) => [name.trim(), value]));
			if (Object.keys(map).length) step[setting.name] = map;
			else delete step[setting.name];
		};
		const store = () => {
			write();
			update();
		};
		const draw = () =>
			rows.replaceChildren(
				...entries.map((entry, i) => {
					const id = uid(setting.name);
					const name = h("input", {
						id: `${id}-name`,
						autocomplete: "off",
						value: entry[0],
						"aria-label": `${setting.label} ${i + 1}: name`,
					});
					name.addEventListener("input", () => {
						entry[0] = name.value;
						store();
					});
					const [value, pick] = codeInput(
						`${id}-value`,
						`${setting.label} ${i + 1}: value`,
						entry[1],
						(v) => {
							entry[1] = v ?? "";
							write();
						},
						true,
					);
					value.setAttribute("aria-label", `${setting.label} ${i + 1}: value`);
					const remove = h(
						"button",
						{
							type: "button",
							"aria-label": `Remove ${setting.label} ${i + 1}`,
							onclick: () => {
								entries.splice(i, 1);
								draw();
								store();
							},
						},
						"Remove",
					);
					return h("div", { class: "pair" }, name, value, pick, remove);
				}),
			);
		draw();
		return h(
			"fieldset",
			{ class: "map-field stack" },
			h("legend", null, setting.label, h("span", { class: "optional" }, " (optional)")),
			rows,
			h(
				"div",
				{ class: "row" },
				h(
					"button",
					{
						type: "button",
						onclick: () => {
							entries.push(["", ""]);
							draw();
							rows.querySelector(/** @type {"input"} */ ("div:last-child input"))?.focus();
						},
					},
					`Add ${setting.label.toLowerCase().replace(/s$/, "")}`,
				),
			),
		);
	}

	/** A router's routes: a name and a condition each; their steps are lanes in the step list. */
	function routes(setting) {
		const box = h("div", { class: "stack" });
		step.routes ??= [];
		const draw = () =>
			box.replaceChildren(
				...step.routes.map((route, i) => {
					const id = uid("route");
					const name = h("input", { id: `${id}-name`, autocomplete: "off", required: true, value: route.name });
					name.addEventListener("input", () => {
						route.name = name.value;
						update();
					});
					const [condition, pick] = codeInput(
						`${id}-cond`,
						`the condition of route ${i + 1}`,
						route.condition,
						(v) => {
							route.condition = v ?? "";
						},
						false,
					);
					return h(
						"fieldset",
						{ class: "map-field stack" },
						h("legend", null, `Route ${i + 1}`),
						h("div", { class: "field" }, h("label", { for: name.id }, "Route name"), name),
						h(
							"div",
							{ class: "field" },
							h("label", { for: condition.id }, "Condition"),
							h("div", { class: "with-picker" }, condition, pick),
						),
						h(
							"div",
							{ class: "row" },
							h(
								"button",
								{
									type: "button",
									class: "danger",
									onclick: () => {
										if (route.steps.length && !confirm(`Remove route “${route.name}” and its ${route.steps.length} step(s)?`)) return;
										step.routes.splice(i, 1);
										draw();
										update();
									},
								},
								`Remove route ${i + 1}`,
							),
						),
					);
				}),
			);
		draw();
		return h(
			"div",
			{ class: "stack" },
			h("h3", null, setting.label),
			box,
			h(
				"div",
				{ class: "row" },
				h(
					"button",
					{
						type: "button",
						onclick: () => {
							step.routes.push({ name: `Route ${step.routes.length + 1}`, condition: "", steps: [] });
							draw();
							update();
							box.querySelector(/** @type {"input"} */ ("fieldset:last-child input"))?.select();
						},
					},
					"Add route",
				),
			),
		);
	}

	function setting(s) {
		const id = `set-${s.name}`;
		if (s.kind === "mapping") {
			step.mapping ??= {};
			const required = action.fields.filter((f) => f.required);
			const optional = action.fields.filter((f) => !f.required);
			return [
				required.map(mappingRow),
				optional.length ? h("details", { class: "stack" }, h("summary", null, "Optional fields"), optional.map(mappingRow)) : null,
			];
		}
		if (s.kind === "templateMap") return templateMap(s);
		if (s.kind === "routes") return routes(s);
		if (s.kind === "expression" || s.kind === "template")
			return field(
				id,
				s,
				...codeInput(
					id,
					s.label,
					step[s.name],
					(v) => {
						if (v === undefined) delete step[s.name];
						else step[s.name] = v;
					},
					s.kind === "template",
					s.help,
				),
			);
		if (s.kind === "select" || s.kind === "number") {
			const input =
				s.kind === "select"
					? h(
							"select",
							{ id, value: step[s.name] ?? s.default },
							s.options.map((o) => h("option", { value: o }, o)),
						)
					: h("input", { id, type: "number", min: s.min, max: s.max, step: 1, placeholder: s.default, value: step[s.name] ?? "" });
			if (s.help) input.setAttribute("aria-describedby", `${id}-help`);
			step[s.name] ??= s.kind === "select" ? s.default : undefined;
			input.addEventListener("change", () => {
				if (input.value === "") delete step[s.name];
				else step[s.name] = s.kind === "number" ? Number(input.value) : input.value;
				update();
			});
			return field(id, s, input);
		}
		return null; // credential (its own stage) and steps (lanes in the step list)
	}

	const actionSelect = chooseAction
		? h(
				"div",
				{ class: "field" },
				h("label", { for: "step-action" }, "Action"),
				h(
					"select",
					{
						id: "step-action",
						value: action.id,
						onchange: (/** @type {Event} */ e) => chooseAction(/** @type {HTMLSelectElement} */ (e.target).value),
					},
					component.actions.map((a) => h("option", { value: a.id }, a.title)),
				),
			)
		: null;
	const mapping = action.settings.some((s) => s.kind === "mapping");
	preview();
	return h(
		"div",
		{ class: "stack" },
		h("h2", { tabindex: -1 }, `${mapping ? "Mapping" : "Settings"}: ${action.title}`),
		actionSelect,
		h(
			"p",
			{ class: "muted" },
			action.description ? `${action.description} ` : "",
			"Choose a field of the webhook sample or of an earlier step’s sample, or write a JSONata expression such as ",
			h("code", null, "$uppercase(petname)"),
			".",
		),
		sources.length > 1 || sources[0]?.fields.length
			? null
			: h("p", { class: "notice" }, "No sample yet, so there are no fields to choose from. You can still write expressions."),
		alert.el,
		h(
			"div",
			{ class: "mapping" },
			h("div", { class: "stack" }, action.settings.map(setting)),
			h(
				"section",
				{ class: "card stack preview", "aria-labelledby": "preview-title" },
				h("h3", { id: "preview-title" }, "Preview"),
				h("p", { class: "muted" }, "What this step does with the samples, worked out as a run would (nothing is sent)."),
				previewCode,
				previewIssues,
			),
		),
		h("div", { class: "row" }, h("button", { type: "button", class: "primary", onclick: next }, "Continue")),
	);
}
