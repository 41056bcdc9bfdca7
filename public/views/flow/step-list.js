/**
 * @module
 * The step list: the trigger, then every step with Add step after the trigger and between any two
 * steps; a router's routes and a split's steps as indented lanes with their own Add step. Each step
 * can be moved up or down and deleted from here; everything is a labelled button.
 */
import { h } from "../../lib/dom.js";
import { declared, lanePrefix, lanes, missing, stepName, walk } from "./steps.js";

/**
 * @typedef {{ kind: "trigger" } | { kind: "step", id: string } | { kind: "add", list: any[], index: number }} Selection
 * @param {{ draft: any, components: any[], selected: Selection, canAdd: boolean, limits: { maxSteps: number, maxDepth: number },
 *   select: (s: Selection) => void, move: (list: any[], index: number, by: number) => void, remove: (list: any[], index: number) => void }} options
 */
export function stepList({ draft, components, selected, canAdd, limits, select, move, remove }) {
	let count = 0;
	walk(draft.steps, () => count++);
	// The API's limits (GET /api/flow-settings): no Add step past them.
	const full = count >= limits.maxSteps;
	const current = (/** @type {any} */ s) => (s ? "step" : null);
	const add = (list, index, where) =>
		h(
			"li",
			{ class: "add-step" },
			h(
				"button",
				{
					type: "button",
					class: "add",
					disabled: !canAdd || full,
					title: full ? `A flow has at most ${limits.maxSteps} steps` : null,
					"aria-label": `Add step ${where}`,
					"aria-current": current(selected.kind === "add" && selected.list === list && selected.index === index),
					onclick: () => select({ kind: "add", list, index }),
				},
				"Add step",
			),
		);

	/** @param {any[]} list @param {string} prefix @param {string} where where the list's first Add step puts a step */
	const items = (list, prefix, where, first = 1, depth = 1) => [
		add(list, 0, where),
		list.flatMap((step, index) => {
			const { component, action } = declared(components, step);
			const name = stepName(components, step);
			const needs = missing(components, step);
			const number = `${prefix}${index + first}`;
			const tool = (label, text, by, disabled) =>
				h(
					"button",
					{
						type: "button",
						class: "small",
						"aria-label": `${label} “${name}”`,
						disabled,
						onclick: () => (by ? move(list, index, by) : remove(list, index)),
					},
					text,
				);
			return [
				h(
					"li",
					{ class: "step-item" },
					h(
						"div",
						{ class: "step-row" },
						h(
							"button",
							{
								type: "button",
								class: "step-card",
								"aria-current": current(selected.kind === "step" && selected.id === step.id),
								onclick: () => select({ kind: "step", id: step.id }),
							},
							h(
								"span",
								{ class: "step-kind" },
								`${number}. ${component?.title ?? step.component}${action && action.title !== name ? ` · ${action.title}` : ""}`,
							),
							h("span", { class: "step-title" }, name),
							h("span", { class: "step-state" }, needs.length ? `Needs ${needs.join(", ")}` : step.name ? "✓ Finished" : "In progress"),
						),
						h(
							"div",
							{ class: "step-tools" },
							tool("Move up", "↑", -1, index === 0),
							tool("Move down", "↓", 1, index === list.length - 1),
							tool("Delete", "✕", 0, false),
						),
					),
					lanes(step).map(([label, lane], i, all) =>
						h(
							"div",
							{ class: "lane", role: "group", "aria-label": `${name}: ${label}` },
							h("p", { class: "lane-title" }, label),
							depth < limits.maxDepth
								? h("ol", null, items(lane, lanePrefix(number, i, all.length), `to ${label} of “${name}”`, 1, depth + 1))
								: h("p", { class: "hint" }, `Steps nest at most ${limits.maxDepth} deep.`),
						),
					),
				),
				add(list, index + 1, `after “${name}”`),
			];
		}),
	];

	const trigger = draft.trigger;
	return h(
		"ol",
		null,
		h(
			"li",
			null,
			h(
				"button",
				{
					type: "button",
					class: "step-card",
					"aria-current": current(selected.kind === "trigger"),
					onclick: () => select({ kind: "trigger" }),
				},
				h("span", { class: "step-kind" }, "1. Trigger"),
				h(
					"span",
					{ class: "step-title" },
					trigger ? (components.find((c) => c.id === trigger.component)?.title ?? trigger.component) : "Choose a trigger",
				),
				h("span", { class: "step-state" }, trigger?.name ? `✓ ${trigger.name}` : trigger ? "In progress" : "Not set up"),
			),
		),
		items(draft.steps, "", `after “${trigger?.name ?? "the trigger"}”`, 2),
	);
}
