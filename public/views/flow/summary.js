/**
 * @module
 * Step summary: name the step, leave a note, set the step's switches (from the catalogue), change
 * an action step's id (`rename` rewrites the later steps' `$steps.<id>`), Finish step.
 */
import { alertBox, h } from "../../lib/dom.js";

/** @param {{ step: any, prefix: string, defaultName: string, finished: boolean, settings?: any[], rename?: (id: string) => string | null, onFinish: () => Promise<void> }} options */
export function summaryStage({ step, prefix, defaultName, finished, settings = [], rename, onFinish }) {
	const alert = alertBox();
	const switches = settings.map((setting) => ({
		setting,
		box: h("input", {
			type: "checkbox",
			id: `${prefix}-setting-${setting.name}`,
			checked: (step[setting.name] ?? setting.default) === true,
		}),
	}));
	const name = h("input", { id: `${prefix}-step-name`, autocomplete: "off", value: step.name ?? defaultName });
	const note = h("textarea", { id: `${prefix}-step-note`, rows: 3, value: step.note ?? "" });
	const id = rename
		? h("input", { id: `${prefix}-step-id`, class: "code", autocomplete: "off", spellcheck: "false", value: step.id })
		: null;
	const submit = async (event) => {
		event.preventDefault();
		alert.show(null);
		const refused = id && rename ? rename(id.value.trim()) : null;
		if (refused) {
			alert.show(refused);
			return id?.focus();
		}
		step.name = name.value.trim() || defaultName;
		const text = note.value.trim();
		if (text) step.note = text;
		else delete step.note;
		for (const { setting, box } of switches) {
			if (box.checked !== setting.default) step[setting.name] = box.checked;
			else delete step[setting.name];
		}
		try {
			await onFinish();
		} catch (error) {
			alert.show(error);
		}
	};
	return h(
		"form",
		{ class: "stack", onsubmit: submit },
		h("h2", { tabindex: -1 }, "Summary"),
		finished ? h("p", { class: "notice ok" }, "This step is finished. Changes here are saved with Finish step.") : null,
		h("div", { class: "field" }, h("label", { for: name.id }, "Step name"), name),
		id &&
			h(
				"div",
				{ class: "field" },
				h("label", { for: id.id }, "Step id"),
				id,
				h("p", { class: "hint" }, "Later steps read this step’s output as $steps.", step.id, "; changing the id changes them too."),
			),
		h(
			"div",
			{ class: "field" },
			h("label", { for: note.id }, "Note"),
			note,
			h("p", { class: "hint" }, "For whoever maintains this flow next."),
		),
		...switches.map(({ setting, box }) =>
			h("div", { class: "field" }, h("label", { for: box.id }, box, ` ${setting.label}`), h("p", { class: "hint" }, setting.hint)),
		),
		alert.el,
		h("div", { class: "row" }, h("button", { class: "primary" }, "Finish step")),
	);
}
