// What the admin-API scripts share: the admin token and a way to stop with a message.
// The token comes from HOOKFLOW_TOKEN, else from ADMIN_TOKEN in .dev.vars (the local one).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function fail(message: string): never {
	console.error(`hookflow: ${message}`);
	process.exit(1);
}

export function adminToken(): string {
	if (process.env.HOOKFLOW_TOKEN) return process.env.HOOKFLOW_TOKEN;
	try {
		const devVars = readFileSync(fileURLToPath(new URL("../../.dev.vars", import.meta.url)), "utf8");
		const token = /^\s*ADMIN_TOKEN\s*=\s*["']?([^"'\s]+)/m.exec(devVars)?.[1];
		if (token) return token;
	} catch {
		// No .dev.vars: only HOOKFLOW_TOKEN can help.
	}
	return fail("set HOOKFLOW_TOKEN to the target's ADMIN_TOKEN (or run `npm start` once to create .dev.vars)");
}
