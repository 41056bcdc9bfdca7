import { afterEach, describe, expect, it } from "vitest";
import {
	applyMapping,
	compileExpression,
	evaluateExpression,
	MAX_EXPRESSION_LENGTH,
	MAX_STRING_CHARS,
	MappingError,
} from "../../src/mapping/evaluate";

const message = { petname: "Gromit", petstatus: "Sold", owner: { name: "Wallace", pets: [1, 2, 3] }, _method: "POST" };

function pollutionMarkers(): unknown[] {
	const probe: Record<string, unknown> = {};
	return [probe.polluted, (Object.prototype as Record<string, unknown>).polluted, probe.isAdmin];
}

afterEach(() => {
	// Keep one test's pollution from hiding in another's.
	delete (Object.prototype as Record<string, unknown>).polluted;
	delete (Object.prototype as Record<string, unknown>).isAdmin;
});

describe("evaluateExpression", () => {
	it("reads a simple path and a nested path", async () => {
		expect(await evaluateExpression("petname", message)).toBe("Gromit");
		expect(await evaluateExpression("owner.name", message)).toBe("Wallace");
		expect(await evaluateExpression("_method", message)).toBe("POST");
	});

	it("evaluates functions and conditionals", async () => {
		expect(await evaluateExpression("$uppercase(petname)", message)).toBe("GROMIT");
		expect(await evaluateExpression('petstatus = "Sold" ? "sold" : "available"', message)).toBe("sold");
		expect(await evaluateExpression('petstatus = "Sold" ? "sold" : "available"', { petstatus: "New" })).toBe("available");
		expect(await evaluateExpression("$sum(owner.pets)", message)).toBe(6);
	});

	it("yields undefined for a missing field", async () => {
		expect(await evaluateExpression("nosuchfield", message)).toBeUndefined();
	});

	it("reports a syntax error as a MappingError with its position", async () => {
		const error = await evaluateExpression("$uppercase(petname", message).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(MappingError);
		expect((error as Error).message).toMatch(/at position \d+$/);
		expect(() => compileExpression('petstatus = "Sold ?')).toThrow(MappingError);
		expect(() => compileExpression("1 +")).toThrow(/at position 3/);
	});

	it("refuses an expression over the length limit", () => {
		expect(() => compileExpression(`"${"a".repeat(MAX_EXPRESSION_LENGTH)}"`)).toThrow(
			new MappingError(`Expression is longer than ${MAX_EXPRESSION_LENGTH} characters`),
		);
		expect(() => compileExpression(`"${"a".repeat(MAX_EXPRESSION_LENGTH - 2)}"`)).not.toThrow();
	});

	it("turns a runtime error into a MappingError", async () => {
		await expect(evaluateExpression('$number("not a number")', message)).rejects.toBeInstanceOf(MappingError);
		await expect(evaluateExpression("petname + 1", message)).rejects.toThrow(MappingError);
	});

	it("stops endless recursion with a MappingError instead of hanging", async () => {
		// A tail call runs in constant stack, so the step budget stops it.
		const tail = await evaluateExpression("($f := function($x){ $f($x) }; $f(1))", {}).catch((e: unknown) => e);
		expect(tail).toBeInstanceOf(MappingError);
		expect((tail as Error).message).toMatch(/exceeded 50000 evaluation steps/);
		// Not a tail call, so it nests deeper and deeper until the depth limit.
		const deep = await evaluateExpression("($f := function($x){ 1 + $f($x) }; $f(1))", {}).catch((e: unknown) => e);
		expect(deep).toBeInstanceOf(MappingError);
		expect((deep as Error).message).toMatch(/Stack overflow/);
	});

	it("stops a huge sequence with a MappingError", async () => {
		await expect(evaluateExpression("[1..10000000]", {})).rejects.toThrow(MappingError);
		await expect(evaluateExpression("$count([1..10000000])", {})).rejects.toThrow(MappingError);
		await expect(evaluateExpression("[1..100000000]", {})).rejects.toThrow(MappingError);
		await expect(evaluateExpression("[1..100001]", {})).rejects.toThrow(MappingError);
		expect(await evaluateExpression("$count([1..100000])", {})).toBe(100000);
	});

	it("names the real sequence limit when a sequence is too long", async () => {
		// The limit is 100000 items; the message must not claim the attempted size is the maximum.
		await expect(evaluateExpression("[1..200000]", {})).rejects.toThrow(/\b100,?000\b/);
	});

	it("stops a long loop over a modest sequence with a MappingError", async () => {
		await expect(evaluateExpression("$sum([1..90000].($ * 2))", {})).rejects.toThrow(/evaluation steps/);
	});

	it("still evaluates moderately sized work", async () => {
		expect(await evaluateExpression("$count([1..50000])", {})).toBe(50000);
		expect(await evaluateExpression("$sum([1..100].($ * 2))", {})).toBe(10100);
	});

	it("gives each evaluation its own step budget", async () => {
		const heavy = "$sum([1..5000].($ * 2))";
		for (let i = 0; i < 20; i++) expect(await evaluateExpression(heavy, {})).toBe(25005000);
		const results = await Promise.all(Array.from({ length: 10 }, () => evaluateExpression(heavy, {})));
		expect(results).toEqual(Array(10).fill(25005000));
	});

	it("does not let __proto__ or constructor in the input reach Object.prototype", async () => {
		const input = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "petname": "Gromit"}');
		expect(await evaluateExpression("__proto__.polluted", input)).toBe("yes");
		expect(await evaluateExpression("constructor.prototype.polluted", input)).toBe("yes");
		await evaluateExpression('$ ~> | __proto__ | {"isAdmin": true} |', input);
		await evaluateExpression('$ ~> | constructor.prototype | {"isAdmin": true} |', input);
		await evaluateExpression("$merge([{}, $])", input);
		expect(pollutionMarkers()).toEqual([undefined, undefined, undefined]);
	});

	it("does not expose inherited properties of plain input", async () => {
		expect(await evaluateExpression("constructor", message)).toBeUndefined();
		expect(await evaluateExpression("__proto__", message)).toBeUndefined();
		expect(await evaluateExpression("petname.length", message)).toBeUndefined();
	});

	it("does not let __proto__ keys built by an expression reach Object.prototype", async () => {
		await evaluateExpression('{"__proto__": {"polluted": "yes"}}', {});
		await evaluateExpression('$merge([{"__proto__": {"polluted": "yes"}}, {"constructor": {"prototype": {"polluted": "yes"}}}])', {});
		await evaluateExpression('{} ~> | $ | {"__proto__": {"polluted": "yes"}} |', {});
		expect(pollutionMarkers()).toEqual([undefined, undefined, undefined]);
	});
});

