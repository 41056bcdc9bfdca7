import { describe, expect, it } from "vitest";
import { findViolations, type Import, importSpecifiers } from "../../scripts/check-deps.ts";

describe("importSpecifiers", () => {
	it("finds static, multi-line, type-only, re-exported and dynamic imports with their lines", () => {
		const source = [
			'import { a } from "./a";',
			"import type { B } from './b';",
			"import {",
			"\tc,",
			"\ttype D,",
			'} from "../c";',
			'export { e } from "./e";',
			'export * from "./f";',
			'const g = await import("./g");',
			'type H = import("./h").H;',
			'import "./side-effect";',
		].join("\n");
		expect(importSpecifiers(source)).toEqual([
			{ specifier: "./a", line: 1 },
			{ specifier: "./b", line: 2 },
			{ specifier: "../c", line: 6 },
			{ specifier: "./e", line: 7 },
			{ specifier: "./f", line: 8 },
			{ specifier: "./g", line: 9 },
			{ specifier: "./h", line: 10 },
			{ specifier: "./side-effect", line: 11 },
		]);
	});

	it("ignores imports inside comments and template literals", () => {
		const source = ['// import { x } from "./commented";', '/* import("./block") */', 'const t = `import y from "./template"`;'].join("\n");
		expect(importSpecifiers(source)).toEqual([]);
	});
});

describe("findViolations", () => {
	const edge = (from: string, to: string): Import => ({ from, to, line: 1 });
	const kinds = (files: string[], imports: Import[]) => findViolations(files, imports).map((v) => v.kind);

	it("accepts imports of the same area and of areas to the right", () => {
		const files = ["src/index.ts", "src/app.ts", "src/hook/ingress.ts", "src/flows/definition.ts", "src/crypto/seal.ts", "src/log.ts"];
		const imports = [
			edge("src/index.ts", "src/app.ts"),
			edge("src/app.ts", "src/hook/ingress.ts"),
			edge("src/hook/ingress.ts", "src/flows/definition.ts"),
			edge("src/flows/definition.ts", "src/crypto/seal.ts"),
			edge("src/crypto/seal.ts", "src/log.ts"),
		];
		expect(findViolations(files, imports)).toEqual([]);
	});

	it("reports an upward import with both files and both areas", () => {
		const [violation] = findViolations(
			["src/components/webhook.ts", "src/hook/auth/hmac.ts"],
			[edge("src/components/webhook.ts", "src/hook/auth/hmac.ts")],
		);
		expect(violation).toEqual({
			kind: "upward import",
			message: "src/components/webhook.ts:1 imports src/hook/auth/hmac.ts: components may not import hook, which is above it",
		});
	});

	it("reports areas of one rank that import each other, with every edge between them", () => {
		const violations = findViolations(
			["src/hook/ingress.ts", "src/delivery/consumer.ts", "src/delivery/limits.ts"],
			[edge("src/hook/ingress.ts", "src/delivery/limits.ts"), edge("src/delivery/consumer.ts", "src/hook/ingress.ts")],
		);
		expect(violations.map((v) => v.kind)).toEqual(["area cycle"]);
		expect(violations[0]?.message).toContain("src/hook/ingress.ts:1 → src/delivery/limits.ts");
		expect(violations[0]?.message).toContain("src/delivery/consumer.ts:1 → src/hook/ingress.ts");
	});

	it("allows one-way imports between areas of one rank", () => {
		expect(kinds(["src/api/flows.ts", "src/hook/config-cache.ts"], [edge("src/api/flows.ts", "src/hook/config-cache.ts")])).toEqual([]);
	});

	it("reports a cycle between files of one area, type-only ones included", () => {
		const files = ["src/components/webhook.ts", "src/components/webhook-verifier.ts"];
		expect(kinds(files, [edge(files[0] ?? "", files[1] ?? ""), edge(files[1] ?? "", files[0] ?? "")])).toEqual(["file cycle"]);
	});

	it("reports a file that belongs to no area", () => {
		expect(kinds(["src/helpers/misc.ts"], [])).toEqual(["outside the rule"]);
	});
});
