/**
 * @module
 * Logic steps: filter, transform, split and router. They make no call: they are evaluated in
 * place (evaluate.ts), so they cost no attempt, no rate-limit token and no idempotency key.
 */
import type { ActionSetting } from "../fields";

export const SPLIT_CONCURRENCY = { min: 1, max: 10, default: 1 } as const;
export const ROUTER_MODES = ["first", "all"] as const;

const condition: ActionSetting = {
	name: "condition",
	label: "Condition",
	required: true,
	kind: "expression",
	help: "JSONata; true (or anything truthy) lets the execution go on",
};

export const logicComponent = {
	id: "logic",
	kind: "action",
	title: "Logic",
	description: "Filter, transform, split into items, and route: steps that decide, make no call.",
	actions: [
		{
			id: "filter",
			title: "Filter",
			description: "Ends the execution as filtered when the condition is false (inside a route or a split, only that route or item).",
			runs: "logic",
			settings: [condition],
			fields: [],
			output: "true",
		},
		{
			id: "transform",
			title: "Transform",
			description: "Computes a value for later steps ($steps.<id>).",
			runs: "logic",
			settings: [
				{ name: "expression", label: "Expression", required: true, kind: "expression", help: "JSONata; its value is the step's output" },
			],
			fields: [],
			output: "the expression's value",
		},
		{
			id: "split",
			title: "Split",
			description: "Runs its steps once per item, in item order; $item and $index are the current item and its position.",
			runs: "logic",
			settings: [
				{ name: "items", label: "Items", required: true, kind: "expression", help: "JSONata giving an array (a single value is one item)" },
				{ name: "steps", label: "Steps per item", required: true, kind: "steps" },
				{
					name: "concurrency",
					label: "Items at once",
					required: false,
					kind: "number",
					min: SPLIT_CONCURRENCY.min,
					max: SPLIT_CONCURRENCY.max,
					default: SPLIT_CONCURRENCY.default,
					help: "1 keeps item order; more run items in parallel",
				},
			],
			fields: [],
			output: "the list of each item's last output (items a filter stopped are left out)",
		},
		{
			id: "router",
			title: "Router",
			description: "Sends the execution down the first route whose condition holds, or down every one (fan-out); otherwise when none does.",
			runs: "logic",
			settings: [
				{
					name: "mode",
					label: "Mode",
					required: true,
					kind: "select",
					options: ROUTER_MODES,
					default: "first",
					help: "first: one route; all: every route whose condition holds",
				},
				{ name: "routes", label: "Routes", required: true, kind: "routes" },
				{ name: "otherwise", label: "Otherwise", required: false, kind: "steps", help: "Run when no route's condition holds" },
			],
			fields: [],
			output: "{routes: [names of the routes taken]}",
		},
	],
} as const;
