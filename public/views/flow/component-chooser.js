/**
 * @module
 * Component chooser: a search box over the catalogue, triggers first, then actions.
 */
import { h } from "../../lib/dom.js";

const GROUPS = [
	["trigger", "Triggers"],
	["action", "Actions"],
];

export function componentChooser({ components, kind, onChoose }) {
	const search = h("input", {
		type: "search",
		id: "component-search",
		placeholder: "webhook, petstore…",
		autocomplete: "off",
		"aria-controls": "component-list",
	});
	const none = h("p", { class: "empty", hidden: true, role: "status" }, "No component matches your search.");
	const cards = [];
	const groups = GROUPS.map(([groupKind, title]) => {
		const items = components
			.filter((c) => c.kind === groupKind)
			.map((component) => {
				const allowed = component.kind === kind;
				const card = h(
					"li",
					{ class: "component" },
					h("div", null, h("h4", null, component.title), h("p", { class: "muted" }, component.description ?? "")),
					h(
						"button",
						{ type: "button", class: allowed ? "primary" : "", disabled: !allowed, onclick: () => onChoose(component) },
						`Choose ${component.title}`,
					),
					allowed ? null : h("p", { class: "hint" }, kind === "trigger" ? "Add it after the trigger." : "A flow has one trigger."),
				);
				cards.push([card, `${component.id} ${component.title} ${component.description ?? ""}`.toLowerCase()]);
				return card;
			});
		return h("section", { class: "component-group" }, h("h3", null, title), h("ul", { class: "components" }, items));
	});
	search.addEventListener("input", () => {
		const query = search.value.trim().toLowerCase();
		for (const [card, text] of cards) card.hidden = !text.includes(query);
		for (const group of groups) group.hidden = ![...group.querySelectorAll("li")].some((li) => !li.hidden);
		none.hidden = groups.some((group) => !group.hidden);
	});
	return h(
		"div",
		{ class: "stack" },
		h("h2", { tabindex: -1 }, kind === "trigger" ? "Choose the trigger" : "Choose the action"),
		h("div", { class: "field" }, h("label", { for: "component-search" }, "Search components"), search),
		h("div", { id: "component-list", class: "stack" }, groups, none),
	);
}
