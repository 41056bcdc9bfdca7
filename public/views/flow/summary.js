// Step summary: name the step, leave a note, Finish step.
import { alertBox, h } from "../../lib/dom.js";

export function summaryStage({ step, prefix, defaultName, finished, onFinish }) {
	const alert = alertBox();
	const name = h("input", { id: `${prefix}-step-name`, autocomplete: "off", value: step.name ?? defaultName });
	const note = h("textarea", { id: `${prefix}-step-note`, rows: 3, value: step.note ?? "" });
	const submit = async (event) => {
		event.preventDefault();
		alert.show(null);
		step.name = name.value.trim() || defaultName;
		const text = note.value.trim();
		if (text) step.note = text;
		else delete step.note;
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
		alert.el,
		h("div", { class: "row" }, h("button", { class: "primary" }, "Finish step")),
	);
}
