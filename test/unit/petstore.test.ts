import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { callPetstore, isRetryableStatus, normalizeBaseUrl } from "../../src/components/petstore/client";
import { buildCreatePetBody, createPetRequest, runCreatePet } from "../../src/components/petstore/create-pet";
import type { ActionRequest } from "../../src/components/types";
import { controlUrl, eventually, injectFaults, petstoreRequests, petstoreUrl, resetPetstore } from "../integration/helpers";

/**
 * The client calls this file's tenant of the local Petstore (dev/petstore/server.ts, started in
 * global setup), which checks the api-key and the JSON content type like the real one, keeps a
 * request log (method, path, body, idempotency key, answer) and answers injected faults.
 */

const EXECUTION_ID = "0123456789abcdef0123456789abcdef";
/** The key the local Petstore accepts. */
const API_KEY = "secret";

/** The create-pet request to this file's tenant; `body` may be one the Petstore refuses. */
function petRequest(body: object = { name: "Gromit", status: "sold" }): ActionRequest {
	return createPetRequest(petstoreUrl(), body as Parameters<typeof createPetRequest>[1], EXECUTION_ID);
}

/** What the Petstore saw: its request log, without the timing. */
async function seen() {
	return (await petstoreRequests()).requests.map(({ method, path, body, idempotencyKey, responseStatus }) => ({
		method,
		path,
		body,
		idempotencyKey,
		responseStatus,
	}));
}

const pets = async () => (await fetch(controlUrl("pets"))).json();

afterEach(() => {
	vi.restoreAllMocks();
});

describe("buildCreatePetBody", () => {
	it("builds name and lower-cased status", () => {
		expect(buildCreatePetBody({ name: "Gromit", status: "Sold" })).toEqual({ ok: true, body: { name: "Gromit", status: "sold" } });
	});

	it.each(["available", "AVAILABLE", "Pending", "sOlD", " sold "])("accepts status %j in any case", (status) => {
		const built = buildCreatePetBody({ name: "Gromit", status });
		expect(built.ok && built.body.status).toBe(status.trim().toLowerCase());
	});

	it.each([
		[{ status: "sold" }, "Name is required"],
		[{ name: "", status: "sold" }, "Name is required"],
		[{ name: null, status: "sold" }, "Name is required"],
		[{ name: "Gromit" }, "Status is required"],
		[{ name: "Gromit", status: "" }, "Status is required"],
		[{ name: "Gromit", status: null }, "Status is required"],
		[{ name: "Gromit", status: "lost" }, "Provided status is invalid."],
		[{ name: "Gromit", status: "sold out" }, "Provided status is invalid."],
		[{ name: "Gromit", status: 1 }, "Provided status is invalid."],
		[{ name: "Gromit", status: ["sold"] }, "Provided status is invalid."],
	])("refuses %j with %s", (mapped, error) => {
		expect(buildCreatePetBody(mapped)).toEqual({ ok: false, error });
	});

	it("checks the name before the status", () => {
		expect(buildCreatePetBody({ status: "lost" })).toEqual({ ok: false, error: "Name is required" });
	});

	it("passes the optional fields only when the mapping set them", () => {
		const built = buildCreatePetBody({
			name: "Gromit",
			status: "available",
			id: 42,
			category: { id: 1, name: "Dogs" },
			tags: [{ id: 1, name: "clay" }],
			photoUrls: ["https://example.com/gromit.png"],
		});
		expect(built).toEqual({
			ok: true,
			body: {
				name: "Gromit",
				status: "available",
				id: 42,
				category: { id: 1, name: "Dogs" },
				tags: [{ id: 1, name: "clay" }],
				photoUrls: ["https://example.com/gromit.png"],
			},
		});
		const minimal = buildCreatePetBody({ name: "Gromit", status: "available", id: undefined, tags: undefined });
		expect(minimal.ok && Object.keys(minimal.body).sort()).toEqual(["name", "status"]);
	});

	it("does not pass fields that are not part of the action", () => {
		const built = buildCreatePetBody({ name: "Gromit", status: "sold", owner: "Wallace", _method: "POST" });
		expect(built).toEqual({ ok: true, body: { name: "Gromit", status: "sold" } });
	});

	it("sends a non-text name as its JSON text", () => {
		const built = buildCreatePetBody({ name: 42, status: "sold" });
		expect(built.ok && built.body.name).toBe("42");
	});
});

