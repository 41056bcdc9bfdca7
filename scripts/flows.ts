// Moving flows between environments through the admin API:
//   npm run flows:export -- --url https://hookflow.example.workers.dev > flows.json
//   npm run flows:import -- --url https://hookflow-staging.example.workers.dev [--publish] < flows.json
import { parseArgs } from "node:util";
import { adminToken, fail } from "./lib/admin-client.ts";

const { positionals, values } = parseArgs({
	allowPositionals: true,
	options: {
		url: { type: "string", default: "http://127.0.0.1:8787" },
		publish: { type: "boolean", default: false },
	},
});
const command = positionals[0];
if (command !== "export" && command !== "import") fail("usage: node scripts/flows.ts export|import [--url <origin>] [--publish]");
const origin = values.url.replace(/\/+$/, "");

async function request(method: string, path: string, body?: string): Promise<unknown> {
	const response = await fetch(`${origin}${path}`, {
		method,
		headers: { authorization: `Bearer ${adminToken()}`, ...(body ? { "content-type": "application/json" } : {}) },
		body,
	}).catch((error: Error) => fail(`${origin} did not answer: ${error.message}`));
	const text = await response.text();
	if (!response.ok) fail(`${method} ${path} answered ${response.status}: ${text}`);
	return JSON.parse(text);
}

async function readStdin(): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString("utf8");
}

if (command === "export") {
	process.stdout.write(`${JSON.stringify(await request("GET", "/api/export"), null, "\t")}\n`);
} else {
	const input = await readStdin();
	// `npm run flows:export > flows.json` without -s leaves npm's "> hookflow@…" banner above the JSON.
	const start = input.search(/^[{[]/m);
	if (start < 0) fail("pipe an export into stdin: npm run flows:import -- --url <origin> < flows.json");
	const document = input.slice(start);
	const result = (await request("POST", `/api/import${values.publish ? "?publish=true" : ""}`, document)) as {
		flows: { id: string; name: string; status: string }[];
		warnings: string[];
	};
	for (const flow of result.flows) console.log(`${flow.status.padEnd(8)} ${flow.name}  ${origin}/hook/${flow.id}`);
	for (const warning of result.warnings) console.warn(`warning: ${warning}`);
}
