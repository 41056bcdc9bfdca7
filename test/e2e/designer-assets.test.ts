// The designer's static files: the vendored uPlot is exactly what node_modules holds, and the
// whole designer stays within its transfer budget.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { vendorDir, vendoredAssets } from "../../scripts/vendor-assets.ts";

const publicDir = fileURLToPath(new URL("../../public", import.meta.url));
/** What a first visit may transfer: every file in public/, each gzipped as a server would send it. */
const BUDGET_BYTES = 60 * 1024;

function files(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? files(path) : [path];
	});
}

describe("designer assets", () => {
	it("serves the installed uPlot, made by npm run vendor", () => {
		const expected = vendoredAssets();
		expect(readdirSync(vendorDir).sort()).toEqual([...expected.keys()].sort());
		for (const [name, contents] of expected) {
			expect(readFileSync(join(vendorDir, name), "utf8"), `public/vendor/${name} differs: run npm run vendor`).toBe(contents);
		}
		// The views load the same versioned files.
		const base = [...expected.keys()][0]?.replace(/\.\w+$/, "");
		expect(files(publicDir).some((path) => path.endsWith(".js") && readFileSync(path, "utf8").includes(`"/vendor/${base}"`))).toBe(true);
	});

	it("stays within 60 KiB gzip", () => {
		const sizes = files(publicDir).map((path) => ({ path: relative(publicDir, path), gzip: gzipSync(readFileSync(path)).length }));
		const total = sizes.reduce((sum, file) => sum + file.gzip, 0);
		expect(total, `public/ is ${(total / 1024).toFixed(1)} KiB gzip: ${JSON.stringify(sizes)}`).toBeLessThanOrEqual(BUDGET_BYTES);
	});
});
