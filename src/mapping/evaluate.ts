/**
 * @module
 * Mappings are JSONata expressions over the hook message, one per action field. One sandbox
 * bounds every evaluation — deliveries and the designer's preview alike — by a step budget, a
 * nesting depth, a sequence length, an item budget, a string size and a budget of characters
 * produced, rather than by wall time, because a Worker's clock does not advance during
 * synchronous work. Regular expressions and `$eval` (which would compile an expression this
 * sandbox never checked) are refused; the built-ins that can allocate a large string in one
 * call ($pad, $join, $replace, $string, $clone) check the size first.
 */
import jsonata from "jsonata";
import { type Shortcut, shortcutOf, UNDECIDED } from "./shortcut";

export const MAX_EXPRESSION_LENGTH = 4096;
const MAX_STEPS = 50_000;
const MAX_DEPTH = 200;
const MAX_SEQUENCE = 100_000;
/** Items of all arrays one evaluation may produce: sequences within the sequence limit can still nest. */
const MAX_ITEMS = 1_000_000;
/** Characters of one string a mapping may build: above the largest stored message (~1.9 MB). */
export const MAX_STRING_CHARS = 4_000_000;
/** Characters all steps of one evaluation may produce (a string counted each time a step yields it): keeps memory far below 128 MB. */
const MAX_CHARS_PRODUCED = 16_000_000;
/** Functions a mapping may not name: they compile expressions the sandbox never checked. */
const REFUSED_FUNCTIONS = ["eval"];
const CACHE_SIZE = 500;
const BUDGET = "__hookflowBudget";

type Expression = ReturnType<typeof jsonata>;
/** An expression compiled once per isolate, with its shortcut when it has one (shortcut.ts). */
interface Compiled {
	expression: Expression;
	shortcut: Shortcut | null;
}
const compiled = new Map<string, Compiled>();

export class MappingError extends Error {}

/** Compiles once per isolate; throws MappingError with the position of a syntax error. */
export function compileExpression(source: string): Expression {
	return compile(source).expression;
}

function compile(source: string): Compiled {
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
	assertNoRefusedFunction(expression.ast());
	const oldest = compiled.keys().next();
	if (compiled.size >= CACHE_SIZE && !oldest.done) compiled.delete(oldest.value);
	const entry = { expression, shortcut: shortcutOf(expression.ast()) };
	compiled.set(source, entry);
	return entry;
}

/** A field of whatever jsonata threw (its errors are plain objects with code, message and position). */
const fieldOf = (error: unknown, name: string): unknown =>
	typeof error === "object" && error !== null ? Reflect.get(error, name) : undefined;

function describeJsonataError(error: unknown): string {
	// jsonata's own message names the attempted length, not the limit.
	if (fieldOf(error, "code") === "D2015") return `Expression built a sequence longer than ${MAX_SEQUENCE} items`;
	const position = fieldOf(error, "position");
	const message = fieldOf(error, "message");
	const where = typeof position === "number" ? ` at position ${position}` : "";
	return `${typeof message === "string" ? message : String(error)}${where}`;
}

interface Budget {
	steps: number;
	items: number;
	chars: number;
}

/** Counts evaluation steps; the budget lives in each evaluation's bindings, so concurrent evaluations of one compiled expression stay independent. */
// Synchronous: jsonata awaits whatever they return, and a plain call costs no promise per evaluation step.
function countStep(_node: unknown, _input: unknown, environment: { lookup(name: string): unknown }): void {
	const budget = environment.lookup(BUDGET) as Budget | undefined;
	if (budget && ++budget.steps > MAX_STEPS) throw new MappingError(`Expression exceeded ${MAX_STEPS} evaluation steps`);
}

/** Counts the items of every array and the characters of every string an evaluation step produced, bounding allocation. */
function countItems(_node: unknown, _input: unknown, environment: { lookup(name: string): unknown }, result: unknown): void {
	const budget = environment.lookup(BUDGET) as Budget | undefined;
	if (!budget) return;
	let chars = 0;
	if (typeof result === "string") {
		if (result.length > MAX_STRING_CHARS) throw tooLong("A step", result.length);
		chars = result.length;
	} else if (Array.isArray(result)) {
		budget.items += result.length;
		if (budget.items > MAX_ITEMS) throw new MappingError(`Expression built more than ${MAX_ITEMS} items`);
		// Shallow: an array repeating one large string is charged for every copy a later step could join.
		for (const item of result) if (typeof item === "string") chars += item.length;
	} else return;
	budget.chars += chars;
	if (budget.chars > MAX_CHARS_PRODUCED) throw new MappingError(`Expression produced more than ${MAX_CHARS_PRODUCED} characters`);
}

