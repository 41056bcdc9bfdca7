import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Petstore, startPetstore } from "../../dev/petstore/server.ts";
import { eventually } from "../support/eventually";

let petstore: Petstore;
let origin: string;

beforeAll(async () => {
	petstore = await startPetstore();
	origin = new URL(petstore.url).origin;
});
afterAll(() => petstore.close());
beforeEach(async () => {
	await fetch(`${origin}/__control/reset`, { method: "POST" });
});

function api(path: string, init: RequestInit & { key?: string | null } = {}) {
	const headers = new Headers(init.headers);
	if (init.key !== null && !headers.has("api-key")) {
		headers.set("api-key", init.key ?? "secret");
	}
	return fetch(`${petstore.url}${path}`, { ...init, headers });
}

function createPet(body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
	return api("/pet", {
		method: "POST",
		headers: { "content-type": "application/json", ...headers },
		body: JSON.stringify(body),
		signal,
	});
}

async function control<T>(path: string, body?: unknown): Promise<T> {
	const response = await fetch(`${origin}/__control${path}`, {
		method: body === undefined ? "GET" : "POST",
		headers: { "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	expect(response.ok).toBe(true);
	return (await response.json()) as T;
}

type RequestLog = {
	requests: {
		seq: number;
		path: string;
		endedAt: string | null;
		idempotencyKey: string | null;
		responseStatus: number | null;
	}[];
	maxConcurrent: number;
};

describe("api key", () => {
	it("rejects a missing or wrong key with 401", async () => {
		for (const key of [null, "wrong"]) {
			const response = await api("/user/me", { key });
			expect(response.status).toBe(401);
			expect(await response.json()).toEqual({
				code: 401,
				type: "error",
				message: "Invalid API key",
			});
		}
		expect((await createPet({ name: "Rex", status: "sold" }, { "api-key": "wrong" })).status).toBe(401);
		expect(await control("/pets")).toEqual([]);
	});

	it("accepts the tutorial key without echoing it", async () => {
		const response = await api("/user/me");
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({
			username: "petstore-user",
			apiKey: "valid",
		});
	});

	it("accepts only the configured keys", async () => {
		const custom = await startPetstore({ apiKeys: ["k1"] });
		try {
			const ok = await fetch(`${custom.url}/user/me`, {
				headers: { "api-key": "k1" },
			});
			const refused = await fetch(`${custom.url}/user/me`, {
				headers: { "api-key": "secret" },
			});
			expect([ok.status, refused.status]).toEqual([200, 401]);
		} finally {
			await custom.close();
		}
	});
});

describe("pets", () => {
	it("creates pets with increasing ids and reads them back", async () => {
		const first = await createPet({
			name: "Rex",
			status: "available",
			tags: [{ name: "dog" }],
		});
		expect(first.status).toBe(200);
		const rex = await first.json();
		expect(rex).toEqual({
			id: expect.any(Number),
			name: "Rex",
			photoUrls: [],
			tags: [{ name: "dog" }],
			status: "available",
		});
		const tom = await (await createPet({ name: "Tom", status: "sold" })).json();
		expect(tom.id).toBeGreaterThan(rex.id);

		expect(await (await api(`/pet/${rex.id}`)).json()).toEqual(rex);
		expect((await api("/pet/999999")).status).toBe(404);
		expect((await api("/pet/abc")).status).toBe(400);
	});

	it("keeps a given id and never reuses it for assigned ones", async () => {
		const given = await (await createPet({ id: 7, name: "Seven", status: "pending" })).json();
		expect(given.id).toBe(7);
		const next = await (await createPet({ name: "Next", status: "pending" })).json();
		expect(next.id).toBeGreaterThan(7);
	});

	it("returns the first pet for a repeated idempotency-key and stores only one", async () => {
		const headers = { "idempotency-key": "0123456789abcdef0123456789abcdef" };
		const first = await (await createPet({ name: "Rex", status: "sold" }, headers)).json();
		const again = await createPet({ name: "Rex", status: "sold" }, headers);
		expect(again.status).toBe(200);
		expect(await again.json()).toEqual(first);
		expect(await control("/pets")).toEqual([first]);

		const other = await (await createPet({ name: "Rex", status: "sold" }, { "idempotency-key": "other" })).json();
		expect(other.id).not.toBe(first.id);
		const log = await control<RequestLog>("/requests");
		expect(log.requests.map((r) => r.idempotencyKey)).toEqual([headers["idempotency-key"], headers["idempotency-key"], "other"]);
	});

	it.each([
		[{ status: "sold" }, "Name is required"],
		[{ name: "", status: "sold" }, "Name is required"],
		[{ name: "Rex" }, "Status is required"],
		[{ name: "Rex", status: "Sold" }, "Provided status is invalid."],
		[{ name: "Rex", status: "lost" }, "Provided status is invalid."],
		[{ name: "Rex", status: "sold", id: -1 }, "Invalid ID supplied"],
		[{ name: "Rex", status: "sold", photoUrls: "x" }, "photoUrls must be an array of strings"],
		[[1], "Request body must be a JSON object"],
	])("rejects %j with 400", async (body, message) => {
		const response = await createPet(body);
		expect(response.status).toBe(400);
		expect(await response.json()).toEqual({
			code: 400,
			type: "error",
			message,
		});
		expect(await control("/pets")).toEqual([]);
	});

	it("rejects malformed JSON and non-JSON bodies", async () => {
		const malformed = await api("/pet", {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: "{",
		});
		expect(malformed.status).toBe(400);
		const text = await api("/pet", {
			method: "POST",
			headers: { "content-type": "text/plain" },
			body: "{}",
		});
		expect(text.status).toBe(415);
	});

	it("finds pets by one or more statuses", async () => {
		await createPet({ name: "A", status: "available" });
		await createPet({ name: "B", status: "sold" });
		await createPet({ name: "C", status: "pending" });
		const names = async (query: string) =>
			(
				(await (await api(`/pet/findByStatus?${query}`)).json()) as {
					name: string;
				}[]
			).map((pet) => pet.name);
		expect(await names("status=sold")).toEqual(["B"]);
		expect(await names("status=sold,pending")).toEqual(["B", "C"]);
		expect(await names("status=available&status=sold")).toEqual(["A", "B"]);
		expect((await api("/pet/findByStatus?status=lost")).status).toBe(400);
	});
});

describe("control", () => {
	it("serves queued faults one per pet POST, then recovers", async () => {
		await control("/faults", {
			responses: [{ status: 503 }, { status: 429, retryAfter: "1" }],
		});
		const unavailable = await createPet({ name: "Rex", status: "sold" });
		expect(unavailable.status).toBe(503);
		const limited = await createPet({ name: "Rex", status: "sold" });
		expect(limited.status).toBe(429);
		expect(limited.headers.get("retry-after")).toBe("1");
		expect(await control("/pets")).toEqual([]);

		expect((await createPet({ name: "Rex", status: "sold" })).status).toBe(200);
		const log = await control<RequestLog>("/requests");
		expect(log.requests.map((r) => r.responseStatus)).toEqual([503, 429, 200]);
	});

	it("leaves other routes alone while faults are queued", async () => {
		await control("/faults", { responses: [{ status: 500 }] });
		expect((await api("/user/me")).status).toBe(200);
		expect((await createPet({ name: "Rex", status: "sold" })).status).toBe(500);
	});

	it("can store the pet and still fail, so retries must reuse the idempotency-key", async () => {
		await control("/faults", {
			responses: [{ status: 502, afterCreate: true }],
		});
		const headers = { "idempotency-key": "retry-me" };
		expect((await createPet({ name: "Rex", status: "sold" }, headers)).status).toBe(502);
		const retried = await createPet({ name: "Rex", status: "sold" }, headers);
		expect(retried.status).toBe(200);
		expect(await control<unknown[]>("/pets")).toHaveLength(1);
	});

	it("hangs until the client gives up, then serves the next call normally", async () => {
		await control("/faults", { responses: [{ hangMs: 40_000 }] });
		const gaveUp = createPet({ name: "Rex", status: "sold" }, {}, AbortSignal.timeout(200));
		await expect(gaveUp).rejects.toThrow();
		expect((await createPet({ name: "Rex", status: "sold" })).status).toBe(200);
		const log = await control<RequestLog>("/requests");
		expect(log.requests.map((r) => r.responseStatus)).toEqual([null, 200]);
		expect(log.requests[0]?.endedAt).not.toBeNull();
	});

	it("rejects malformed fault lists", async () => {
		for (const responses of [[{ status: "x" }], [{ statsu: 500 }], {}]) {
			const response = await fetch(`${origin}/__control/faults`, {
				method: "POST",
				body: JSON.stringify({ responses }),
			});
			expect(response.status).toBe(400);
		}
	});

	it("fails with 503 by default and passes a bare delay through", async () => {
		await control("/faults", { responses: [{}, { delayMs: 10 }] });
		expect((await createPet({ name: "A", status: "sold" })).status).toBe(503);
		expect((await createPet({ name: "B", status: "sold" })).status).toBe(200);
	});

	it("reports the highest number of pet POSTs in flight at once", async () => {
		await control("/faults", {
			responses: [{ delayMs: 200 }, { delayMs: 200 }],
		});
		await Promise.all([createPet({ name: "A", status: "sold" }), createPet({ name: "B", status: "sold" })]);
		expect((await control<RequestLog>("/requests")).maxConcurrent).toBe(2);

		await control("/reset", {});
		await control("/faults", { responses: [{ delayMs: 50 }, { delayMs: 50 }] });
		await createPet({ name: "A", status: "sold" });
		await createPet({ name: "B", status: "sold" });
		const log = await control<RequestLog>("/requests");
		expect(log.maxConcurrent).toBe(1);
		expect(log.requests.every((r) => r.endedAt !== null)).toBe(true);
	});

	it("closes promptly even with a request hanging", async () => {
		const other = await startPetstore();
		await fetch(`${new URL(other.url).origin}/__control/faults`, {
			method: "POST",
			body: JSON.stringify({ responses: [{ hangMs: 40_000 }] }),
		});
		const hanging = fetch(`${other.url}/pet`, {
			method: "POST",
			body: "{}",
		}).catch((error: unknown) => error);
		// Close only once the server holds the call (an unanswered POST in its log), so close() meets a hang.
		await eventually("the hanging call to reach the server", async () => {
			const { requests } = (await (await fetch(`${new URL(other.url).origin}/__control/requests`)).json()) as RequestLog;
			return requests.some((r) => r.path === "/v2/pet" && r.endedAt === null);
		});
		await other.close();
		// Had close() waited for the hang to end, the call would have got its 503.
		expect(await hanging).toBeInstanceOf(Error);
	});
});

describe("tenants", () => {
	const tenant = (name: string) => `${origin}/t/${name}`;
	const post = (base: string, name: string) =>
		fetch(`${base}/v2/pet`, {
			method: "POST",
			headers: { "api-key": "secret", "content-type": "application/json" },
			body: JSON.stringify({ name, status: "sold" }),
		});
	const pets = async (base: string) =>
		((await (await fetch(`${base}/__control/pets`)).json()) as { id: number; name: string }[]).map((p) => [p.id, p.name]);

	it("each prefix /t/<name> has its own pets, ids, request log and faults; the bare API is a tenant of its own", async () => {
		const a = tenant(`a-${crypto.randomUUID()}`);
		const b = tenant(`b-${crypto.randomUUID()}`);
		await fetch(`${a}/__control/faults`, { method: "POST", body: JSON.stringify({ responses: [{ status: 503 }] }) });

		expect((await post(b, "Bea")).status).toBe(200);
		expect((await post(a, "Ann")).status).toBe(503);
		expect((await post(a, "Ann")).status).toBe(200);
		expect((await post(origin, "Root")).status).toBe(200);

		expect(await pets(a)).toEqual([[1, "Ann"]]);
		expect(await pets(b)).toEqual([[1, "Bea"]]);
		expect(await pets(origin)).toEqual([[1, "Root"]]);
		const log = (await (await fetch(`${a}/__control/requests`)).json()) as RequestLog;
		expect(log.requests.map((r) => [r.path, r.responseStatus])).toEqual([
			["/v2/pet", 503],
			["/v2/pet", 200],
		]);

		await fetch(`${a}/__control/reset`, { method: "POST" });
		expect(await pets(a)).toEqual([]);
		expect(await pets(b)).toEqual([[1, "Bea"]]);
	});
});
