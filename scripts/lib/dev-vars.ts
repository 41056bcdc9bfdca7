/**
 * @module
 * `.dev.vars`, the local secrets file `npm start` creates: where it is and how it reads (dotenv
 * syntax, as wrangler reads it). The one parser for start.ts and the admin-API scripts.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DEV_VARS_PATH = fileURLToPath(new URL("../../.dev.vars", import.meta.url));

/** `NAME=value` lines (optionally `export`ed, optionally quoted); comments and other lines are skipped. */
export function parseDotenv(text: string): Map<string, string> {
	const vars = new Map<string, string>();
	for (const line of text.split(/\r?\n/)) {
		const match = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.*?)\s*$/.exec(line);
		if (!match?.[1]) continue;
		const value = match[2] ?? "";
		const quoted = /^(["'])(.*)\1$/.exec(value);
		vars.set(match[1], quoted ? (quoted[2] ?? "") : value);
	}
	return vars;
}

/** The variables of `.dev.vars`, or none when the file does not exist. */
export function readDevVars(): Map<string, string> {
	try {
		return parseDotenv(readFileSync(DEV_VARS_PATH, "utf8"));
	} catch (error) {
		if ((error as { code?: string }).code === "ENOENT") return new Map();
		throw error;
	}
}
