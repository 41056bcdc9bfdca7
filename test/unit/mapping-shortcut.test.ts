import jsonata from "jsonata";
import { describe, expect, it } from "vitest";
import { evaluateExpression } from "../../src/mapping/evaluate";
import { shortcutOf, UNDECIDED } from "../../src/mapping/shortcut";

// The shortcuts must answer exactly what JSONata answers: each case is evaluated both ways.
const message = {
	petname: "Gromit",
	petstatus: "sold",
	count: 3,
	zero: 0,
	flag: false,
	none: null,
	owner: { name: "Wallace", pets: [1, 2, 3], address: { city: "Wigan" } },
	lines: [{ sku: "a" }, { sku: "b" }],
	one: [{ sku: "only" }],
	"x-shop-id": "shop-1",
	_headers: { "x-shop-id": "shop-7" },
	text: "plain",
};
const variables = {
	steps: { shape: { name: "Gromit-1", status: "sold", tags: ["a"] }, only_sold: true, crm: { body: { tier: "gold", items: [] } } },
	execution: { id: "e1", flowId: "f1", version: 2, receivedAt: "2026-12-04T00:00:00.000Z" },
	item: { sku: "z" },
	index: 0,
};

const SHORTCUT = [
	"petname",
	"owner.name",
	"owner.address.city",
	"owner.nosuch.city",
	"nosuch",
	"owner.pets",
	"lines.sku",
	"one.sku",
	"text.length",
	"count",
	"zero",
	"flag",
	"none",
	"none.a",
	"`x-shop-id`",
	'_headers."x-shop-id"',
	"$.petname",
	"$steps.shape.name",
	"$steps.shape.tags",
	"$steps.only_sold",
	"$steps.crm.body.tier",
	"$steps.crm.body.items",
	"$steps.nosuch.x",
	"$execution.version",
	"$item.sku",
	"$nosuch.a",
	"constructor",
	"__proto__",
	"owner.toString",
	'petstatus = "sold"',
	'petstatus != "sold"',
	'petstatus = "Sold"',
	'"sold" = petstatus',
	'nosuch = "x"',
	'nosuch != "x"',
	"count = 3",
	'count = "3"',
	"zero = 0",
	"flag = false",
	"none = null",
	"owner = null",
	"owner.pets = 1",
	"$steps.only_sold = true",
	"$steps.only_sold != true",
	"$steps.crm.body.tier = $steps.shape.status",
	"petname = $steps.shape.name",
	'$steps.shape.tags = "a"',
	'lines.sku = "a"',
] as const;

const NONE = [
	"$index",
	"$$.petname",
	"owner.pets[0]",
	"lines[sku='a']",
	"petname & 'x'",
	"$uppercase(petname)",
	"lines.sku[]",
	"$",
	"owner.*",
	'petstatus > "a"',
];

describe("expression shortcuts", () => {
	it.each(SHORTCUT)("%s: the same as JSONata", async (source) => {
		expect(shortcutOf(jsonata(source).ast())).not.toBeNull();
		const expected = await jsonata(source).evaluate(message, variables);
		const actual = await evaluateExpression(source, message, variables);
		expect(JSON.stringify(actual) ?? "undefined").toBe(JSON.stringify(expected) ?? "undefined");
		expect(actual === undefined).toBe(expected === undefined);
	});

	it("answers the easy cases itself and leaves arrays and objects to JSONata", () => {
		const run = (source: string) => shortcutOf(jsonata(source).ast())?.(message, variables);
		expect(run("owner.address.city")).toBe("Wigan");
		expect(run('petstatus = "sold"')).toBe(true);
		expect(run("owner.pets")).toBe(UNDECIDED);
		expect(run("lines.sku")).toBe(UNDECIDED);
		expect(run("owner = null")).toBe(UNDECIDED);
		expect(shortcutOf(jsonata("petname").ast())?.([message], variables)).toBe(UNDECIDED);
	});

	it.each(NONE)("%s: no shortcut", (source) => {
		expect(shortcutOf(jsonata(source).ast())).toBeNull();
	});

	it("an array input is JSONata's sequence, not the easy case", async () => {
		const input = [{ a: 1 }, { a: 2 }];
		expect(JSON.stringify(await evaluateExpression("a", input))).toBe(JSON.stringify(await jsonata("a").evaluate(input)));
	});
});
