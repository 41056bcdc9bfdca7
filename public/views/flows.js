/**
 * @module
 * Flows list: every flow with its status, version and counters, and Add New Flow.
 */
import { api } from "../lib/api.js";
import { alertBox, h } from "../lib/dom.js";
import { flowTable, pollFlows } from "./flow-table.js";

export async function flowsView(main, { signal }) {
	const alert = alertBox();
	const nameInput = h("input", { id: "new-flow-name", required: true, value: "My first flow", autocomplete: "off" });
	const form = h(
		"form",
		{ class: "card inline-form", hidden: true, onsubmit: create },
		h("label", { for: "new-flow-name" }, "Flow name"),
		nameInput,
		h(
			"div",
			{ class: "row" },
			h("button", { class: "primary" }, "Create flow"),
			h("button", { type: "button", onclick: () => toggle(false) }, "Cancel"),
		),
	);
	const add = h("button", { class: "primary", onclick: () => toggle(true) }, "Add New Flow");
	const table = flowTable("Flows", (flow) => `#/flows/${flow.id}`);
	const empty = h("p", { class: "empty", hidden: true }, "No flows yet. Add New Flow to build your first integration.");

	function toggle(open) {
		form.hidden = !open;
		add.hidden = open;
		(open ? nameInput : add).focus();
		if (open) nameInput.select();
	}

	async function create(event) {
		event.preventDefault();
		alert.show(null);
		try {
			const { flow } = await api("/flows", { method: "POST", body: { name: nameInput.value.trim() }, signal });
			location.hash = `#/flows/${flow.id}`;
		} catch (error) {
			alert.show(error);
		}
	}

	main.append(h("div", { class: "page-head" }, h("h1", { tabindex: -1 }, "Flows"), add), form, alert.el, table.el, empty);
	await pollFlows(table, empty, signal, alert.show);
}
