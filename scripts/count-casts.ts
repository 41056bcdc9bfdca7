/**
 * @module
 * Counts the type assertions (`expr as T`; `as const` is not one) in the TypeScript files under a
 * directory, comments and strings blanked first: `node scripts/count-casts.ts [src] [-v]`. A
 * measure for reviews (issue 14 counted them before and after), not a gate.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const files = (dir: string): string[] =>
	readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return files(path);
		return name.endsWith(".ts") ? [path] : [];
	});

/** Comments out, strings and template literals emptied, so their words are not read as code. */
function blank(source: string): string {
	let out = "";
	let i = 0;
	while (i < source.length) {
		const c = source[i] ?? "";
		const next = source[i + 1];
		if (c === "/" && next === "/") {
			while (i < source.length && source[i] !== "\n") i++;
		} else if (c === "/" && next === "*") {
			const end = source.indexOf("*/", i + 2);
			i = end === -1 ? source.length : end + 2;
			out += " ";
		} else if (c === '"' || c === "'" || c === "`") {
			let j = i + 1;
			while (j < source.length && source[j] !== c) j += source[j] === "\\" ? 2 : 1;
			out += c + c;
			i = j + 1;
		} else {
			out += c;
			i++;
		}
	}
	return out;
}

const CAST = /[\w)\]}>"'`]\s+as\s+(?!const\b)[\w{([]/g;
const dir = process.argv[2] ?? "src";
let total = 0;
const perFile: [number, string][] = [];
for (const file of files(dir)) {
	const code = blank(readFileSync(file, "utf8"))
		.split("\n")
		// `import { a as b }` renames are not casts.
		.filter((line) => !/^\s*(import|export)\b.*\bfrom\b/.test(line))
		.join("\n");
	const count = code.match(CAST)?.length ?? 0;
	if (count > 0) perFile.push([count, file]);
	total += count;
}
if (process.argv.includes("-v")) for (const [count, file] of perFile.sort((a, b) => b[0] - a[0])) console.log(count, file);
console.log(total);
