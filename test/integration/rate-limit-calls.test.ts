import { beforeEach, describe, expect, it } from "vitest";
import { CALL_START_GRACE_MS, RATE_SLICES, sliceGrants } from "../../src/delivery/rate-window";
import { counters, createDeliveryFlow, type Delivery, fastForward, injectFaults, pet, send, waitForCounters } from "./delivery-support";
import { api, controlUrl, eventually, resetPetstore } from "./helpers";

beforeEach(resetPetstore);

/** When each pet POST reached the local Petstore (ms), retries included, in order. */
async function callTimes(): Promise<number[]> {
	const { requests } = (await (await fetch(controlUrl("requests"))).json()) as {
		requests: Array<{ method: string; path: string; startedAt: string }>;
	};
	return requests
		.filter((r) => r.method === "POST" && r.path === "/v2/pet")
		.map((r) => Date.parse(r.startedAt))
		.sort((a, b) => a - b);
}

/** The most calls that started within any `windowMs` (a window opening at each call). */
function mostInAnyWindow(times: readonly number[], windowMs: number): number {
	let most = 0;
	for (let i = 0, j = 0; i < times.length; i++) {
		while ((times[j] as number) <= (times[i] as number) - windowMs) j++;
		most = Math.max(most, i - j + 1);
	}
	return most;
}

const petName = (i: number, owners: number) => `o${i % owners}-${i}`;

async function sendAll(flowId: string, count: number, owners: number): Promise<void> {
	await Promise.all(Array.from({ length: count }, (_, i) => send(flowId, pet(petName(i, owners), `o${i % owners}`))));
}

describe("the destination rate limit is kept on the calls that reach it", () => {
	const cases: Array<[string, Delivery]> = [
		["key ordering across shards", { ordering: "key", key: "owner", concurrency: 8, rateLimit: { requests: 30, perSeconds: 1 } }],
		["flow ordering", { ordering: "flow", rateLimit: { requests: 12, perSeconds: 1 } }],
	];
	for (const [name, delivery] of cases) {
		it(`${name}: no second holds more call starts than the limit, retries included`, { timeout: 60_000 }, async () => {
			const flow = await createDeliveryFlow(delivery);
			const limit = delivery.rateLimit as { requests: number; perSeconds: number };
			const hooks = limit.requests * 3;
			const owners = delivery.ordering === "flow" ? 1 : 12;
			// Some calls fail once and are retried: a retry is a call and takes a token like any other.
			await injectFaults(Array.from({ length: 6 }, (_, i) => ({ forName: petName(i * 5, owners), status: 500 })));
			await sendAll(flow.flowId, hooks, owners);
			// Retries come due now rather than after their backoff (under "flow" a retry holds the one lane).
			await eventually(
				"every hook delivered",
				async () => {
					await fastForward(flow);
					const { succeeded, queued } = await counters(flow.flowId);
					return succeeded === hooks && queued === 0;
				},
				40_000,
			);
			const times = await callTimes();
			expect(times).toHaveLength(hooks + 6);
			expect(mostInAnyWindow(times, limit.perSeconds * 1000)).toBeLessThanOrEqual(limit.requests);
			// The limit was what held the calls back, not a trickle of hooks (half of it leaves room for a busy machine).
			expect(mostInAnyWindow(times, limit.perSeconds * 1000)).toBeGreaterThanOrEqual(limit.requests / 2);
		});
	}

	it("spreads a released backlog over the window instead of starting the second's calls at once", async () => {
		const rateLimit = { requests: 60, perSeconds: 1 };
		const flow = await createDeliveryFlow({ ordering: "none", concurrency: 20, rateLimit });
		const { flowId } = flow;
		await api("POST", `/api/flows/${flowId}/pause`);
		await sendAll(flowId, 120, 40);
		await waitForCounters(flowId, { queued: 120 });
		await api("POST", `/api/flows/${flowId}/resume`);
		await waitForCounters(flowId, { succeeded: 120, queued: 0 }, 30_000);
		const times = await callTimes();
		expect(times).toHaveLength(120);
		expect(mostInAnyWindow(times, 1000)).toBeLessThanOrEqual(rateLimit.requests);
		// A tenth of the limit is granted in any tenth of the window, and a call starts within
		// CALL_START_GRACE_MS (under a tenth) of its grant: any tenth holds at most two tenths' grants,
		// where an unspread backlog would start all 60 at once.
		expect(CALL_START_GRACE_MS).toBeLessThanOrEqual(1000 / RATE_SLICES);
		expect(sliceGrants(rateLimit)).toBe(6);
		expect(mostInAnyWindow(times, 1000 / RATE_SLICES)).toBeLessThanOrEqual(12);
	});
});
