// The designer's API page renders the running API's own OpenAPI document, in headless Chromium
// against `npm start`, under the designer's Content-Security-Policy.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, type Json } from "../support/api-client";
import { type App, launchBrowser, startApp } from "./designer/harness.ts";

let app: App;
let browser: Browser;
let page: Page;
let openapi: Json;
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];

beforeAll(async () => {
	app = await startApp();
	openapi = await apiClient({ origin: app.origin, token: app.token }).api("GET", "/api/openapi.json");
	browser = await launchBrowser();
	page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
	page.on("console", (message) => {
		if (message.type() === "error") consoleErrors.push(message.text());
	});
	page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
	page.on("request", (request) => {
		if (!request.url().startsWith(`${app.origin}/`)) foreignRequests.push(request.url());
	});
});

afterAll(async () => {
	await browser?.close();
	await app?.stop();
});

const operations = (): Array<[method: string, path: string, summary: string]> =>
	Object.entries(openapi.paths as Record<string, Record<string, { summary: string }>>).flatMap(([path, byMethod]) =>
		Object.entries(byMethod).map(([method, operation]): [string, string, string] => [method.toUpperCase(), path, operation.summary]),
	);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const operation = (method: string, path: string) =>
	page.locator("details.api-op").filter({ has: page.locator("summary", { hasText: new RegExp(`^${method} ${escapeRegExp(path)} `) }) });

describe("the API reference page", () => {
	it("is reached from the main navigation and lists every operation of /api/openapi.json, grouped by tag", async () => {
		await page.goto(`${app.origin}/#token=${app.token}`);
		await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API" }).click();
		await page.getByRole("heading", { name: "API reference", level: 1 }).waitFor();
		expect(new URL(page.url()).hash).toBe("#/api");

		const expected = operations();
		expect(expected.length).toBeGreaterThan(20);
		const shown = await page.locator("details.api-op > summary").allInnerTexts();
		expect(shown.map((text) => text.replace(/\s+/g, " ").trim())).toEqual(
			expect.arrayContaining(expected.map(([method, path, summary]) => `${method} ${path} ${summary}`)),
		);
		expect(shown).toHaveLength(expected.length);
		expect(await page.getByRole("status").filter({ hasText: "operations" }).textContent()).toBe(
			`${expected.length} of ${expected.length} operations`,
		);
		for (const tag of ["credentials", "flows", "executions"]) {
			await page.getByRole("heading", { name: tag, level: 2 }).waitFor();
		}
	});

	it("opens an operation to its request body, resolved from the component schemas, with every credential variant", async () => {
		const create = operation("POST", "/api/credentials");
		await create.locator("summary").click();
		const body = create.locator(".api-part").filter({ has: page.getByRole("heading", { name: "Request body" }) });
		await body.waitFor();
		const text = (await body.textContent()) ?? "";
		// The CreateCredential schema: one of a webhook or a Petstore credential…
		expect(text).toContain("one of");
		expect(text).toContain('"webhook"');
		expect(text).toContain('"petstore"');
		// …and the webhook's auth types, with their fields.
		for (const type of ['"none"', '"basic"', '"apiKey"', '"hmac"', '"standardWebhooks"']) expect(text).toContain(type);
		expect(text).toMatch(/algorithm\s*"sha1" \| "sha256" \| "sha512"/);
		expect(await create.locator(".api-responses").textContent()).toContain("201");
	});

	it("shows what an operation answers, field by field, from the server's response schemas", async () => {
		const read = operation("GET", "/api/flows/{id}");
		await read.locator("summary").click();
		const answer = (await read.locator(".api-responses").textContent()) ?? "";
		expect(answer).toContain("(FlowAnswer)");
		for (const field of ["hookUrl", "counters", "received", "authFailures", "createdAt"]) expect(answer).toContain(field);
		expect(answer).toMatch(/status\s*(required)?\s*"draft" \|.*"running"/);
	});

	it("shows path and query parameters with their constraints", async () => {
		const list = operation("GET", "/api/flows/{id}/executions");
		await list.locator("summary").click();
		const rows = list.locator("table.api-params tbody tr");
		const cells = async (name: string, where: "path" | "query") =>
			(
				await rows
					.filter({ has: page.locator("td:first-child code", { hasText: new RegExp(`^${name}$`) }) })
					.filter({ has: page.locator("td:nth-child(2)", { hasText: new RegExp(`^${where}$`) }) })
					.locator("td")
					.allTextContents()
			).map((text) => text.trim());
		expect(await cells("id", "path")).toEqual(["id required", "path", "string"]);
		expect(await cells("limit", "query")).toEqual(["limit", "query", "integer (≥ 1, ≤ 100) (default 20)"]);
		expect(await cells("status", "query")).toEqual(["status", "query", '"queued" | "retrying" | "succeeded" | "failed" | "filtered"']);
	});

	it("filters operations by the words typed", async () => {
		await page.getByLabel("Filter operations").fill("retry");
		const visible = page.locator("details.api-op:visible > summary");
		const expected = operations().filter(([method, path, summary]) => `${method} ${path} ${summary}`.toLowerCase().includes("retry"));
		expect(expected.length).toBeGreaterThanOrEqual(2);
		expect(await visible.count()).toBe(expected.length);
		expect(await page.getByRole("status").filter({ hasText: "operations" }).textContent()).toBe(
			`${expected.length} of ${operations().length} operations`,
		);
		await page.getByLabel("Filter operations").fill("");
		expect(await visible.count()).toBe(operations().length);
	});

	it("logged no console errors (the CSP allows everything it does) and loaded nothing from other origins", () => {
		expect(consoleErrors).toEqual([]);
		expect(foreignRequests).toEqual([]);
	});
});
