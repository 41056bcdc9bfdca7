/**
 * @module
 * Shortcuts for the commonest expressions, evaluated without JSONata's machinery (an awaited
 * call per node, a new environment per evaluation), which costs more than the work itself in
 * a logic step: a path of plain names (`petstatus`, `$steps.crm.body.id`, `_headers."x-shop-id"`)
 * and the equality of such a path with a literal (`status = "sold"`, `$steps.lookup.found != true`).
 * A shortcut answers exactly what JSONata would, or UNDECIDED when the data leaves the easy case
 * (an array on the way, a function, an object compared): JSONata evaluates it then.
 */

/** The shortcut does not know: evaluate with JSONata. */
export const UNDECIDED: unique symbol = Symbol("undecided");

export type Shortcut = (input: unknown, variables: Record<string, unknown>) => unknown;

interface Node {
	type?: unknown;
	value?: unknown;
	steps?: unknown;
	lhs?: unknown;
	rhs?: unknown;
}

const node = (value: unknown): Node | null => (typeof value === "object" && value !== null ? (value as Node) : null);

/** Only these keys: anything else (predicates, stages, focus, index, group, keepArray, …) has its own semantics. */
const only = (value: Node, keys: readonly string[]) => Object.keys(value).every((key) => keys.includes(key));
const STEP_KEYS = ["type", "value", "position"] as const;

type Path = { root: "input" | string; names: string[] };

function pathOf(ast: unknown): Path | null {
	const path = node(ast);
	if (path?.type !== "path" || !only(path, ["type", "steps", "position"]) || !Array.isArray(path.steps)) return null;
	const steps = path.steps.map(node);
	let root: Path["root"] = "input";
	const names: string[] = [];
	for (const [i, step] of steps.entries()) {
		if (!step || !only(step, STEP_KEYS) || typeof step.value !== "string") return null;
		// `$` (the input) or a variable, first only; `$$` (the root) is left to JSONata.
		if (i === 0 && step.type === "variable" && step.value !== "$") root = step.value === "" ? "input" : step.value;
		else if (step.type === "name") names.push(step.value);
		else return null;
	}
	return { root, names };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === "object" && value !== null && !Array.isArray(value);

/** JSONata's lookup of a name path on plain data: own properties of objects; anything but an object yields nothing. */
function walk(path: Path, input: unknown, variables: Record<string, unknown>): unknown {
	let current: unknown;
	if (path.root === "input") {
		// An array input is a sequence to JSONata (mapped over, flattened): not the easy case.
		if (Array.isArray(input)) return UNDECIDED;
		current = input;
	} else {
		if (!Object.hasOwn(variables, path.root)) return UNDECIDED;
		current = variables[path.root];
	}
	for (const name of path.names) {
		if (Array.isArray(current) || typeof current === "function") return UNDECIDED;
		if (!isPlainObject(current) || !Object.hasOwn(current, name)) return undefined;
		current = current[name];
	}
	// Arrays are sequences (flattened, singletons unwrapped) and functions are callable values: JSONata's.
	if (Array.isArray(current) || typeof current === "function") return UNDECIDED;
	return current;
}

type Operand = { path: Path } | { literal: string | number | boolean | null };

function operandOf(ast: unknown): Operand | null {
	const path = pathOf(ast);
	if (path) return { path };
	const literal = node(ast);
	if (!literal || !only(literal, STEP_KEYS)) return null;
	if (literal.type === "string" && typeof literal.value === "string") return { literal: literal.value };
	if (literal.type === "number" && typeof literal.value === "number") return { literal: literal.value };
	if (literal.type === "value" && (literal.value === true || literal.value === false || literal.value === null))
		return { literal: literal.value };
	return null;
}

function operandValue(operand: Operand, input: unknown, variables: Record<string, unknown>): unknown {
	return "literal" in operand ? operand.literal : walk(operand.path, input, variables);
}

/** The shortcut of an expression's AST, or null when it has none. */
export function shortcutOf(ast: unknown): Shortcut | null {
	const path = pathOf(ast);
	if (path) return (input, variables) => walk(path, input, variables);
	const binary = node(ast);
	if (binary?.type !== "binary" || (binary.value !== "=" && binary.value !== "!=")) return null;
	if (!only(binary, ["type", "value", "position", "lhs", "rhs"])) return null;
	const lhs = operandOf(binary.lhs);
	const rhs = operandOf(binary.rhs);
	if (!lhs || !rhs) return null;
	const equal = binary.value === "=";
	return (input, variables) => {
		const left = operandValue(lhs, input, variables);
		if (left === UNDECIDED) return UNDECIDED;
		const right = operandValue(rhs, input, variables);
		if (right === UNDECIDED) return UNDECIDED;
		// JSONata: nothing on either side is false, for = and != alike.
		if (left === undefined || right === undefined) return false;
		// Objects compare deeply in JSONata: left to it.
		if (typeof left === "object" && left !== null) return UNDECIDED;
		if (typeof right === "object" && right !== null) return UNDECIDED;
		return equal ? left === right : left !== right;
	};
}
