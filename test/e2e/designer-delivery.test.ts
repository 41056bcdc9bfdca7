// Issue 11 in the designer: the flow's Delivery section (ordering, key with its live preview,
// concurrency, destination rate limit), Pause / Resume, and the dashboard's badge, queued and lag.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, launchBrowser, startApp } from "./designer/harness.ts";
import { walk } from "./designer/walk.ts";

let app: App;
let browser: Browser;
let page: Page;
let flowId = "";
let hookUrl = "";
const consoleErrors: string[] = [];
// Each step builds on the previous one: after a failure the rest are skipped, the final checks still run.
const steps = walk();

async function api<T = Record<string, any>>(method: string, path: string, body?: unknown): Promise<T> {
	const response = await fetch(`${app.origin}/api${path}`, {
		method,
		headers: { authorization: `Bearer ${app.token}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
	return JSON.parse(text) as T;
}

async function postHook(petname: string): Promise<void> {
	const response = await fetch(hookUrl, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ petname, petstatus: "sold" }),
	});
	expect(response.status).toBe(200);
}

const button = (name: string) => page.getByRole("button", { name, exact: true });
const badge = () => page.locator(".page-head .meta .badge");

beforeAll(async () => {
	app = await startApp();
	browser = await launchBrowser();
	page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
	page.on("pageerror", (error) => consoleErrors.push(error.message));
	// The tutorial's flow, built through the API (designer.test.ts clicks that part), published and started.
	const { credential: hookCredential } = await api("POST", "/credentials", { component: "webhook", name: "Open", auth: { type: "none" } });
	const { credentials } = await api("GET", "/credentials?component=petstore");
	const { flow } = await api("POST", "/flows", { name: "Pets by name" });
	flowId = flow.id;
	hookUrl = flow.hookUrl;
	await api("PUT", `/flows/${flowId}/draft`, {
		trigger: { component: "webhook", credentialId: hookCredential.id, name: "Webhook", sample: { petname: "Gromit", petstatus: "sold" } },
		steps: [
			{
				component: "petstore",
				action: "createPet",
				credentialId: credentials[0].id,
				name: "Create a Pet",
				mapping: { name: "petname", status: "petstatus" },
			},
		],
	});
	await api("POST", `/flows/${flowId}/publish`);
	await api("POST", `/flows/${flowId}/start`);
});

afterAll(async () => {
	await browser?.close();
	await app?.stop();
});

describe("the designer's Delivery section and Pause / Resume", () => {
	it("chooses key ordering with a live key preview, a concurrency and a destination rate limit, saved with the draft", async () => {
		await page.goto(`${app.origin}/#token=${app.token}`);
		await page.goto(`${app.origin}/#/flows/${flowId}`);
		const section = page.getByRole("region", { name: "Delivery" });
		await section.waitFor();
		// The default, from the API's settings.
		expect(await section.getByRole("radio", { name: /^Flow order/ }).isChecked()).toBe(true);
		expect(await section.getByLabel("Key (JSONata over the message)").isVisible()).toBe(false);

		await section.getByRole("radio", { name: /^Order per key/ }).check();
		const key = section.getByLabel("Key (JSONata over the message)");
		await key.fill("petname");
		await expect.poll(() => section.locator("#delivery-key-preview").textContent(), { timeout: 10_000 }).toBe("Key of the sample: Gromit");
		await key.fill("shop");
		await expect
			.poll(() => section.locator("#delivery-key-preview").textContent(), { timeout: 10_000 })
			.toBe("The sample has no key: it would go to the “no key” lane.");
		await key.fill("petname");

		// Out of the served range: the API's own message is shown.
		const concurrency = section.getByRole("spinbutton", { name: "Concurrency" });
		expect(await concurrency.getAttribute("max")).toBe("100");
		await concurrency.fill("101");
		await expect.poll(() => section.getByRole("alert").textContent(), { timeout: 10_000 }).toContain("Concurrency is at most 100");
		await concurrency.fill("32");
		await section.getByLabel(/^Destination rate limit/).check();
		await section.getByLabel("Calls", { exact: true }).fill("50");
		await section.getByLabel("Per seconds", { exact: true }).fill("1");
		await expect
			.poll(async () => (await api("GET", `/flows/${flowId}`)).flow.draft.delivery, { timeout: 10_000 })
			.toEqual({ ordering: "key", key: "petname", concurrency: 32, rateLimit: { requests: 50, perSeconds: 1 } });
		expect(await section.getByRole("alert").isVisible()).toBe(false);

		await button("Publish Draft").click();
		await page.getByText("Published version 2").first().waitFor();
		await page.screenshot({ path: "test-results/designer-delivery.png", fullPage: true });
	});

	it("pauses: the hook still answers 200, the dashboard shows the flow paused with its queue and lag", async () => {
		await button("Pause").click();
		await button("Resume").waitFor();
		expect(await badge().textContent()).toBe("Paused");
		expect(await button("Start").isVisible()).toBe(false);
		expect(await button("Stop").isVisible()).toBe(false);

		for (const petname of ["Gromit", "Shaun"]) await postHook(petname);
		await page.goto(`${app.origin}/#/dashboard`);
		const row = page.getByRole("row", { name: /Pets by name/ });
		const cell = (label: string) => row.locator(`td[data-label="${label}"]`);
		await expect.poll(() => cell("Queued").textContent(), { timeout: 30_000 }).toBe("2");
		expect(await cell("Status").textContent()).toBe("Paused");
		expect(await cell("Succeeded").textContent()).toBe("0");
		expect(await cell("Lag").textContent()).toMatch(/^\d+(\.\d)? (ms|s)$/);
		const tile = (label: string) => page.locator(".tile").filter({ hasText: label }).locator("dd");
		expect(await tile("Queued").textContent()).toBe("2");
		expect(await tile("Lag").textContent()).not.toBe("—");
		// The flow's run log says why nothing is delivered.
		await row.getByRole("link", { name: "Pets by name" }).click();
		await page.getByText("Paused: hooks are still accepted and wait here, in order.").waitFor();
	});

	it("resumes: the held executions are delivered and the lag is gone", async () => {
		await page.goto(`${app.origin}/#/flows/${flowId}`);
		await button("Resume").click();
		await button("Pause").waitFor();
		expect(await badge().textContent()).toBe("Running");
		await page.goto(`${app.origin}/#/dashboard`);
		const row = page.getByRole("row", { name: /Pets by name/ });
		const cell = (label: string) => row.locator(`td[data-label="${label}"]`);
		await expect.poll(() => cell("Succeeded").textContent(), { timeout: 60_000, interval: 500 }).toBe("2");
		expect(await cell("Queued").textContent()).toBe("0");
		expect(await cell("Lag").textContent()).toBe("—");
	});

	steps.finalCheck("raised no error in the page", () => {
		expect(consoleErrors).toEqual([]);
	});
});