describe("createPetRequest", () => {
	it("posts to {baseUrl}/pet with one slash whatever the base ends with", () => {
		for (const base of ["https://petstore.example/v2", "https://petstore.example/v2/", "https://petstore.example/v2///"]) {
			expect(createPetRequest(base, { name: "Gromit", status: "sold" }, EXECUTION_ID).url).toBe("https://petstore.example/v2/pet");
		}
		expect(normalizeBaseUrl("http://localhost:8787/")).toBe("http://localhost:8787");
	});

	it("records the method, JSON content type and the execution id as idempotency key, and no api key", () => {
		const request = petRequest();
		expect(request).toEqual({
			method: "POST",
			url: `${petstoreUrl()}/pet`,
			headers: { "content-type": "application/json", "idempotency-key": EXECUTION_ID },
			body: { name: "Gromit", status: "sold" },
		});
		expect(JSON.stringify(request).toLowerCase()).not.toContain("api-key");
	});
});

describe("callPetstore", () => {
	beforeEach(resetPetstore);

	it("sends the api-key header, the JSON content type, the idempotency key and the JSON body", async () => {
		const outcome = await callPetstore(petRequest(), API_KEY);
		// A missing or wrong key would be a 401, a body not sent as JSON a 415.
		expect(outcome).toMatchObject({ kind: "succeeded", response: { status: 200 } });
		expect(await seen()).toEqual([
			{ method: "POST", path: "/v2/pet", body: { name: "Gromit", status: "sold" }, idempotencyKey: EXECUTION_ID, responseStatus: 200 },
		]);
		expect(await pets()).toEqual([{ id: expect.any(Number), name: "Gromit", status: "sold", photoUrls: [] }]);
	});

	it("sends the key it is given: another key is refused with the Petstore's 401", async () => {
		expect(await callPetstore(petRequest(), "not-the-key")).toMatchObject({
			kind: "terminal",
			response: { status: 401 },
			error: "Petstore answered 401: Invalid API key",
		});
		expect(await pets()).toEqual([]);
	});

	it("classifies 2xx as succeeded and stores the response, without recording the key", async () => {
		const outcome = await callPetstore(petRequest(), API_KEY);
		const [pet] = (await pets()) as { id: number }[];
		expect(outcome).toEqual({
			kind: "succeeded",
			request: petRequest(),
			response: { status: 200, body: { id: pet?.id, name: "Gromit", status: "sold", photoUrls: [] } },
		});
		expect(JSON.stringify(outcome)).not.toContain(API_KEY);
	});

	// The local Petstore always answers JSON: a text body comes from a fetch spy.
	it("stores a non-JSON success body as text", async () => {
		vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("created", { status: 201 }));
		expect(await callPetstore(petRequest(), API_KEY)).toMatchObject({ kind: "succeeded", response: { status: 201, body: "created" } });
	});

	it("classifies 400 as terminal and includes the Petstore's message", async () => {
		const refused = petRequest({ name: "Gromit", status: "lost" });
		expect(await callPetstore(refused, API_KEY)).toEqual({
			kind: "terminal",
			request: refused,
			response: { status: 400, body: { code: 400, type: "error", message: "Provided status is invalid." } },
			error: "Petstore answered 400: Provided status is invalid.",
		});
	});

	it.each([403, 404, 409, 422])("classifies %i as terminal", async (status) => {
		await injectFaults([{ status }]);
		expect(await callPetstore(petRequest(), API_KEY)).toMatchObject({
			kind: "terminal",
			response: { status },
			error: `Petstore answered ${status}: Injected fault`,
		});
	});

	it.each([408, 429, 500, 502, 503])("classifies %i as retryable", async (status) => {
		await injectFaults([{ status }]);
		expect(await callPetstore(petRequest(), API_KEY)).toEqual({
			kind: "retryable",
			request: petRequest(),
			response: { status, body: { code: status, type: "error", message: "Injected fault" } },
			error: `Petstore answered ${status}: Injected fault`,
			retryAfter: null,
		});
	});

	it("passes retry-after through on 429 and 503", async () => {
		const date = "Wed, 21 Oct 2026 07:28:00 GMT";
		await injectFaults([
			{ status: 429, retryAfter: "120" },
			{ status: 503, retryAfter: date },
		]);
		expect(await callPetstore(petRequest(), API_KEY)).toMatchObject({ kind: "retryable", response: { status: 429 }, retryAfter: "120" });
		expect(await callPetstore(petRequest(), API_KEY)).toMatchObject({ kind: "retryable", response: { status: 503 }, retryAfter: date });
	});

	// A refused connection makes workerd print an uncaught "Network connection lost": a fetch spy throws instead.
	it("classifies a network error as retryable, without a response", async () => {
		vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("Network connection lost."));
		expect(await callPetstore(petRequest(), API_KEY)).toEqual({
			kind: "retryable",
			request: petRequest(),
			response: null,
			error: "Petstore unreachable: Network connection lost.",
			retryAfter: null,
		});
	});

	it("classifies a timeout as retryable, says how long it waited, and hangs up", async () => {
		await injectFaults([{ hangMs: 20_000 }]);
		const outcome = await callPetstore(petRequest(), API_KEY, 50);
		expect(outcome).toMatchObject({ kind: "retryable", response: null, error: "Petstore did not answer within 0.05 s", retryAfter: null });
		// The Petstore sees the call end without an answer of its own.
		const call = await eventually("the Petstore to see the call end", async () => {
			const { requests } = (await (await fetch(controlUrl("requests"))).json()) as { requests: { endedAt: string | null }[] };
			return requests[0]?.endedAt ? requests[0] : undefined;
		});
		expect(call).toMatchObject({ path: "/v2/pet", idempotencyKey: EXECUTION_ID, responseStatus: null });
	});

	it("treats exactly 408, 429 and 5xx as retryable statuses", () => {
		const statuses = [200, 400, 401, 404, 407, 408, 409, 428, 429, 430, 500, 503, 599];
		expect(statuses.filter(isRetryableStatus)).toEqual([408, 429, 500, 503, 599]);
	});
});

describe("runCreatePet", () => {
	beforeEach(resetPetstore);

	it("fails a validation error at once without calling the Petstore", async () => {
		const outcome = await runCreatePet({ name: "Gromit", status: "lost" }, { apiKey: API_KEY, baseUrl: petstoreUrl() }, EXECUTION_ID);
		expect(outcome).toEqual({ kind: "terminal", request: null, response: null, error: "Provided status is invalid." });
		expect(await seen()).toEqual([]);
	});

	it("calls the Petstore with the built body, the key and the idempotency key", async () => {
		const outcome = await runCreatePet({ name: "Gromit", status: "Sold" }, { apiKey: API_KEY, baseUrl: `${petstoreUrl()}/` }, EXECUTION_ID);
		expect(outcome).toMatchObject({ kind: "succeeded", response: { status: 200, body: { name: "Gromit", status: "sold" } } });
		expect(await seen()).toEqual([
			{ method: "POST", path: "/v2/pet", body: { name: "Gromit", status: "sold" }, idempotencyKey: EXECUTION_ID, responseStatus: 200 },
		]);
	});
});
