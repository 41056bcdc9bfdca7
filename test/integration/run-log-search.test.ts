import { beforeAll, describe, expect, it } from "vitest";
import { api, call, createRunningFlow, hook, json, putDraft, type RunningFlow, resetPetstore, waitForExecution } from "./helpers";

interface Summary {
	id: string;
	status: string;
	version: number;
	receivedAt: string;
}

let flow: RunningFlow;
const ids: Record<string, string> = {};

async function send(name: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
	const response = await hook(flow.flowId, json(body, headers));
	ids[name] = ((await response.json()) as { requestId: string }).requestId;
}

const search = async (query: string) =>
	(await api<{ executions: Summary[]; nextCursor: string | null }>("GET", `/api/flows/${flow.flowId}/executions?${query}`)).executions;
const names = (rows: Summary[]) => rows.map((r) => Object.entries(ids).find(([, id]) => id === r.id)?.[0]);

beforeAll(async () => {
	await resetPetstore();
	flow = await createRunningFlow();
	await send("gromit", { petname: "Gromit", petstatus: "sold", owner: { city: "Wigan" }, age: 7 });
	await send("wallace", {
		petname: "Wallace",
		petstatus: "available",
		owner: { city: "Wigan" },
		age: 52,
		friendly: true,
		motto: 'say "cheese"',
	});
	await send("shaun", { petname: "Shaun", petstatus: "Unknown", tags: ["sheep", "woolly"] }, { "webhook-id": "evt_shaun_1" });
	for (const name of ["gromit", "wallace"]) await waitForExecution(ids[name] ?? "", "succeeded");
	await waitForExecution(ids.shaun ?? "", "failed");
	// Version 2 of the flow for the last one.
	await putDraft(flow, { name: "petname", status: "petstatus" });
	await api("POST", `/api/flows/${flow.flowId}/publish`);
	await send("feathers", { petname: "Feathers McGraw", petstatus: "pending" });
	await waitForExecution(ids.feathers ?? "", "succeeded");
});

describe("run-log search", () => {
	it("filters by a field of the input: strings, nested paths, array items, numbers and booleans", async () => {
		expect(names(await search("field=petname&value=Gromit"))).toEqual(["gromit"]);
		expect(names(await search("field=owner.city&value=Wigan"))).toEqual(["wallace", "gromit"]);
		expect(names(await search("field=tags.1&value=woolly"))).toEqual(["shaun"]);
		expect(names(await search("field=age&value=52"))).toEqual(["wallace"]);
		expect(names(await search("field=friendly&value=true"))).toEqual(["wallace"]);
		// A value with characters JSON escapes is compared on the parsed value.
		expect(names(await search(`field=motto&value=${encodeURIComponent('say "cheese"')}`))).toEqual(["wallace"]);
		expect(await search("field=petname&value=gromit")).toEqual([]);
	});

	it("filters by text in the input (ignoring case), status, version and id", async () => {
		expect(names(await search("text=mcgraw"))).toEqual(["feathers"]);
		expect(names(await search("text=100%25"))).toEqual([]);
		expect(names(await search("status=failed"))).toEqual(["shaun"]);
		expect(names(await search("version=2"))).toEqual(["feathers"]);
		expect(names(await search(`version=1&status=succeeded`))).toEqual(["wallace", "gromit"]);
		expect(names(await search(`id=${ids.wallace}`))).toEqual(["wallace"]);
		// The sender's webhook-id finds the execution whose id was derived from it.
		expect(names(await search("id=evt_shaun_1"))).toEqual(["shaun"]);
	});

	it("filters by time range and pages newest first with the filters kept", async () => {
		const all = await search("limit=100");
		expect((await api("GET", `/api/flows/${flow.flowId}/executions`)).statuses).toEqual([
			"queued",
			"retrying",
			"succeeded",
			"failed",
			"filtered",
		]);
		expect(names(all)).toEqual(["feathers", "shaun", "wallace", "gromit"]);
		const wallaceAt = Date.parse(all[2]?.receivedAt ?? "");
		const shaunAt = Date.parse(all[1]?.receivedAt ?? "");
		expect(names(await search(`from=${wallaceAt}&to=${shaunAt + 1}`))).toEqual(["shaun", "wallace"]);
		const first = await api<{ executions: Summary[]; nextCursor: string | null }>(
			"GET",
			`/api/flows/${flow.flowId}/executions?field=owner.city&value=Wigan&limit=1`,
		);
		expect(names(first.executions)).toEqual(["wallace"]);
		const second = await api<{ executions: Summary[]; nextCursor: string | null }>(
			"GET",
			`/api/flows/${flow.flowId}/executions?field=owner.city&value=Wigan&limit=1&cursor=${first.nextCursor}`,
		);
		expect(names(second.executions)).toEqual(["gromit"]);
		expect(second.nextCursor).toBeNull();
	});

	it("explains bad filters", async () => {
		const noValue = await call("GET", `/api/flows/${flow.flowId}/executions?field=petname`);
		expect(noValue.status).toBe(400);
		expect(((await noValue.json()) as { error: { message: string } }).error.message).toContain("field and value go together");
		expect((await call("GET", `/api/flows/${flow.flowId}/executions?from=10&to=5`)).status).toBe(400);
		expect((await call("GET", `/api/flows/${flow.flowId}/executions?status=lost`)).status).toBe(400);
	});
});
