/**
 * @module
 * What each logic step decides, from its settings and the context; no I/O. An expression that
 * fails is an error the execution fails with (the caller names the step).
 */
import { evaluateExpression, MappingError, normalize } from "../../mapping/evaluate";
import type { StepContext } from "../types";

export type LogicResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** JSONata's own truthiness ($boolean): empty strings, 0, empty arrays and objects, and nothing are false. */
export function isTruthy(value: unknown): boolean {
	if (value === undefined || value === null) return false;
	if (typeof value === "boolean") return value;
	if (typeof value === "string") return value.length > 0;
	if (typeof value === "number") return value !== 0;
	if (Array.isArray(value)) return value.some(isTruthy);
	if (typeof value === "object") return Object.keys(value).length > 0;
	return false;
}

async function run(expression: string, context: StepContext, what: string): Promise<LogicResult<unknown>> {
	try {
		const value = await evaluateExpression(expression, context.message, context.variables);
		return { ok: true, value: value === undefined ? undefined : normalize(value) };
	} catch (error) {
		if (error instanceof MappingError) return { ok: false, error: `${what} failed: ${error.message}` };
		throw error;
	}
}

export async function evaluateFilter(condition: string, context: StepContext): Promise<LogicResult<boolean>> {
	const result = await run(condition, context, "The condition");
	return result.ok ? { ok: true, value: isTruthy(result.value) } : result;
}

export async function evaluateTransform(expression: string, context: StepContext): Promise<LogicResult<unknown>> {
	return run(expression, context, "The expression");
}

/** The items: an array as is, nothing as none, a single value as one item (JSONata's sequences). */
export async function evaluateSplitItems(items: string, context: StepContext): Promise<LogicResult<unknown[]>> {
	const result = await run(items, context, "The items expression");
	if (!result.ok) return result;
	const value = result.value;
	return { ok: true, value: value === undefined || value === null ? [] : Array.isArray(value) ? value : [value] };
}

/** The routes taken, by index; -1 is `otherwise`. `first`: the first whose condition holds; `all`: every one. */
export async function evaluateRouter(
	mode: "first" | "all",
	conditions: readonly string[],
	hasOtherwise: boolean,
	context: StepContext,
): Promise<LogicResult<number[]>> {
	const taken: number[] = [];
	for (const [index, condition] of conditions.entries()) {
		const result = await run(condition, context, `The condition of route ${index + 1}`);
		if (!result.ok) return result;
		if (isTruthy(result.value)) {
			taken.push(index);
			if (mode === "first") break;
		}
	}
	if (taken.length === 0 && hasOtherwise) taken.push(-1);
	return { ok: true, value: taken };
}