describe("applyMapping", () => {
	it("maps every field and lower-cases nothing on its own", async () => {
		const result = await applyMapping({ name: "petname", status: "petstatus" }, message);
		expect(result).toEqual({ values: { name: "Gromit", status: "Sold" }, errors: [] });
	});

	it("leaves out a field whose expression yields nothing, and skips blank expressions", async () => {
		const result = await applyMapping({ name: "petname", status: "nosuchfield", id: "   ", tags: "" }, message);
		expect(result.errors).toEqual([]);
		expect(result.values).toEqual({ name: "Gromit" });
		expect(Object.keys(result.values)).toEqual(["name"]);
	});

	it("collects errors per field and still maps the others", async () => {
		const result = await applyMapping({ name: "petname", status: "$uppercase(", id: "($f := function($x){ $f($x) }; $f(1))" }, message);
		expect(result.values).toEqual({ name: "Gromit" });
		expect(result.errors).toHaveLength(2);
		expect(result.errors[0]).toMatch(/^status: .*at position \d+/);
		expect(result.errors[1]).toMatch(/^id: /);
	});

	it("returns plain JSON data for arrays and objects", async () => {
		const result = await applyMapping(
			{ tags: "owner.pets.({'id': $, 'name': 'tag' & $})", category: "owner", photoUrls: "[petname]" },
			message,
		);
		expect(result.values.tags).toEqual([
			{ id: 1, name: "tag1" },
			{ id: 2, name: "tag2" },
			{ id: 3, name: "tag3" },
		]);
		expect(Array.isArray(result.values.tags)).toBe(true);
		expect(JSON.stringify(result.values.tags)).toBe('[{"id":1,"name":"tag1"},{"id":2,"name":"tag2"},{"id":3,"name":"tag3"}]');
		expect(Object.getPrototypeOf(result.values.category)).toBe(Object.prototype);
		expect(result.values.photoUrls).toEqual(["Gromit"]);
	});

	it("keeps a __proto__ key produced by an expression as data, without polluting", async () => {
		const result = await applyMapping({ category: '{"__proto__": {"polluted": "yes"}, "name": "dogs"}' }, {});
		const category = result.values.category as Record<string, unknown>;
		expect(category.name).toBe("dogs");
		expect(Object.hasOwn(category, "__proto__")).toBe(true);
		expect(Object.getPrototypeOf(category)).toBe(Object.prototype);
		expect(pollutionMarkers()).toEqual([undefined, undefined, undefined]);
	});
});