/** `chars` undefined: the size is only known to be over the limit. */
function tooLong(what: string, chars?: number): MappingError {
	const size = chars === undefined ? "more than" : `${chars}`;
	return new MappingError(`${what} would build a string of ${size} characters, over the ${MAX_STRING_CHARS}-character limit of a mapping`);
}

/** JSON size of `value` if at most `limit`, else Infinity; iterative, and stops as soon as it is over. */
function jsonSizeWithin(value: unknown, limit: number): number {
	let size = 0;
	const pending: unknown[] = [value];
	while (pending.length > 0) {
		const current = pending.pop();
		if (typeof current === "string") size += current.length + 2;
		else if (Array.isArray(current)) {
			size += current.length + 2;
			pending.push(...current);
		} else if (typeof current === "object" && current !== null) {
			for (const [key, child] of Object.entries(current)) {
				size += key.length + 4;
				pending.push(child);
			}
			size += 2;
		} else size += 24;
		if (size > limit) return Number.POSITIVE_INFINITY;
	}
	return size;
}

/** Upper bound of `$replace`'s result with a plain-text pattern (patterns cannot be regular expressions here). */
function replacedLength(str: string, pattern: string, replacement: unknown, limit: number | undefined): number {
	if (pattern === "") return str.length;
	const growth = (typeof replacement === "string" ? replacement.length : 32) - pattern.length;
	if (growth <= 0) return str.length;
	let count = 0;
	for (let at = str.indexOf(pattern); at !== -1 && (limit === undefined || count < limit); at = str.indexOf(pattern, at + pattern.length)) {
		count++;
		if (str.length + count * growth > MAX_STRING_CHARS) break;
	}
	return str.length + count * growth;
}

type Check = (args: unknown[]) => void;

/** Size checks run before the built-in allocates. */
const SIZE_CHECKS: Record<string, Check> = {
	pad: ([str, width]) => {
		const wanted = Math.abs(Number(width));
		if (wanted > MAX_STRING_CHARS && wanted > String(str ?? "").length) throw tooLong("$pad", wanted);
	},
	join: ([strings, separator]) => {
		if (!Array.isArray(strings)) return;
		let chars = Math.max(0, strings.length - 1) * String(separator ?? "").length;
		for (const item of strings) chars += typeof item === "string" ? item.length : 0;
		if (chars > MAX_STRING_CHARS) throw tooLong("$join", chars);
	},
	replace: ([str, pattern, replacement, limit]) => {
		if (typeof str !== "string" || typeof pattern !== "string") return;
		const chars = replacedLength(str, pattern, replacement, typeof limit === "number" ? limit : undefined);
		if (chars > MAX_STRING_CHARS) throw tooLong("$replace", chars);
	},
	string: ([value]) => {
		if (jsonSizeWithin(value, MAX_STRING_CHARS) > MAX_STRING_CHARS) throw tooLong("$string");
	},
	clone: ([value]) => {
		if (jsonSizeWithin(value, MAX_STRING_CHARS) > MAX_STRING_CHARS) throw tooLong("$clone");
	},
};

interface NativeFunction {
	_jsonata_function: true;
	implementation: (...args: unknown[]) => unknown;
	signature?: unknown;
}

let guardedBuiltins: Promise<Record<string, unknown>> | undefined;

/** The built-ins of SIZE_CHECKS wrapped (same signature, check first), plus refused functions that throw: bound into every evaluation. */
function sandboxBindings(): Promise<Record<string, unknown>> {
	guardedBuiltins ??= (async () => {
		const bindings: Record<string, unknown> = {};
		for (const [name, check] of Object.entries(SIZE_CHECKS)) {
			const original = (await jsonata(`$${name}`).evaluate({})) as NativeFunction;
			bindings[name] = {
				...original,
				implementation(this: unknown, ...args: unknown[]) {
					check(args);
					return original.implementation.apply(this, args);
				},
			} satisfies NativeFunction;
		}
		for (const name of REFUSED_FUNCTIONS) {
			bindings[name] = {
				_jsonata_function: true,
				implementation: () => {
					throw refused(name);
				},
			} satisfies NativeFunction;
		}
		return bindings;
	})();
	return guardedBuiltins;
}

