/**
 * @module The designer's third-party browser files, made from node_modules into public/vendor/.
 *
 * The designer has no build step and loads nothing from other origins, so uPlot's files are
 * committed under a versioned name (`uplot-<version>.js`, `.css`): what is deployed is what was
 * reviewed, a checkout serves the designer without an install step, and a new version gets a new
 * URL. `npm run vendor` rewrites them after `npm install uplot@…`; test/e2e/designer-assets.test.ts
 * fails while they differ from what this produces from node_modules.
 *
 * The JS is uPlot's own minified build (22 KB gzip; its ESM build is not minified, 42 KB) with an
 * `export default` appended, so the designer imports it as an ES module.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const vendorDir = join(root, "public", "vendor");

/** File name (in public/vendor/) → contents, made from the installed uplot package. */
export function vendoredAssets(modules = join(root, "node_modules")): Map<string, string> {
	const dist = join(modules, "uplot", "dist");
	const { version } = JSON.parse(readFileSync(join(modules, "uplot", "package.json"), "utf8")) as { version: string };
	// Made by `npm run vendor`: not to be edited by hand.
	const banner = `/*! uPlot ${version} (c) Leon Sorokin, MIT License */\n`;
	// The IIFE assigns `var uPlot`; in a module that is a module-scoped binding, exported as default.
	const js = readFileSync(join(dist, "uPlot.iife.min.js"), "utf8").replace(/^\/\*![^\n]*\*\/\n/, "");
	const css = readFileSync(join(dist, "uPlot.min.css"), "utf8");
	return new Map([
		[`uplot-${version}.js`, `${banner}${js.trimEnd()}\nexport default uPlot;\n`],
		[`uplot-${version}.css`, `${banner}${css.trimEnd()}\n`],
	]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const assets = vendoredAssets();
	// Older versions go, so public/ only ever serves the installed one.
	if (existsSync(vendorDir)) {
		for (const name of readdirSync(vendorDir)) if (name.startsWith("uplot-") && !assets.has(name)) rmSync(join(vendorDir, name));
	}
	for (const [name, contents] of assets) writeFileSync(join(vendorDir, name), contents);
	console.log(`public/vendor: ${[...assets.keys()].join(", ")}`);
}
