import { describe, expect, it } from "vitest";
import { type HookLine, hookLine, type LogLevel } from "../../src/log";

/** What `log(level, "hook", fields)` writes: the generic line the hook's hand-built one must equal byte for byte. */
const generic = (level: LogLevel, fields: HookLine) => JSON.stringify({ level, event: "hook", ...fields });

const lines: [LogLevel, HookLine][] = [
	["info", { flowId: "f1", requestId: "0123456789abcdef0123456789abcdef", method: "POST", status: 200, auth: "hmac", bytes: 60, ms: 0 }],
	[
		"warn",
		{
			flowId: 'quote " back\\slash \n newline \u2028 é 😀 \u0001',
			requestId: null,
			method: "GET",
			status: 401,
			auth: null,
			reason: 'Malformed x-sig header: expected "sha256=<hex>"\t',
			bytes: null,
			ms: 12,
		},
	],
	["info", { flowId: "f", requestId: "r", method: "POST", status: 200, auth: "slack", handshake: "url_verification", bytes: null, ms: 3 }],
	["error", { flowId: "f", requestId: null, method: "POST", status: 503, auth: "none", reason: undefined, bytes: Number.NaN, ms: -0 }],
	["warn", { flowId: "", requestId: null, method: "PATCH", status: 405, auth: null, bytes: Number.POSITIVE_INFINITY, ms: 1.5 }],
];

describe("the hook log line", () => {
	it.each(lines)("is the same JSON the generic log line writes (%s)", (level, fields) => {
		expect(hookLine(level, fields)).toBe(generic(level, fields));
		expect(JSON.parse(hookLine(level, fields))).toMatchObject({ level, event: "hook", flowId: fields.flowId });
	});
});
