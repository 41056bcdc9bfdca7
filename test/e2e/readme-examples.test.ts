import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, startApp } from "./designer/harness";

/**
 * The README's shell examples, run as a reader would paste them against `npm start`: the
 * walkthrough's credential lines, then the worked example of "Flows of many steps". Only what is
 * the reader's own machine is replaced: the port, the admin token and the Petstore URL npm start printed.
 */

const run = promisify(execFile);
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
let app: App;
let petstore: string;

/** The first ```sh block after a heading. */
function shBlockAfter(heading: string): string {
	const at = readme.indexOf(`\n${heading}\n`);
	if (at < 0) throw new Error(`README has no heading "${heading}"`);
	const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
	if (!block) throw new Error(`README has no sh block after "${heading}"`);
	return block[1] ?? "";
}

/** Replaces one line of a block, failing when the README no longer has it (so the test cannot drift). */
function replaceLine(script: string, pattern: RegExp, line: string): string {
	if (!pattern.test(script)) throw new Error(`README block has no line matching ${pattern}`);
	return script.replace(pattern, line);
}

beforeAll(async () => {
	app = await startApp();
	petstore = /Petstore\s+(http:\/\/127\.0\.0\.1:\d+\/v2)/.exec(app.output())?.[1] ?? "";
	expect(petstore).not.toBe("");
});
afterAll(async () => app?.stop());

describe("the README's examples against npm start", () => {
	it("runs the worked example of flows of many steps: filter, CRM lookup, Petstore create", async () => {
		// The walkthrough's setup (H, auth, PETSTORE, HOOKCRED): its first lines, up to the flow.
		const walkthrough = shBlockAfter("## Walkthrough with curl");
		let setup = walkthrough.slice(0, walkthrough.indexOf("# 2."));
		setup = replaceLine(setup, /^H=.*$/m, `H=${app.origin}`);
		setup = replaceLine(setup, /^TOKEN=.*$/m, `TOKEN=${app.token}`);
		let example = shBlockAfter("### A worked example: filter, CRM lookup, Petstore create");
		example = replaceLine(example, /^PETSTORE_URL=.*$/m, `PETSTORE_URL=${petstore}`);

		const { stdout } = await run("bash", ["-euo", "pipefail", "-c", `${setup}\n${example}`], { timeout: 60_000 });
		// curl prints its answers without a newline, so jq's output follows them on the same line: read
		// the execution jq pretty-prints, and the count that ends the run.
		const shown = /\{\n {2}"status": "(\w+)",\n {2}"steps": (\[[\s\S]*?\n {2}\])\n\}/.exec(stdout);
		expect(shown, stdout).not.toBeNull();
		expect(shown?.[1]).toBe("succeeded");
		expect(JSON.parse(shown?.[2] ?? "[]")).toEqual([
			{ id: "big_orders", status: "succeeded", attempts: 0 },
			{ id: "crm", status: "succeeded", attempts: 1 },
			{ id: "pet", status: "succeeded", attempts: 1 },
		]);
		expect(/(\d+)\s*$/.exec(stdout)?.[1], "filtered executions").toBe("1");
		// The pet is named after the CRM's customer ("ada" is a basic-tier customer: available).
		const answer = await fetch(`${petstore}/pet/findByStatus?status=available`, { headers: { "api-key": "secret" } });
		const pets = (await answer.json()) as Array<{ name: string }>;
		expect(pets.map((p) => p.name)).toEqual(["Customer ada"]);
	});
});
