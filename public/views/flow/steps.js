/**
 * @module
 * A flow's steps as the designer holds them: the catalogue's declaration of each step, walking the
 * nested lists (a split's steps, a router's routes and otherwise) in running order with what each
 * step can see, new ids, and what a step still needs before it can be published.
 */

/** @typedef {import("../../../src/flows/step-types.ts").StepDefinition} Step */
/** @typedef {{ step: Step, list: Step[], index: number, number: string, earlier: Step[], split: Step | null }} Visit */

/** The catalogue's action component and action of a step. */
export function declared(components, step) {
	const component = components.find((c) => c.id === step.component);
	return { component, action: component?.actions?.find((a) => a.id === step.action) };
}

/** The nested lists of a step, each with what the step list calls it. @returns {[string, Step[]][]} */
export function lanes(step) {
	// The lists exist from the first look, so an Add step in an empty lane has a list to add to.
	if (step.action === "split") {
		step.steps ??= [];
		return [["For each item", step.steps]];
	}
	if (step.action !== "router") return [];
	step.otherwise ??= [];
	return [...(step.routes ?? []).map((r, i) => [`Route “${r.name || i + 1}”`, r.steps]), ["Otherwise", step.otherwise]];
}

/**
 * Every step depth first in running order, with the steps whose output it may read (earlier ones on
 * the way here, as the engine's `$steps`) and the innermost split around it (`$item`).
 * @param {Step[]} steps
 * @param {(visit: Visit) => void} fn
 * @param {string} [prefix]
 * @param {Step[]} [earlier]
 * @param {Step | null} [split]
 */
export function walk(steps, fn, prefix = "", earlier = [], split = null) {
	const seen = [...earlier];
	steps.forEach((step, index) => {
		const number = `${prefix}${index + 2 - (prefix ? 1 : 0)}`;
		fn({ step, list: steps, index, number, earlier: [...seen], split });
		lanes(step).forEach(([, lane], i, all) => {
			walk(lane, fn, lanePrefix(number, i, all.length), seen, step.action === "split" ? step : split);
		});
		seen.push(step);
	});
}

/** A lane's numbering: a split's 2.1, a router's routes 2.1.1, 2.2.1. */
export const lanePrefix = (number, lane, lanesCount) => (lanesCount > 1 ? `${number}.${lane + 1}.` : `${number}.`);

/** What a step itself reads (not the steps inside it). @param {Step} step */
const ownSettings = ({ steps: _, routes, otherwise: __, sample: ___, ...settings }) =>
	JSON.stringify([settings, routes?.map((r) => r.condition)]);

/**
 * Steps reading `$steps.<id>` of a step not earlier on their way (publishing refuses them).
 * @param {Step[]} steps
 * @returns {{ step: Step, id: string }[]}
 */
export function readsOfLaterSteps(steps) {
	const ids = new Set();
	walk(steps, ({ step }) => ids.add(step.id));
	/** @type {{ step: Step, id: string }[]} */
	const out = [];
	walk(steps, ({ step, earlier }) => {
		for (const [, id] of ownSettings(step).matchAll(/\$steps\.([a-z][a-z0-9_]*)/g))
			if (id && ids.has(id) && !earlier.some((e) => e.id === id) && !out.some((o) => o.step === step && o.id === id))
				out.push({ step, id });
	});
	return out;
}

/** @param {Step[]} steps @param {string} id */
export function find(steps, id) {
	/** @type {Visit | undefined} */
	let found;
	walk(steps, (v) => {
		if (v.step.id === id) found = v;
	});
	return found;
}

/** The first `step_N` no step has. @param {Step[]} steps */
export function freshId(steps) {
	const used = new Set();
	walk(steps, ({ step }) => used.add(step.id));
	let n = 1;
	while (used.has(`step_${n}`)) n++;
	return `step_${n}`;
}

/** The steps (outside `step` itself) whose settings read `$steps.<id>` of it. @param {Step[]} steps @param {Step} step */
export function readersOf(steps, step) {
	const re = new RegExp(`\\$steps\\.${step.id}\\b`);
	const own = new Set();
	walk([step], ({ step: s }) => own.add(s));
	/** @type {Step[]} */
	const readers = [];
	walk(steps, ({ step: s }) => {
		if (!own.has(s) && re.test(ownSettings(s))) readers.push(s);
	});
	return readers;
}

/** What a step shows as its name. */
export const stepName = (components, step) => step.name || declared(components, step).action?.title || step.id;

const isMissing = (value) => value == null || (typeof value === "string" && !value.trim()) || (Array.isArray(value) && !value.length);

/** The labels of the required settings and mapping fields a step has not set (the catalogue says which). */
export function missing(components, step) {
	const { action } = declared(components, step);
	if (!action) return ["Component"];
	const out = action.settings
		.filter((s) => s.required && s.default === undefined && !["mapping", "steps"].includes(s.kind) && isMissing(step[s.name]))
		.map((s) => s.label);
	for (const field of action.fields) if (field.required && isMissing(step.mapping?.[field.name])) out.push(field.label);
	return out;
}

/**
 * The samples a step's expressions see, as the engine gives them: `$steps` (earlier steps' kept
 * samples) and, inside a split, the first item of the split's sample as `$item` with `$index` 0.
 * @param {Visit} visit
 */
export function sampleScope({ earlier, split }) {
	const steps = Object.fromEntries(earlier.filter((s) => s.sample !== undefined).map((s) => [s.id, s.sample]));
	if (!split) return { steps };
	const items = split.sample;
	return { steps, item: Array.isArray(items) ? (items[0] ?? null) : null, index: 0 };
}
