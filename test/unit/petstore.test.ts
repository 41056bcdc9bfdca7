import { afterEach, describe, expect, it, vi } from "vitest";
import { callPetstore, isRetryableStatus, normalizeBaseUrl } from "../../src/components/petstore/client";
import { buildCreatePetBody, createPetRequest, runCreatePet } from "../../src/components/petstore/create-pet";
import type { ActionRequest } from "../../src/components/types";

const EXECUTION_ID = "0123456789abcdef0123456789abcdef";
const API_KEY = "special-key";

function petRequest(): ActionRequest {
	return createPetRequest("https://petstore.example/v2", { name: "Gromit", status: "sold" }, EXECUTION_ID);
}

function mockFetch(response: () => Response | Promise<Response>) {
	return vi.spyOn(globalThis, "fetch").mockImplementation(async () => response());
}

/** The init the client passed to fetch, with headers read through the Headers API. */
function sent(spy: ReturnType<typeof mockFetch>): { url: string; method: string | undefined; headers: Headers; body: unknown } {
	expect(spy).toHaveBeenCalledTimes(1);
	const [url, init] = spy.mock.calls[0]!;
	return {
		url: String(url),
		method: init?.method,
		headers: new Headers(init?.headers),
		body: typeof init?.body === "string" ? JSON.parse(init.body) : init?.body,
	};
}

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
			url: "https://petstore.example/v2/pet",
			headers: { "content-type": "application/json", "idempotency-key": EXECUTION_ID },
			body: { name: "Gromit", status: "sold" },
		});
		expect(JSON.stringify(request).toLowerCase()).not.toContain("api-key");
	});
});

describe("callPetstore", () => {
	it("sends the request with the api-key header and the JSON body", async () => {
		const spy = mockFetch(() => Response.json({ id: 7, name: "Gromit", status: "sold" }));
		await callPetstore(petRequest(), API_KEY);
		const call = sent(spy);
		expect(call.url).toBe("https://petstore.example/v2/pet");
		expect(call.method).toBe("POST");
		expect(call.headers.get("api-key")).toBe(API_KEY);
		expect(call.headers.get("content-type")).toBe("application/json");
		expect(call.headers.get("idempotency-key")).toBe(EXECUTION_ID);
		expect(call.body).toEqual({ name: "Gromit", status: "sold" });
	});

	it("classifies 2xx as succeeded and stores the response, without recording the key", async () => {
		mockFetch(() => Response.json({ id: 7, name: "Gromit", status: "sold" }));
		const outcome = await callPetstore(petRequest(), API_KEY);
		expect(outcome).toEqual({
			kind: "succeeded",
			request: petRequest(),
			response: { status: 200, body: { id: 7, name: "Gromit", status: "sold" } },
		});
		expect(JSON.stringify(outcome)).not.toContain(API_KEY);
	});

	it("stores a non-JSON success body as text", async () => {
		mockFetch(() => new Response("created", { status: 201 }));
		expect(await callPetstore(petRequest(), API_KEY)).toMatchObject({ kind: "succeeded", response: { status: 201, body: "created" } });
	});

	it("classifies 400 as terminal and includes the Petstore's message", async () => {
		mockFetch(() => Response.json({ code: 400, message: "Invalid input" }, { status: 400 }));
		const outcome = await callPetstore(petRequest(), API_KEY);
		expect(outcome).toEqual({
			kind: "terminal",
			request: petRequest(),
			response: { status: 400, body: { code: 400, message: "Invalid input" } },
			error: "Petstore answered 400: Invalid input",
		});
	});

	it.each([401, 403, 404, 409, 422])("classifies %i as terminal", async (status) => {
		mockFetch(() => new Response("nope", { status }));
		expect(await callPetstore(petRequest(), API_KEY)).toMatchObject({ kind: "terminal", error: `Petstore answered ${status}` });
	});

	it.each([408, 429, 500, 502, 503])("classifies %i as retryable", async (status) => {
		mockFetch(() => new Response("busy", { status }));
		expect(await callPetstore(petRequest(), API_KEY)).toEqual({
			kind: "retryable",
			request: petRequest(),
			response: { status, body: "busy" },
			error: `Petstore answered ${status}`,
			retryAfter: null,
		});
	});

	it("passes retry-after through on 429 and 503", async () => {
		mockFetch(() => new Response("slow down", { status: 429, headers: { "retry-after": "120" } }));
		expect(await callPetstore(petRequest(), API_KEY)).toMatchObject({ kind: "retryable", retryAfter: "120" });
		vi.restoreAllMocks();
		const date = "Wed, 21 Oct 2026 07:28:00 GMT";
		mockFetch(() => new Response("maintenance", { status: 503, headers: { "retry-after": date } }));
		expect(await callPetstore(petRequest(), API_KEY)).toMatchObject({ kind: "retryable", retryAfter: date });
	});

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

	it("classifies a timeout as retryable and says how long it waited", async () => {
		vi.spyOn(globalThis, "fetch").mockImplementation(
			(_url, init) =>
				new Promise((_resolve, reject) => {
					const signal = init?.signal;
					signal?.addEventListener("abort", () => reject(signal.reason));
				}),
		);
		const outcome = await callPetstore(petRequest(), API_KEY, 50);
		expect(outcome).toMatchObject({ kind: "retryable", response: null, error: "Petstore did not answer within 0.05 s", retryAfter: null });
	});

	it("treats exactly 408, 429 and 5xx as retryable statuses", () => {
		const statuses = [200, 400, 401, 404, 407, 408, 409, 428, 429, 430, 500, 503, 599];
		expect(statuses.filter(isRetryableStatus)).toEqual([408, 429, 500, 503, 599]);
	});
});

describe("runCreatePet", () => {
	it("fails a validation error at once without calling the Petstore", async () => {
		const spy = vi.spyOn(globalThis, "fetch");
		const outcome = await runCreatePet(
			{ name: "Gromit", status: "lost" },
			{ apiKey: API_KEY, baseUrl: "https://petstore.example/v2" },
			EXECUTION_ID,
		);
		expect(outcome).toEqual({ kind: "terminal", request: null, response: null, error: "Provided status is invalid." });
		expect(spy).not.toHaveBeenCalled();
	});

	it("calls the Petstore with the built body and the key", async () => {
		const spy = mockFetch(() => Response.json({ id: 1 }));
		const outcome = await runCreatePet(
			{ name: "Gromit", status: "Sold" },
			{ apiKey: API_KEY, baseUrl: "https://petstore.example/v2/" },
			EXECUTION_ID,
		);
		expect(outcome.kind).toBe("succeeded");
		const call = sent(spy);
		expect(call.url).toBe("https://petstore.example/v2/pet");
		expect(call.headers.get("api-key")).toBe(API_KEY);
		expect(call.headers.get("idempotency-key")).toBe(EXECUTION_ID);
		expect(call.body).toEqual({ name: "Gromit", status: "sold" });
	});
});
