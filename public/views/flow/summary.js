/**
 * @module
 * Step summary: name the step, leave a note, set the step's switches (from the catalogue), Finish step.
 */
import { alertBox, h } from "../../lib/dom.js";

export function summaryStage({ step, prefix, defaultName, finished, settings = [], onFinish }) {
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
	const submit = async (event) => {
		event.preventDefault();
		alert.show(null);
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
