/**
 * @module
 * Component chooser: a search box over the catalogue, triggers first, then actions. A component
 * whose actions each stand alone (no credential, several actions: Logic) offers each action as
 * its own choice (Choose Filter, Choose Router, …); the others are chosen whole and their action
 * picked in their settings.
 */
import { h } from "../../lib/dom.js";

/** Whether a component's actions are offered one by one. */
export const byAction = (component) =>
	component.kind === "action" &&
	component.actions.length > 1 &&
	!component.actions.some((a) => a.settings.some((s) => s.kind === "credential"));

/** @param {{ components: any[], kind: "trigger" | "action", onChoose: (component: any, action?: any) => void }} options */
export function componentChooser({ components, kind, onChoose }) {
	const search = h("input", {
		type: "search",
		id: "component-search",
		placeholder: kind === "trigger" ? "webhook…" : "petstore, http, filter, split, router…",
		autocomplete: "off",
		"aria-controls": "component-list",
	});
	const none = h("p", { class: "empty", hidden: true, role: "status" }, "No component matches your search.");
	/** @type {[HTMLElement, string][]} */
	const cards = [];
	const card = (component, action) => {
		const allowed = component.kind === kind;
		const title = action?.title ?? component.title;
		const el = h(
			"li",
			{ class: "component" },
			h("div", null, h("h4", null, title), h("p", { class: "muted" }, (action ?? component).description ?? "")),
			h(
				"button",
				{ type: "button", class: allowed ? "primary" : "", disabled: !allowed, onclick: () => onChoose(component, action) },
				`Choose ${title}`,
			),
			allowed ? null : h("p", { class: "hint" }, kind === "trigger" ? "Add it after the trigger." : "A flow has one trigger."),
		);
		// Names only: descriptions mention other components ("…inside a split…").
		cards.push([el, `${component.id} ${component.title} ${action ? `${action.id} ${action.title}` : ""}`.toLowerCase()]);
		return el;
	};
	const group = (title, items) => h("section", { class: "component-group" }, h("h3", null, title), h("ul", { class: "components" }, items));
	const groups = [
		group(
			"Triggers",
			components.filter((c) => c.kind === "trigger").map((c) => card(c)),
		),
		group(
			"Actions",
			components.filter((c) => c.kind === "action" && !byAction(c)).map((c) => card(c)),
		),
		...components.filter(byAction).map((c) =>
			group(
				c.title,
				c.actions.map((a) => card(c, a)),
			),
		),
	];
	search.addEventListener("input", () => {
		const query = search.value.trim().toLowerCase();
		for (const [el, text] of cards) el.hidden = !text.includes(query);
		for (const g of groups) g.hidden = ![...g.querySelectorAll("li")].some((li) => !li.hidden);
		none.hidden = groups.some((g) => !g.hidden);
	});
	return h(
		"div",
		{ class: "stack" },
		h("h2", { tabindex: -1 }, kind === "trigger" ? "Choose the trigger" : "Choose the action"),
		h("div", { class: "field" }, h("label", { for: "component-search" }, "Search components"), search),
		h("div", { id: "component-list", class: "stack" }, groups, none),
	);
}
