// What the admin-API scripts share: the admin token and a way to stop with a message.
// The token comes from HOOKFLOW_TOKEN, else from ADMIN_TOKEN in .dev.vars (the local one).
import { readDevVars } from "./dev-vars.ts";

export function fail(message: string): never {
	console.error(`hookflow: ${message}`);
	process.exit(1);
}

export function adminToken(): string {
	if (process.env.HOOKFLOW_TOKEN) return process.env.HOOKFLOW_TOKEN;
	const token = readDevVars().get("ADMIN_TOKEN");
	if (token) return token;
	return fail("set HOOKFLOW_TOKEN to the target's ADMIN_TOKEN (or run `npm start` once to create .dev.vars)");
}