function refused(name: string): MappingError {
	return new MappingError(`$${name} is not supported in mappings: it would evaluate an expression outside the mapping's limits`);
}

/** `$eval` is refused wherever it is named (called, assigned, or chained with ~>). */
function assertNoRefusedFunction(node: unknown): void {
	const pending = [node];
	while (pending.length > 0) {
		const current = pending.pop();
		if (typeof current !== "object" || current === null) continue;
		const value = Reflect.get(current, "value");
		if (Reflect.get(current, "type") === "variable" && typeof value === "string" && REFUSED_FUNCTIONS.includes(value)) throw refused(value);
		pending.push(...Object.values(current));
	}
}

/** Regular expressions are refused: backtracking cannot be bounded by the step budget. */
function assertNoRegex(node: unknown): void {
	const pending = [node];
	while (pending.length > 0) {
		const current = pending.pop();
		if (typeof current !== "object" || current === null) continue;
		if (Reflect.get(current, "type") === "regex") {
			throw new MappingError("Regular expressions are not supported in mappings: their matching time cannot be bounded");
		}
		pending.push(...Object.values(current));
	}
}

/**
 * Variables an expression sees besides `$` (a flow's steps: `$steps`, `$item`, `$index`,
 * `$execution`). Names of the sandbox's own bindings are refused so a variable cannot replace a
 * guarded built-in.
 */
export type ExpressionVariables = Record<string, unknown>;

export async function evaluateExpression(source: string, input: unknown, variables: ExpressionVariables = {}): Promise<unknown> {
	const { expression, shortcut } = compile(source);
	const sandbox = await sandboxBindings();
	for (const name of Object.keys(variables))
		if (name in sandbox || name === BUDGET) throw new MappingError(`$${name} cannot be used as a variable name`);
	if (shortcut) {
		const value = shortcut(input, variables);
		if (value !== UNDECIDED) {
			if (typeof value === "string" && value.length > MAX_STRING_CHARS) throw tooLong("A step", value.length);
			return value;
		}
	}
	try {
		return await expression.evaluate(input, { ...variables, ...sandbox, [BUDGET]: { steps: 0, items: 0, chars: 0 } satisfies Budget });
	} catch (error) {
		if (error instanceof MappingError) throw error;
		throw new MappingError(describeJsonataError(error));
	}
}

export interface MappingResult {
	values: Record<string, unknown>;
	errors: string[];
}

/** Evaluates every field's expression; a field without one, with an empty one, or whose expression yields nothing is left out. */
export async function applyMapping(
	mapping: Record<string, string | undefined>,
	message: unknown,
	variables: ExpressionVariables = {},
): Promise<MappingResult> {
	const values: Record<string, unknown> = {};
	const errors: string[] = [];
	for (const [field, source] of Object.entries(mapping)) {
		if (source === undefined || source.trim() === "") continue;
		try {
			const value = await evaluateExpression(source, message, variables);
			if (value !== undefined) values[field] = normalize(value);
		} catch (error) {
			errors.push(`${field}: ${(error as Error).message}`);
		}
	}
	return { values, errors };
}

/** JSONata returns sequences with extra markers; JSON round-trip yields plain data. */
export function normalize(value: unknown): unknown {
	return typeof value === "object" && value !== null ? JSON.parse(JSON.stringify(value)) : value;
}

/**
 * The ids an expression reads under `$steps` (`$steps.crm.body` → `crm`), so publishing can check
 * each is an earlier step on the way. `$steps` used whole (`$keys($steps)`) names no id.
 */
export function referencedStepIds(source: string): string[] {
	const ids = new Set<string>();
	const pending: unknown[] = [compileExpression(source).ast()];
	while (pending.length > 0) {
		const current = pending.pop();
		if (typeof current !== "object" || current === null) continue;
		if (Reflect.get(current, "type") === "path") {
			const steps = Reflect.get(current, "steps") as unknown[] | undefined;
			const [first, second] = steps ?? [];
			if (isNode(first, "variable", "steps") && isNode(second, "name")) ids.add(String(Reflect.get(second as object, "value")));
		}
		pending.push(...Object.values(current));
	}
	return [...ids];
}

function isNode(node: unknown, type: string, value?: string): boolean {
	if (typeof node !== "object" || node === null) return false;
	return Reflect.get(node, "type") === type && (value === undefined || Reflect.get(node, "value") === value);
}
