/**
 * @module
 * The dependency rule of `src/`, checked over every TypeScript import (type-only and dynamic ones
 * included; run by `npm run check`):
 *
 *   index → app → api | hook | delivery | ops → flows → components → mapping | db | crypto | log
 *
 * A file may import its own area and any area to the right of it. It fails on
 * - an upward import: an area importing one to its left (`components` → `hook`);
 * - a cycle between areas of the same rank (`hook` → `delivery` → `hook`);
 * - a cycle between files (`webhook.ts` → `webhook-verifier.ts` → `webhook.ts`);
 * - a file in `src/` that belongs to no area, so the rule cannot be silently outgrown.
 *
 * And the edge Worker's rule (issue 20): what `src/edge/index.ts` loads, following value imports
 * (type-only ones leave nothing in the bundle), holds no admin API, designer, delivery engine, ops,
 * mapping, zod, JSONata or drizzle — see EDGE_FORBIDDEN.
 *
 * TypeScript 7 has no JavaScript compiler API, so imports are read with a small scanner that skips
 * comments and strings; every specifier it finds must resolve to a file, or the check fails too.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The rule, left to right. Areas in one inner list have the same rank. */
export const LAYERS: readonly (readonly string[])[] = [
	["index", "edge"],
	["app"],
	["api", "hook", "delivery", "ops"],
	["flows"],
	["components"],
	["mapping", "db", "crypto", "log"],
];

export const RULE_TEXT = LAYERS.map((layer) => layer.join(" | ")).join(" → ");

export interface Import {
	/** The importing file, relative to the repository root (`src/hook/ingress.ts`). */
	from: string;
	/** The imported file, relative to the repository root. */
	to: string;
	line: number;
}

export interface Violation {
	kind: "upward import" | "area cycle" | "file cycle" | "outside the rule" | "unresolved import" | "edge import";
	message: string;
}

/** The area of a file under `src/`: its top directory, or its own name for a root file. */
export function areaOf(file: string): string | undefined {
	const parts = file.split("/");
	if (parts[0] !== "src" || parts.length < 2) return undefined;
	if (parts.length > 2) return parts[1];
	return (parts[1] ?? "").replace(/\.tsx?$/, "");
}

export function rankOf(area: string): number | undefined {
	const rank = LAYERS.findIndex((layer) => layer.includes(area));
	return rank === -1 ? undefined : rank;
}

/** Removes comments and the contents of strings other than import specifiers, keeping line breaks. */
function blankCommentsAndTemplates(source: string): string {
	let out = "";
	let i = 0;
	while (i < source.length) {
		const c = source[i];
		const next = source[i + 1];
		if (c === "/" && next === "/") {
			while (i < source.length && source[i] !== "\n") i++;
		} else if (c === "/" && next === "*") {
			const end = source.indexOf("*/", i + 2);
			const stop = end === -1 ? source.length : end + 2;
			out += source.slice(i, stop).replace(/[^\n]/g, " ");
			i = stop;
		} else if (c === "`") {
			// Template literals never hold an import; blank them so text like `import x from "y"` in one is not read as one.
			let j = i + 1;
			while (j < source.length && source[j] !== "`") j += source[j] === "\\" ? 2 : 1;
			out += `\`${source.slice(i + 1, j).replace(/[^\n]/g, " ")}\``;
			i = j + 1;
		} else if (c === '"' || c === "'") {
			let j = i + 1;
			while (j < source.length && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
			out += source.slice(i, j + 1);
			i = j + 1;
		} else {
			out += c;
			i++;
		}
	}
	return out;
}

const STATIC_IMPORT = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[\w$*{},\s]+?\s+from\s+)?["']([^"'\n]+)["']/g;
const DYNAMIC_IMPORT = /\bimport\s*\(\s*["']([^"'\n]+)["']\s*\)/g;

/** The module specifiers a TypeScript source imports, with their 1-based line numbers. */
export function importSpecifiers(source: string): { specifier: string; line: number }[] {
	const code = blankCommentsAndTemplates(source);
	const found: { specifier: string; line: number; index: number }[] = [];
	for (const pattern of [STATIC_IMPORT, DYNAMIC_IMPORT]) {
		for (const match of code.matchAll(pattern)) {
			const specifier = match[1] ?? "";
			const index = match.index + match[0].lastIndexOf(specifier);
			found.push({ specifier, index, line: code.slice(0, index).split("\n").length });
		}
	}
	return found.sort((a, b) => a.index - b.index).map(({ specifier, line }) => ({ specifier, line }));
}

