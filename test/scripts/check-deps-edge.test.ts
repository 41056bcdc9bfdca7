import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { edgeViolations, valueImportSpecifiers } from "../../scripts/check-deps.ts";

describe("valueImportSpecifiers", () => {
	it("keeps value imports and drops type-only ones", () => {
		const source = [
			'import { a } from "./a";',
			'import type { B } from "./b";',
			'import { type C, type D } from "./cd";',
			'import { type E, f } from "./ef";',
			'export type { G } from "./g";',
			'export { h } from "./h";',
			'import "./side-effect";',
			'const i = await import("./i");',
		].join("\n");
		expect(valueImportSpecifiers(source)).toEqual(["./a", "./ef", "./h", "./side-effect", "./i"]);
	});
});

describe("edgeViolations", () => {
	let root: string | undefined;
	afterEach(() => {
		if (root) rmSync(root, { recursive: true, force: true });
	});
	const tree = (files: Record<string, string>) => {
		root = mkdtempSync(join(tmpdir(), "check-deps-edge-"));
		for (const [path, source] of Object.entries(files)) {
			mkdirSync(dirname(join(root, path)), { recursive: true });
			writeFileSync(join(root, path), source);
		}
		return root;
	};

	it("names the chain from the edge entry to the admin API", () => {
		const dir = tree({
			"src/edge/index.ts": 'import { handle } from "../hook/ingress";\n',
			"src/hook/ingress.ts": 'import { apiApp } from "../api/app";\nexport const handle = apiApp;\n',
			"src/api/app.ts": "export const apiApp = 1;\n",
		});
		expect(edgeViolations(dir).map((v) => v.message)).toEqual([
			"the edge Worker loads the admin API: src/edge/index.ts → src/hook/ingress.ts → src/api/app.ts",
		]);
	});

	it("refuses zod, JSONata, drizzle and the delivery engine, but not type-only imports or the shared limits", () => {
		const dir = tree({
			"src/edge/index.ts": [
				'import "../hook/ingress";',
				'import type { FlowObject } from "../delivery/flow-object";',
				'import { MAX_INLINE_MESSAGE_BYTES } from "../delivery/limits";',
			].join("\n"),
			"src/hook/ingress.ts": ['import * as z from "zod";', 'import { run } from "../delivery/consumer";'].join("\n"),
			"src/delivery/flow-object.ts": "export class FlowObject {}\n",
			"src/delivery/limits.ts": "export const MAX_INLINE_MESSAGE_BYTES = 1;\n",
			"src/delivery/consumer.ts": "export const run = 1;\n",
		});
		expect(edgeViolations(dir).map((v) => v.message)).toEqual([
			"the edge Worker loads a package the edge does not load: src/edge/index.ts → src/hook/ingress.ts → zod",
			"the edge Worker loads the delivery engine: src/edge/index.ts → src/hook/ingress.ts → src/delivery/consumer.ts",
		]);
	});

	it("accepts the edge Worker as it is", () => {
		expect(edgeViolations(join(import.meta.dirname, "../.."))).toEqual([]);
	});
});
