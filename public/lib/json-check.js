/**
 * @module
 * Parses a hand-written sample; when it is malformed, says what is wrong at which line and
 * column (JSON.parse messages differ between browsers and often omit the position).
 */

/** @typedef {{ pos: number, what: string }} JsonProblem */

/**
 * @param {string} text
 * @returns {{ value: Record<string, unknown>, error?: undefined } | { error: string, pos: number }}
 */
export function parseSample(text) {
	if (!text.trim()) return { error: 'Enter a JSON object, for example {"petname": "Gromit"}.', pos: 0 };
	let value;
	try {
		value = JSON.parse(text);
	} catch (error) {
		const found = locate(text) ?? { pos: text.length, what: error instanceof Error ? error.message : String(error) };
		const before = text.slice(0, found.pos).split("\n");
		return { error: `Line ${before.length}, column ${(before.at(-1) ?? "").length + 1}: ${found.what}`, pos: found.pos };
	}
	if (value === null || typeof value !== "object" || Array.isArray(value)) {
		return { error: 'The sample must be a JSON object, for example {"petname": "Gromit"}.', pos: 0 };
	}
	return { value };
}

/**
 * A minimal JSON scanner that returns the first error as {pos, what}, or null when valid.
 * @param {string} text
 * @returns {JsonProblem | null}
 */
function locate(text) {
	let i = 0;
	/**
	 * @param {string} what
	 * @returns {never}
	 */
	function fail(what) {
		throw new JsonSyntaxProblem({ pos: i, what });
	}
	const space = () => {
		while (i < text.length && " \t\n\r".includes(text[i] ?? "")) i++;
	};
	const string = () => {
		i++;
		for (;;) {
			const c = text[i];
			if (c === undefined || c === "\n") fail("The string is not closed with a double quote.");
			if (c === '"') return void i++;
			if (c < " ") fail("Control characters must be escaped inside strings.");
			if (c === "\\") {
				if (!/^(["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(text.slice(i + 1, i + 6))) fail("Invalid escape sequence.");
				i += text[i + 1] === "u" ? 6 : 2;
			} else i++;
		}
	};
	/**
	 * @param {string} close
	 * @param {() => void} item
	 */
	const list = (close, item) => {
		i++;
		space();
		if (text[i] === close) return void i++;
		for (;;) {
			item();
			space();
			if (text[i] === ",") {
				i++;
				continue;
			}
			if (text[i] === close) return void i++;
			fail(`Expected ',' or '${close}'.`);
		}
	};
	const value = () => {
		space();
		const c = text[i];
		if (c === "{") {
			return list("}", () => {
				space();
				if (text[i] !== '"') fail("Expected a property name in double quotes.");
				string();
				space();
				if (text[i] !== ":") fail("Expected ':' after the property name.");
				i++;
				value();
			});
		}
		if (c === "[") return list("]", value);
		if (c === '"') return string();
		const literal = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
		if (literal) {
			i += literal[0].length;
			return;
		}
		fail(c === undefined ? "The JSON ends too early." : `Unexpected character ${JSON.stringify(c)}.`);
	};
	try {
		value();
		space();
		if (i < text.length) fail("Unexpected text after the end of the JSON value.");
		return null;
	} catch (error) {
		if (error instanceof JsonSyntaxProblem) return error.problem;
		throw error;
	}
}

/** What the scanner throws to stop at the first problem; anything else is a bug and goes on up. */
class JsonSyntaxProblem {
	/** @param {JsonProblem} problem */
	constructor(problem) {
		this.problem = problem;
	}
}