/** Every violation of the rule in a set of imports between files of `src/`. */
export function findViolations(files: readonly string[], imports: readonly Import[]): Violation[] {
	const violations: Violation[] = [];
	for (const file of files) {
		const area = areaOf(file);
		if (area === undefined || rankOf(area) === undefined) {
			violations.push({
				kind: "outside the rule",
				message: `${file} is in no area of the rule: move it into one, or add its area to LAYERS in scripts/check-deps.ts`,
			});
		}
	}
	const sameRankEdges: Import[] = [];
	for (const edge of imports) {
		const fromArea = areaOf(edge.from);
		const toArea = areaOf(edge.to);
		if (fromArea === undefined || toArea === undefined || fromArea === toArea) continue;
		const fromRank = rankOf(fromArea);
		const toRank = rankOf(toArea);
		if (fromRank === undefined || toRank === undefined) continue;
		if (toRank < fromRank) {
			violations.push({
				kind: "upward import",
				message: `${edge.from}:${edge.line} imports ${edge.to}: ${fromArea} may not import ${toArea}, which is above it`,
			});
		} else if (toRank === fromRank) {
			sameRankEdges.push(edge);
		}
	}

	// Areas of one rank may use each other, but only one way.
	for (const cycle of stronglyConnected(sameRankEdges.map((edge) => [areaOf(edge.from) ?? "", areaOf(edge.to) ?? ""]))) {
		const inside = sameRankEdges.filter((edge) => cycle.has(areaOf(edge.from) ?? "") && cycle.has(areaOf(edge.to) ?? ""));
		violations.push({
			kind: "area cycle",
			message: `${[...cycle].join(" ⇄ ")} import each other; one of them must stop:\n${inside.map(edgeLine).join("\n")}`,
		});
	}
	for (const cycle of stronglyConnected(imports.map((edge) => [edge.from, edge.to]))) {
		const inside = imports.filter((edge) => cycle.has(edge.from) && cycle.has(edge.to));
		violations.push({
			kind: "file cycle",
			message: `${[...cycle].join(" ⇄ ")} import each other (directly or through each other):\n${inside.map(edgeLine).join("\n")}`,
		});
	}
	return violations;
}

const edgeLine = (edge: Import) => `    ${edge.from}:${edge.line} → ${edge.to}`;

/** The strongly connected components with more than one node (Tarjan), each a cycle. */
function stronglyConnected(edges: readonly (readonly [string, string])[]): Set<string>[] {
	const next = new Map<string, string[]>();
	for (const [from, to] of edges) {
		if (from === to) continue;
		next.set(from, [...(next.get(from) ?? []), to]);
		if (!next.has(to)) next.set(to, []);
	}
	const index = new Map<string, number>();
	const low = new Map<string, number>();
	const stack: string[] = [];
	const onStack = new Set<string>();
	const components: Set<string>[] = [];
	const visit = (node: string) => {
		index.set(node, index.size);
		low.set(node, index.get(node) ?? 0);
		stack.push(node);
		onStack.add(node);
		for (const to of next.get(node) ?? []) {
			if (!index.has(to)) {
				visit(to);
				low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
			} else if (onStack.has(to)) {
				low.set(node, Math.min(low.get(node) ?? 0, index.get(to) ?? 0));
			}
		}
		if (low.get(node) === index.get(node)) {
			const component = new Set<string>();
			for (;;) {
				const member = stack.pop();
				if (member === undefined) break;
				onStack.delete(member);
				component.add(member);
				if (member === node) break;
			}
			if (component.size > 1) components.push(component);
		}
	};
	for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node);
	return components;
}

function sourceFiles(root: string, dir: string): string[] {
	return readdirSync(join(root, dir))
		.sort()
		.flatMap((name) => {
			const path = `${dir}/${name}`;
			if (statSync(join(root, path)).isDirectory()) return sourceFiles(root, path);
			return /\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
		});
}

/** The file a relative specifier names, the way the bundler resolves it (extension optional, or an index file). */
function resolveSpecifier(root: string, from: string, specifier: string): string | undefined {
	const base = resolve(root, dirname(from), specifier);
	for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")]) {
		if (existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate);
	}
	return undefined;
}

/** The edge Worker's entry; what it loads must stay within the ingress (wrangler.edge.toml). */
export const EDGE_ENTRY = "src/edge/index.ts";

