// Run-log search and the bulk-replay filter at the edges of what their schema accepts (issue 19:
// a text over 48 bytes, or 24 characters of `%`, `_`, `\`, answered 500 from D1's LIKE pattern limit).
import { beforeAll, describe, expect, it } from "vitest";
import { api, call, createRunningFlow, hook, json, type RunningFlow, waitForExecution } from "./helpers";

let flow: RunningFlow;
let target: string;
let other: string;
// Long, with LIKE's special characters and non-ASCII in it; stored with this case.
const NOTE = "Order 100% PAID_in_full via Ünïcödé Bank, reference ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789 (spring_sale)";

const search = (query: string) => call("GET", `/api/flows/${flow.flowId}/executions?limit=100&${query}`);
const found = async (query: string) => {
	const response = await search(query);
	expect(response.status).toBe(200);
	return ((await response.json()) as { executions: { id: string }[] }).executions.map((e) => e.id);
};
const text = (value: string) => `text=${encodeURIComponent(value)}`;

beforeAll(async () => {
	flow = await createRunningFlow();
	const send = async (note: string) =>
		((await (await hook(flow.flowId, json({ petname: "Ledger", petstatus: "Unknown", note }))).json()) as { requestId: string }).requestId;
	target = await send(NOTE);
	// The same first 60 characters, then different: a prefix match alone would find it too.
	other = await send(`${NOTE.slice(0, 60)} but another ending`);
	await waitForExecution(target, "failed");
	await waitForExecution(other, "failed");
});

describe("run-log search limits", () => {
	it("attack: text searches up to the schema's 200 characters answer, never 500", async () => {
		const attacks = [
			"a".repeat(49),
			"%".repeat(24),
			"_".repeat(25),
			"\\".repeat(60),
			"%_\\".repeat(66),
			"x".repeat(200),
			"é".repeat(200),
			"😀".repeat(100),
		];
		for (const attack of attacks) expect(await found(text(attack)), attack).toEqual([]);
		// Past the schema: a clear 400, not a 500.
		const tooLong = await search(text("x".repeat(201)));
		expect(tooLong.status).toBe(400);
		expect(((await tooLong.json()) as { error: { message: string } }).error.message).toContain("text");
	});

	it("a text longer than LIKE allows still matches exactly, ignoring ASCII case", async () => {
		const long = NOTE.slice(6, 90);
		expect(long.length).toBeGreaterThan(48);
		expect(await found(text(long))).toEqual([target]);
		// ASCII case is ignored like a short search does (SQLite folds no other letters).
		const ascii = NOTE.slice(NOTE.indexOf("Bank"));
		expect(ascii.length).toBeGreaterThan(48);
		expect(await found(text(ascii.toLowerCase()))).toEqual([target]);
		expect(await found(text(ascii.toUpperCase()))).toEqual([target]);
		expect(await found(text(long.replace("Ü", "ü")))).toEqual([]);
		// The first 60 characters are in both; the whole text only in one.
		expect((await found(text(NOTE.slice(0, 60)))).sort()).toEqual([target, other].sort());
		expect(await found(text(NOTE.slice(0, 80)))).toEqual([target]);
		// Wildcards are literal characters, however long the text.
		expect(await found(text("100% PAID_in_full via Ünïcödé Bank, reference ABCDEFGHIJK"))).toEqual([target]);
		expect(await found(text("100% PAID_in_full via Ünïcödé Bank, reference ABCDEFGHIJ_"))).toEqual([]);
		expect(await found(text("100% PAID_in_full via Ünïcödé Bank, reference ABCDEFGHIJ%"))).toEqual([]);
		expect(await found(text("100%"))).toEqual([target, other].reverse());
	});

	it("attack: every filter at its longest answers, for the list and for a bulk replay", async () => {
		const longest = [
			text("%_\\".repeat(66)),
			`id=${"x".repeat(200)}`,
			`field=${Array.from({ length: 100 }, () => "a").join(".")}&value=${"v".repeat(1000)}`,
			`field=${"f".repeat(200)}&value=${encodeURIComponent('"'.repeat(1000))}`,
		];
		for (const query of longest) expect(await found(query), query).toEqual([]);

		const replay = async (filters: Record<string, unknown>) =>
			call("POST", `/api/flows/${flow.flowId}/replay`, { mode: "replay", filters });
		// First, while the run log holds only the two originals (each job below replays what it matches).
		const { job } = await api<{ job: { total: number } }>("POST", `/api/flows/${flow.flowId}/replay`, {
			mode: "replay",
			filters: { text: NOTE.slice(NOTE.indexOf("Bank")).toLowerCase() },
		});
		expect(job.total).toBe(1);
		for (const filters of [{ text: "%_\\".repeat(66) }, { text: NOTE.slice(0, 80) }, { id: "y".repeat(200) }]) {
			const response = await replay(filters);
			expect(response.status, JSON.stringify(filters)).toBe(202);
		}
		expect((await replay({ text: "x".repeat(201) })).status).toBe(400);
	});
});
