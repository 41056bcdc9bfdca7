// Re-seals every credential under a new CREDENTIALS_KEY through the admin API:
//   1. move the current key to CREDENTIALS_KEY_PREVIOUS and put a new one in CREDENTIALS_KEY
//      (`wrangler secret put …`, or .dev.vars locally, then restart `npm start`)
//   2. npm run rotate-key -- --url https://hookflow.example.workers.dev
// The admin token comes from HOOKFLOW_TOKEN, else from ADMIN_TOKEN in .dev.vars (the local one).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { url: { type: "string", default: "http://127.0.0.1:8787" } } });
const origin = values.url.replace(/\/+$/, "");

function fail(message: string): never {
	console.error(`hookflow: ${message}`);
	process.exit(1);
}

function adminToken(): string {
	if (process.env.HOOKFLOW_TOKEN) return process.env.HOOKFLOW_TOKEN;
	try {
		const devVars = readFileSync(fileURLToPath(new URL("../.dev.vars", import.meta.url)), "utf8");
		const token = /^\s*ADMIN_TOKEN\s*=\s*["']?([^"'\s]+)/m.exec(devVars)?.[1];
		if (token) return token;
	} catch {
		// No .dev.vars: only HOOKFLOW_TOKEN can help.
	}
	return fail("set HOOKFLOW_TOKEN to the target's ADMIN_TOKEN (or run `npm start` once to create .dev.vars)");
}

const response = await fetch(`${origin}/api/admin/rotate-key`, {
	method: "POST",
	headers: { authorization: `Bearer ${adminToken()}` },
}).catch((error: Error) => fail(`${origin} did not answer: ${error.message}`));
const text = await response.text();
if (!response.ok) fail(`POST /api/admin/rotate-key answered ${response.status}: ${text}`);
const result = JSON.parse(text) as { keyId: string; resealed: number; hashedUnderOldKey: string[] };
console.log(`Re-sealed ${result.resealed} credential(s) under key ${result.keyId}.`);
if (result.hashedUnderOldKey.length > 0) {
	console.log(
		`These Basic/API-key credentials are hashed under the old key and work only while CREDENTIALS_KEY_PREVIOUS is set; ` +
			`rotate them (PATCH /api/credentials/<id> with a new secret; its overlap must end too) and run this again before removing it:\n  ${result.hashedUnderOldKey.join("\n  ")}`,
	);
} else {
	console.log("Nothing depends on the old key any more: CREDENTIALS_KEY_PREVIOUS can be removed.");
}
