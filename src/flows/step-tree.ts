/**
 * @module
 * Walking a flow's steps, nested ones included (a split's `steps`, a router's `routes[].steps` and
 * `otherwise`): the limits on their number and depth, unique ids, ids for steps saved without one,
 * and each step's path in the definition (`steps.3.routes.0.steps.1`).
 */
import { type IdentifiedStep, STEP_LIMITS, type StepDefinition } from "./step-types";

export interface StepVisit {
	step: StepDefinition;
	/** Where the step is in the definition, as zod paths are: ["steps", 3, "routes", 0, "steps", 1]. */
	path: (string | number)[];
	/** 1 at the top level. */
	depth: number;
	/** The steps whose outputs this one may read, in order: earlier steps on the way here (outer ones included). */
	earlier: string[];
	/** Inside a split: `$item` and `$index` mean something. */
	inSplit: boolean;
}

/** Every step, depth first in running order, with what it can see. */
export function visitSteps(steps: readonly StepDefinition[], visit: (visit: StepVisit) => void): void {
	const walk = (list: readonly StepDefinition[], path: (string | number)[], depth: number, earlier: string[], inSplit: boolean) => {
		const seen = [...earlier];
		for (const [index, step] of list.entries()) {
			const here = [...path, index];
			visit({ step, path: here, depth, earlier: [...seen], inSplit });
			// A nested list sees what came before its parent step, and what came before it within the list.
			if (step.steps)
				walk(step.steps, [...here, "steps"], depth + 1, seen, inSplit || (step.component === "logic" && step.action === "split"));
			for (const [r, route] of (step.routes ?? []).entries())
				walk(route.steps ?? [], [...here, "routes", r, "steps"], depth + 1, seen, inSplit);
			if (step.otherwise) walk(step.otherwise, [...here, "otherwise"], depth + 1, seen, inSplit);
			if (step.id) seen.push(step.id);
		}
	};
	walk(steps, ["steps"], 1, [], false);
}

export interface TreeProblem {
	/** Relative to `steps`' parent (zod issue paths inside the steps array start at the index). */
	path: (string | number)[];
	message: string;
}

/** Too many steps, too deep, duplicate ids. Paths are relative to the steps list. */
export function stepTreeProblems(steps: readonly StepDefinition[]): TreeProblem[] {
	const problems: TreeProblem[] = [];
	const ids = new Map<string, string>();
	let count = 0;
	visitSteps(steps, ({ step, path, depth }) => {
		count++;
		const relative = path.slice(1);
		if (depth > STEP_LIMITS.maxDepth)
			problems.push({
				path: relative,
				message: `Steps nest at most ${STEP_LIMITS.maxDepth} deep (a split or router inside one inside another)`,
			});
		if (step.id) {
			const first = ids.get(step.id);
			if (first) problems.push({ path: [...relative, "id"], message: `The id ${step.id} is already used by the step at ${first}` });
			else ids.set(step.id, path.join("."));
		}
	});
	if (count > STEP_LIMITS.maxSteps)
		problems.push({
			path: [],
			message: `A flow has at most ${STEP_LIMITS.maxSteps} steps in all, nested ones included; this one has ${count}`,
		});
	return problems;
}

/** A copy in which every step has an id: the ones it has, and `step_1`, `step_2`, … (not already used) for the others. */
export function withStepIds(steps: readonly StepDefinition[]): IdentifiedStep[] {
	const used = new Set<string>();
	visitSteps(steps, ({ step }) => {
		if (step.id) used.add(step.id);
	});
	let next = 1;
	const fresh = () => {
		while (used.has(`step_${next}`)) next++;
		used.add(`step_${next}`);
		return `step_${next}`;
	};
	const copy = (list: readonly StepDefinition[]): IdentifiedStep[] =>
		list.map((step) => {
			const out: IdentifiedStep = { ...step, id: step.id ?? fresh() };
			if (step.steps) out.steps = copy(step.steps);
			if (step.routes) out.routes = step.routes.map((route) => ({ ...route, steps: copy(route.steps ?? []) }));
			if (step.otherwise) out.otherwise = copy(step.otherwise);
			return out;
		});
	return copy(steps);
}

/** Whether every step already has an id (then withStepIds would change nothing). */
export function allStepsHaveIds(steps: readonly StepDefinition[]): boolean {
	let all = true;
	visitSteps(steps, ({ step }) => {
		if (!step.id) all = false;
	});
	return all;
}

/** Steps in all, nested ones included. */
export function countSteps(steps: readonly StepDefinition[]): number {
	let count = 0;
	visitSteps(steps, () => count++);
	return count;
}

/** A copy with `change` applied to every step, nested ones included (their nested lists already changed). */
export function mapSteps<T extends StepDefinition>(steps: readonly T[], change: (step: T) => T): T[] {
	return steps.map((step) => {
		const out: T = { ...step };
		if (step.steps) out.steps = mapSteps(step.steps as T[], change);
		if (step.routes) out.routes = step.routes.map((route) => ({ ...route, steps: mapSteps((route.steps ?? []) as T[], change) }));
		if (step.otherwise) out.otherwise = mapSteps(step.otherwise as T[], change);
		return change(out);
	});
}
