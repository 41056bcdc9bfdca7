import jsonata from "jsonata";

/**
 * Mappings are JSONata expressions over the hook message, one per action field. Evaluation is
 * bounded by a step budget, a nesting depth and a sequence length rather than wall time,
 * because a Worker's clock does not advance during synchronous work.
 */

export const MAX_EXPRESSION_LENGTH = 4096;
const MAX_STEPS = 50_000;
const MAX_DEPTH = 200;
const MAX_SEQUENCE = 100_000;
/** Items of all arrays one evaluation may produce: sequences within the sequence limit can still nest. */
const MAX_ITEMS = 1_000_000;
const CACHE_SIZE = 500;
const BUDGET = "__hookflowBudget";

type Expression = ReturnType<typeof jsonata>;
const compiled = new Map<string, Expression>();

export class MappingError extends Error {}

/** Compiles once per isolate; throws MappingError with the position of a syntax error. */
export function compileExpression(source: string): Expression {
	const cached = compiled.get(source);
	if (cached) return cached;
	if (source.length > MAX_EXPRESSION_LENGTH) throw new MappingError(`Expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
	let expression: Expression;
	try {
		// stack and sequence are jsonata's own guards against deep recursion and huge arrays.
		expression = jsonata(source, { stack: MAX_DEPTH, sequence: MAX_SEQUENCE });
		expression.assign(Symbol.for("jsonata.__evaluate_entry") as unknown as string, countStep);
		expression.assign(Symbol.for("jsonata.__evaluate_exit") as unknown as string, countItems);
	} catch (error) {
		throw new MappingError(describeJsonataError(error));
	}
	assertNoRegex(expression.ast());
	if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
	compiled.set(source, expression);
	return expression;
}

function describeJsonataError(error: unknown): string {
	const e = error as { message?: string; position?: number; code?: string };
	// jsonata's own message names the attempted length, not the limit.
	if (e.code === "D2015") return `Expression built a sequence longer than ${MAX_SEQUENCE} items`;
	const where = typeof e.position === "number" ? ` at position ${e.position}` : "";
	return `${e.message ?? String(error)}${where}`;
}

interface Budget {
	steps: number;
	items: number;
}

/** Counts evaluation steps; the budget lives in each evaluation's bindings, so concurrent evaluations of one compiled expression stay independent. */
async function countStep(_node: unknown, _input: unknown, environment: { lookup(name: string): unknown }): Promise<void> {
	const budget = environment.lookup(BUDGET) as Budget | undefined;
	if (budget && ++budget.steps > MAX_STEPS) throw new MappingError(`Expression exceeded ${MAX_STEPS} evaluation steps`);
}

/** Counts the items of every array an evaluation step produced, bounding allocation. */
async function countItems(_node: unknown, _input: unknown, environment: { lookup(name: string): unknown }, result: unknown): Promise<void> {
	if (!Array.isArray(result)) return;
	const budget = environment.lookup(BUDGET) as Budget | undefined;
	if (!budget) return;
	budget.items += result.length;
	if (budget.items > MAX_ITEMS) throw new MappingError(`Expression built more than ${MAX_ITEMS} items`);
}

/** Regular expressions are refused: backtracking cannot be bounded by the step budget. */
function assertNoRegex(node: unknown): void {
	const pending = [node];
	while (pending.length > 0) {
		const current = pending.pop();
		if (typeof current !== "object" || current === null) continue;
		if ((current as { type?: string }).type === "regex") {
			throw new MappingError("Regular expressions are not supported in mappings: their matching time cannot be bounded");
		}
		pending.push(...Object.values(current));
	}
}

export async function evaluateExpression(source: string, input: unknown): Promise<unknown> {
	const expression = compileExpression(source);
	try {
		return await expression.evaluate(input, { [BUDGET]: { steps: 0, items: 0 } satisfies Budget });
	} catch (error) {
		if (error instanceof MappingError) throw error;
		throw new MappingError(describeJsonataError(error));
	}
}

export interface MappingResult {
	values: Record<string, unknown>;
	errors: string[];
}

/** Evaluates every field; a field whose expression yields nothing is left out. */
export async function applyMapping(mapping: Record<string, string>, message: unknown): Promise<MappingResult> {
	const values: Record<string, unknown> = {};
	const errors: string[] = [];
	for (const [field, source] of Object.entries(mapping)) {
		if (source.trim() === "") continue;
		try {
			const value = await evaluateExpression(source, message);
			if (value !== undefined) values[field] = normalize(value);
		} catch (error) {
			errors.push(`${field}: ${(error as Error).message}`);
		}
	}
	return { values, errors };
}

/** JSONata returns sequences with extra markers; JSON round-trip yields plain data. */
function normalize(value: unknown): unknown {
	return typeof value === "object" && value !== null ? JSON.parse(JSON.stringify(value)) : value;
}