/** What the edge Worker may not load, each with the reason a reader of a violation needs. */
export const EDGE_FORBIDDEN: readonly { test: (target: string) => boolean; what: string }[] = [
	{ test: (t) => t.startsWith("src/api/"), what: "the admin API" },
	{ test: (t) => t.startsWith("src/ops/"), what: "ops (alerts, replay jobs, retention)" },
	// limits.ts is the size limits the hook and delivery share: constants, no code.
	{ test: (t) => t.startsWith("src/delivery/") && t !== "src/delivery/limits.ts", what: "the delivery engine" },
	{ test: (t) => t.startsWith("src/mapping/"), what: "the JSONata mapping" },
	{ test: (t) => t === "src/app.ts" || t === "src/index.ts", what: "the control Worker's entry" },
	{ test: (t) => t === "src/db/schema.ts" || t === "src/db/client.ts", what: "drizzle's tables (use plain SQL on the binding)" },
	{ test: (t) => /^(zod|jsonata|drizzle-orm|@hono\/zod-validator)(\/|$)/.test(t), what: "a package the edge does not load" },
];

const IMPORT_CLAUSE = /(?:^|[\s;}])(import|export)\s+(type\s+)?(?:([\w$*{},\s]+?)\s+from\s+)?["']([^"'\n]+)["']/g;

/** The specifiers a source imports for their values: `import type`, `export type` and all-`type` lists leave nothing at run time. */
export function valueImportSpecifiers(source: string): string[] {
	const code = blankCommentsAndTemplates(source);
	const found: string[] = [];
	for (const match of code.matchAll(IMPORT_CLAUSE)) {
		const [, , typeKeyword, clause, specifier = ""] = match;
		if (typeKeyword) continue;
		const members = clause?.trim().match(/^\{([^}]*)\}$/)?.[1];
		const names = members
			?.split(",")
			.map((m) => m.trim())
			.filter(Boolean);
		if (names && names.length > 0 && names.every((name) => name.startsWith("type "))) continue;
		found.push(specifier);
	}
	// A dynamic import loads code too (there is none on the ingress path today: keep it so).
	for (const match of code.matchAll(DYNAMIC_IMPORT)) found.push(match[1] ?? "");
	return found;
}

/** Every forbidden module the edge entry reaches through value imports, with the chain that reaches it. */
export function edgeViolations(root: string): Violation[] {
	const violations: Violation[] = [];
	const via = new Map<string, string>([[EDGE_ENTRY, ""]]);
	const pending = [EDGE_ENTRY];
	const chain = (file: string): string[] => (file === EDGE_ENTRY ? [file] : [...chain(via.get(file) ?? EDGE_ENTRY), file]);
	for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
		if (!existsSync(join(root, file))) continue;
		for (const specifier of valueImportSpecifiers(readFileSync(join(root, file), "utf8"))) {
			const target = specifier.startsWith(".") ? resolveSpecifier(root, file, specifier) : specifier;
			if (target === undefined) continue; // reported by checkTree
			const forbidden = EDGE_FORBIDDEN.find((rule) => rule.test(target));
			if (forbidden) {
				violations.push({
					kind: "edge import",
					message: `the edge Worker loads ${forbidden.what}: ${[...chain(file), target].join(" → ")}`,
				});
			} else if (target.startsWith("src/") && !via.has(target)) {
				via.set(target, file);
				pending.push(target);
			}
		}
	}
	return violations;
}

/** Reads `src/` under `root` and checks it. */
export function checkTree(root: string): { files: string[]; imports: Import[]; violations: Violation[] } {
	const files = sourceFiles(root, "src");
	const imports: Import[] = [];
	const violations: Violation[] = [];
	for (const from of files) {
		for (const { specifier, line } of importSpecifiers(readFileSync(join(root, from), "utf8"))) {
			if (!specifier.startsWith(".")) continue; // packages and cloudflare: modules
			const to = resolveSpecifier(root, from, specifier);
			if (to === undefined)
				violations.push({ kind: "unresolved import", message: `${from}:${line} imports "${specifier}", which is no file` });
			else if (to.startsWith("src/")) imports.push({ from, to, line });
			else violations.push({ kind: "upward import", message: `${from}:${line} imports ${to}, which is outside src/` });
		}
	}
	return { files, imports, violations: [...violations, ...findViolations(files, imports), ...edgeViolations(root)] };
}

if (import.meta.main) {
	const root = fileURLToPath(new URL("..", import.meta.url));
	const { files, imports, violations } = checkTree(root);
	if (violations.length === 0) {
		console.log(
			`check-deps: ${files.length} files, ${imports.length} imports follow ${RULE_TEXT}; the edge Worker loads none of the admin API, ops, delivery, mapping, zod, JSONata or drizzle`,
		);
	} else {
		console.error(`check-deps: ${violations.length} violation(s) of the dependency rule\n  ${RULE_TEXT}\n`);
		for (const violation of violations) console.error(`✗ ${violation.kind}: ${violation.message}`);
		process.exitCode = 1;
	}
}
