// Re-seals every credential under a new CREDENTIALS_KEY through the admin API:
//   1. move the current key to CREDENTIALS_KEY_PREVIOUS and put a new one in CREDENTIALS_KEY
//      (`wrangler secret put …`, or .dev.vars locally, then restart `npm start`)
//   2. npm run rotate-key -- --url https://hookflow.example.workers.dev
import { parseArgs } from "node:util";
import { adminToken, fail } from "./lib/admin-client.ts";

const { values } = parseArgs({ options: { url: { type: "string", default: "http://127.0.0.1:8787" } } });
const origin = values.url.replace(/\/+$/, "");

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