describe("one sandbox for every expression (issue 10)", () => {
	const catastrophic = `"${"a".repeat(44)}!" ~> $eval("/(a+)+$/")`;

	it("attack: $eval with a catastrophically backtracking pattern is refused, named or passed around", async () => {
		for (const source of [
			`$eval('$match("${"a".repeat(44)}!", /(a+)+$/)')`,
			`$match("${"a".repeat(44)}!", $eval("/(a+)+$/"))`,
			catastrophic,
			'($e := $eval; $e("1 + 1"))',
		]) {
			expect(() => compileExpression(source), source).toThrow(/\$eval is not supported in mappings/);
			await expect(evaluateExpression(source, {}), source).rejects.toThrow(MappingError);
		}
	});

	it("attack: $pad past the size cap fails with a message instead of allocating ~800 MB", async () => {
		await expect(evaluateExpression('$pad("", 100000000, "x")', {})).rejects.toThrow(
			`$pad would build a string of 100000000 characters, over the ${MAX_STRING_CHARS}-character limit of a mapping`,
		);
		await expect(evaluateExpression('$pad("", -100000000, "x")', {})).rejects.toThrow(/\$pad would build/);
		expect(await evaluateExpression('$pad("7", -3, "0")', {})).toBe("007");
	});

	it("attack: other allocators hit the cap before they allocate", async () => {
		const attacks = {
			doubling: '($s := "xxxxxxxxxxxxxxxx"; $d := function($s, $n){ $n = 0 ? $s : $d($s & $s, $n - 1) }; $d($s, 30))',
			join: '($big := $pad("", 1000000, "x"); $join([$big, $big, $big, $big, $big]))',
			string: '($big := $pad("", 1000000, "x"); $string([$big, $big, $big, $big, $big]))',
			replace: '($x := $pad("", 100000, "x"); $replace($x, "x", $pad("", 1000, "y")))',
			clone: '($big := $pad("", 1000000, "x"); $clone({"a": $big, "b": $big, "c": $big, "d": $big, "e": $big}))',
			charBudget: '($big := $pad("", 3000000, "x"); [1..10].($big))',
		};
		for (const [name, source] of Object.entries(attacks)) {
			const error = await evaluateExpression(source, {}).catch((e: unknown) => e);
			expect(error, name).toBeInstanceOf(MappingError);
			expect((error as Error).message, name).toMatch(
				name === "doubling" ? /A step would build/ : name === "charBudget" ? /produced more than/ : `$${name} would build`,
			);
		}
	});

	it("still runs the guarded built-ins on ordinary input", async () => {
		expect(await evaluateExpression('$join(["a", "b"], "-")', {})).toBe("a-b");
		expect(await evaluateExpression('$replace("a.b.c", ".", "/")', {})).toBe("a/b/c");
		expect(await evaluateExpression('$string({"a": 1})', {})).toBe('{"a":1}');
		expect(await evaluateExpression('$clone({"a": [1]})', {})).toEqual({ a: [1] });
		// A field as large as the largest message passes through untouched.
		expect(await evaluateExpression("petname", { petname: "p".repeat(1_900_000) })).toHaveLength(1_900_000);
	});
});
