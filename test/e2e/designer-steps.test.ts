// Flows of many steps, built only by clicking in the designer (headless Chromium against npm start):
// a filter, an HTTP request with a bearer credential made inline, a Petstore step mapped from the
// HTTP step's sample; it runs, a failed step is retried from its execution page; a router with two
// routes. The Petstore (and its CRM) runs in this process, so the test sees every call it gets.
import { mkdirSync, rmSync } from "node:fs";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Petstore, type RequestRecord, startPetstore } from "../../dev/petstore/server.ts";
import { flowSteps } from "./designer/flow-steps.ts";
import { type App, launchBrowser, startApp } from "./designer/harness.ts";
import { walk } from "./designer/walk.ts";

const SHOTS = "test-results/designer-steps";

let petstore: Petstore;
let app: App;
let browser: Browser;
let page: Page;
let shot = 0;
let hookUrl = "";
const steps = walk({ onFailure: (step) => screenshot(`failed-${step.slice(0, 40).replace(/\W+/g, "-")}`) });
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];
/** What every confirm() asked, and whether the test accepts the next one. */
const dialogs: string[] = [];
const acceptDialogs = false;

const crmBase = () => petstore.url.replace(/\/v2$/, "/crm");
const { button, newFlow, choose, retrieveAndFinish } = flowSteps(() => page);
const group = (name: string) => page.getByRole("group", { name: new RegExp(`^${name}`) });
const preview = () => page.getByRole("region", { name: "Preview" });

async function screenshot(name: string) {
	shot += 1;
	await page.screenshot({ path: `${SHOTS}/${String(shot).padStart(2, "0")}-${name}.png`, fullPage: true });
}

/** The README's pictures (docs/designer-*.png are copied from these): one part of the page, or what the window shows. */
async function docShot(name: string, part?: Locator) {
	await (part ?? page).screenshot({ path: `${SHOTS}/docs-${name}.png` });
}

async function requests(): Promise<RequestRecord[]> {
	const answer = await fetch(`${petstore.url.replace(/\/v2$/, "")}/__control/requests`);
	return ((await answer.json()) as { requests: RequestRecord[] }).requests;
}
const crmLookups = async () => (await requests()).filter((r) => r.path.startsWith("/crm/customers/")).length;

async function postHook(body: unknown): Promise<string> {
	const response = await fetch(hookUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
	expect(response.status).toBe(200);
	return ((await response.json()) as { requestId: string }).requestId;
}

async function execution(id: string) {
	const answer = await fetch(`${app.origin}/api/executions/${id}`, { headers: { authorization: `Bearer ${app.token}` } });
	return answer.ok ? ((await answer.json()) as { execution: { status: string; steps: { id: string; status: string }[] } }).execution : null;
}

async function openFlow(name: string) {
	await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Flows" }).click();
	await page.getByRole("link", { name }).click();
	await page.getByRole("heading", { name, level: 1 }).waitFor();
}

async function publishAndStart() {
	await button("Publish Draft").click();
	await page.getByText("Published version 1").first().waitFor();
	await button("Start").click();
	await button("Stop").waitFor();
	hookUrl = await page.getByRole("textbox", { name: "Hook URL", exact: true }).inputValue();
}

beforeAll(async () => {
	rmSync(SHOTS, { recursive: true, force: true });
	mkdirSync(SHOTS, { recursive: true });
	petstore = await startPetstore();
	app = await startApp({ HOOKFLOW_PETSTORE_URL: petstore.url });
	browser = await launchBrowser();
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	page = await context.newPage();
	page.on("console", (message) => {
		if (message.type() === "error") consoleErrors.push(message.text());
	});
	page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
	page.on("request", (request) => {
		if (!request.url().startsWith(`${app.origin}/`)) foreignRequests.push(request.url());
	});
	page.on("dialog", (dialog) => {
		dialogs.push(dialog.message());
		(acceptDialogs ? dialog.accept() : dialog.dismiss()).catch(() => {});
	});
	await page.goto(`${app.origin}/#token=${app.token}`);
	await page.getByRole("heading", { name: "Flows", level: 1 }).waitFor();
});

afterAll(async () => {
	await browser?.close();
	await app?.stop();
	await petstore?.close();
});

describe("a flow of four steps, built by clicking", () => {
	it("offers the catalogue's components by search, each action of Logic on its own", async () => {
		await newFlow("Orders to pets", { customer: "ada", amount: 25 });
		const search = page.getByRole("searchbox", { name: "Search components" });
		const visible = async () =>
			(await page.locator("#component-list li:not([hidden]) button").allTextContents()).filter((text) => text.startsWith("Choose"));
		for (const [query, title] of [
			["http", "Choose HTTP request"],
			["filter", "Choose Filter"],
			["split", "Choose Split"],
			["router", "Choose Router"],
			["petstore", "Choose Petstore API (Node.js)"],
		] as const) {
			await search.fill(query);
			expect(await visible()).toEqual([title]);
		}
		await search.fill("");
		expect(await visible()).toEqual(expect.arrayContaining(["Choose Transform", "Choose HTTP request", "Choose Filter"]));
	});

	it("adds a filter whose preview and sample say the sample passes", async () => {
		await choose("filter", "Filter");
		await page.getByRole("heading", { name: "Settings: Filter" }).waitFor();
		await page.getByLabel("Condition", { exact: true }).fill("amount >= 10");
		await preview().getByText("The sample passes").waitFor();
		await button("Continue").click();
		await retrieveAndFinish(/The sample passes/, "Big orders");
	});

	it("adds an HTTP request with a bearer credential created inline, its URL built with Insert field", async () => {
		await button("Add step after “Big orders”").click();
		await choose("http", "HTTP request");
		await page.getByRole("heading", { name: "Credentials for HTTP request" }).waitFor();
		await button("Create new credentials").click();
		await page.getByLabel("Credential name").fill("CRM");
		await page.getByLabel("Base URL").fill(crmBase());
		const types = await page.getByLabel("Authentication type").locator("option").allTextContents();
		expect(types).toEqual(["No Auth", "Basic Auth", "Bearer token", "API key", "OAuth2 client credentials"]);
		await page.getByLabel("Authentication type").selectOption({ label: "Bearer token" });
		await page.getByLabel("Token", { exact: true }).fill("crm-token");
		await button("Save").click();
		expect(await page.getByRole("radio", { name: /CRM/ }).isChecked()).toBe(true);
		await button("Continue").click();
		await page.getByRole("heading", { name: "Settings: Send an HTTP request" }).waitFor();
		// The form is the catalogue's: its labels, required marks and the method's options.
		expect(await page.getByLabel("Method").locator("option").allTextContents()).toEqual(["GET", "POST", "PUT", "PATCH", "DELETE"]);
		await page.getByLabel("URL", { exact: true }).fill("/customers/");
		await page.getByLabel("Insert a field into URL").selectOption("customer");
		expect(await page.getByLabel("URL", { exact: true }).inputValue()).toBe("/customers/{{customer}}");
		await preview().getByText(`GET ${crmBase()}/customers/ada`).waitFor();
		// Headers are name and template rows; the preview shows what would be sent.
		await button("Add header").click();
		await page.getByLabel("Headers 1: name").fill("x-order-of");
		await page.getByLabel("Insert a field into Headers 1: value").selectOption("customer");
		await preview().getByText("x-order-of: ada").waitFor();
		await page.setViewportSize({ width: 390, height: 844 });
		expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
		await screenshot("phone-http-settings");
		await page.setViewportSize({ width: 1280, height: 900 });
		await screenshot("http-settings");
		const before = await crmLookups();
		await button("Continue").click();
		await retrieveAndFinish(/HTTP 200/, "CRM lookup", "crm");
		// A real call, made once.
		expect(await crmLookups()).toBe(before + 1);
	});

	it("maps the Petstore step from the HTTP step's sample", async () => {
		await button("Add step after “CRM lookup”").click();
		await choose("petstore", "Petstore API (Node.js)");
		await page.getByRole("radio", { name: /Local Petstore/ }).check();
		await expect.poll(() => button("Continue").isEnabled()).toBe(true);
		await button("Continue").click();
		await page.getByRole("heading", { name: "Mapping: Create a Pet" }).waitFor();
		const nameSource = group("Name").getByLabel("Sample property");
		const offered = await nameSource.locator("option").allTextContents();
		expect(offered).toContain('customer = "ada"');
		expect(offered).toContain('CRM lookup › body › email = "ada@example.test"');
		// The filter kept its verdict as its sample, offered too.
		expect(offered).toContain("Big orders = true");
		await nameSource.selectOption("$steps.crm.body.name");
		expect(await group("Name").getByLabel("JSONata expression").inputValue()).toBe("$steps.crm.body.name");
		await group("Status").getByLabel("Sample property").selectOption('"available"');
		await preview().getByText('"name": "Customer ada"').waitFor();
		// For the docs: the drop-down drawn open (a native one cannot be captured).
		await nameSource.evaluate((select) => {
			// Drawn over the expression box, as an open drop-down is (CSSOM styles are allowed by the policy).
			Object.assign((select as HTMLSelectElement).style, { width: "26rem", position: "relative", zIndex: "1" });
			(select as HTMLSelectElement).size = 14;
		});
		await screenshot("mapping-picker");
		await docShot("step-fields", page.locator(".designer"));
		await nameSource.evaluate((select) => {
			(select as HTMLSelectElement).removeAttribute("style");
			(select as HTMLSelectElement).size = 0;
		});
		await button("Continue").click();
		await retrieveAndFinish(/HTTP 200/, "Pet for the customer");
		await screenshot("step-list");
		await docShot("steps", page.locator(".designer"));
	});

	it("moves and deletes steps from the keyboard, asking first when a later step reads the one deleted", async () => {
		const nav = page.getByRole("navigation", { name: "Flow steps" });
		const order = () => nav.locator(".step-title").allTextContents();
		expect(await order()).toEqual(["Webhook", "Big orders", "CRM lookup", "Pet for the customer"]);
		await button("Move down “Big orders”").focus();
		await page.keyboard.press("Enter");
		expect(await order()).toEqual(["Webhook", "CRM lookup", "Big orders", "Pet for the customer"]);
		// Focus stays on the moved step's button, so a second Enter would move it again.
		expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Move down “Big orders”");
		await button("Move up “Big orders”").press("Enter");
		expect(await order()).toEqual(["Webhook", "Big orders", "CRM lookup", "Pet for the customer"]);
		// A move that puts a step before one it reads is told at once, with publishing's rule.
		const warning = page.getByRole("alert").filter({ hasText: "reads $steps." });
		await button("Move up “Pet for the customer”").press("Enter");
		await warning
			.getByText("“Pet for the customer” reads $steps.crm, which is not an earlier step on the way to it; publishing refuses that.")
			.waitFor();
		await button("Move down “Pet for the customer”").press("Enter");
		await warning.waitFor({ state: "hidden" });
		expect(await order()).toEqual(["Webhook", "Big orders", "CRM lookup", "Pet for the customer"]);
		await button("Delete “CRM lookup”").press("Enter");
		expect(dialogs.at(-1)).toContain("“Pet for the customer” read its output ($steps.crm)");
		expect(await order()).toEqual(["Webhook", "Big orders", "CRM lookup", "Pet for the customer"]);
		// A step nobody reads goes without a question.
		await button("Add step after “Pet for the customer”").click();
		await choose("transform", "Transform");
		const asked = dialogs.length;
		await button("Delete “Transform”").press("Enter");
		expect(dialogs.length).toBe(asked);
		expect(await order()).toEqual(["Webhook", "Big orders", "CRM lookup", "Pet for the customer"]);
	});
});

describe("a router with two routes", () => {
	it("draws each route as a lane with its own Add step, and shows which way the sample goes", async () => {
		await newFlow("Pets by tier", { tier: "gold", pet: "Rex" });
		await choose("router", "Router");
		await page.getByRole("heading", { name: "Settings: Router" }).waitFor();
		await button("Add route").click();
		await page.getByLabel("Route name").fill("Gold");
		await page.getByLabel("Condition", { exact: true }).fill('tier = "gold"');
		await button("Add route").click();
		await page.getByLabel("Route name").nth(1).fill("Basic");
		await page.getByLabel("Condition", { exact: true }).nth(1).fill('tier = "basic"');
		await preview().getByText("The sample takes: Gold").waitFor();
		await button("Continue").click();
		await retrieveAndFinish(/The sample takes: Gold/, "By tier", "tier");
		const nav = page.getByRole("navigation", { name: "Flow steps" });
		for (const lane of ["Route “Gold”", "Route “Basic”", "Otherwise"]) await nav.getByRole("group", { name: `By tier: ${lane}` }).waitFor();
		for (const [lane, prefix] of [
			["Gold", "gold"],
			["Basic", "basic"],
		] as const) {
			await button(`Add step to Route “${lane}” of “By tier”`).click();
			await choose("petstore", "Petstore API (Node.js)");
			await page.getByRole("radio", { name: /Local Petstore/ }).check();
			await expect.poll(() => button("Continue").isEnabled()).toBe(true);
			await button("Continue").click();
			await group("Name").getByLabel("JSONata expression").fill(`"${prefix} " & pet`);
			await group("Status").getByLabel("Sample property").selectOption('"available"');
			await preview().getByText(`"name": "${prefix} Rex"`).waitFor();
			await button("Continue").click();
			await button("Skip").click();
			await page.getByLabel("Step name").fill(`${lane} pet`);
			await button("Finish step").click();
		}
		const gold = nav.getByRole("group", { name: "By tier: Route “Gold”" });
		expect(await gold.locator(".step-title").allTextContents()).toEqual(["Gold pet"]);
		// Each route numbers its steps on its own: 2.1.1 in the first, 2.2.1 in the second.
		const basic = nav.getByRole("group", { name: "By tier: Route “Basic”" });
		expect(await gold.locator(".step-kind").textContent()).toMatch(/^2\.1\.1\. /);
		expect(await basic.locator(".step-kind").textContent()).toMatch(/^2\.2\.1\. /);
		await screenshot("router-lanes");
		await docShot("router", page.locator(".designer"));
	});

	it("fits a 390-px phone", async () => {
		await page.setViewportSize({ width: 390, height: 844 });
		await page.getByRole("navigation", { name: "Flow steps" }).waitFor();
		expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
		await screenshot("phone-router");
		await page.setViewportSize({ width: 1280, height: 900 });
	});
});

describe("a split", () => {
	it("offers $item's fields to the steps inside it", async () => {
		await newFlow("Order lines", {
			order: "o1",
			lines: [
				{ sku: "A1", qty: 2 },
				{ sku: "B2", qty: 1 },
			],
		});
		await choose("split", "Split");
		await page.getByRole("heading", { name: "Settings: Split" }).waitFor();
		await page.getByLabel("Items", { exact: true }).fill("lines");
		await preview().getByText("2 items; the first is $item").waitFor();
		await button("Continue").click();
		await retrieveAndFinish(/2 items/, "Each line", "line");
		await button("Add step to For each item of “Each line”").click();
		await choose("transform", "Transform");
		const pick = page.getByLabel("Insert a field into Expression");
		expect(await pick.locator("option").allTextContents()).toContain('Item › sku = "A1"');
		await pick.selectOption("$item.sku");
		expect(await page.getByLabel("Expression", { exact: true }).inputValue()).toBe("$item.sku");
		await preview().getByText('"A1"').waitFor();
		await button("Continue").click();
		await button("Skip").click();
		await page.getByLabel("Step name").fill("Line sku");
		await button("Finish step").click();
		await page.getByRole("group", { name: "Each line: For each item" }).getByText("Line sku").waitFor();
	});
});

describe("running them", () => {
	it("groups a split's step runs per item in the timeline", async () => {
		await publishAndStart();
		const id = await postHook({ order: "o2", lines: [{ sku: "C3" }, { sku: "D4" }] });
		await expect.poll(async () => (await execution(id))?.status, { timeout: 60_000, interval: 500 }).toBe("succeeded");
		await page.goto(`${app.origin}/#/executions/${id}`);
		const items = page.getByRole("region", { name: "Steps" }).locator(".split-item");
		await expect.poll(() => items.count(), { timeout: 30_000 }).toBe(2);
		expect(await items.locator(".lane-title").allTextContents()).toEqual(["Item 1 of “Each line”", "Item 2 of “Each line”"]);
		expect(await items.nth(1).locator("summary strong").allTextContents()).toEqual(["Line sku"]);
		// The split's own run comes before its items'.
		expect(await page.getByRole("region", { name: "Steps" }).locator("summary strong").allTextContents()).toEqual([
			"Each line",
			"Line sku",
			"Line sku",
		]);
		await screenshot("execution-split");
	});

	it("runs only the route the event takes", async () => {
		await openFlow("Pets by tier");
		await publishAndStart();
		const before = (await requests()).filter((r) => r.path === "/v2/pet").length;
		const id = await postHook({ tier: "basic", pet: "Max" });
		await expect.poll(async () => (await execution(id))?.status, { timeout: 60_000, interval: 500 }).toBe("succeeded");
		const pets = (await requests()).filter((r) => r.path === "/v2/pet");
		expect(pets.length).toBe(before + 1);
		expect(pets.at(-1)?.body).toMatchObject({ name: "basic Max" });
		// The Gold route's step (step_1) did not succeed; the Basic route's (step_2) did.
		const runs = Object.fromEntries((await execution(id))?.steps.map((s) => [s.id, s.status]) ?? []);
		expect(runs).toMatchObject({ tier: "succeeded", step_2: "succeeded" });
		expect(runs.step_1).not.toBe("succeeded");
		// The timeline reads as the definition: the router first, then the steps of its routes.
		await page.goto(`${app.origin}/#/executions/${id}`);
		const timeline = page.getByRole("region", { name: "Steps" });
		await timeline.getByText("Basic pet").waitFor();
		expect((await timeline.locator("summary strong").allTextContents()).filter((name) => name !== "Gold pet")).toEqual([
			"By tier",
			"Basic pet",
		]);
	});

	it("publishes, runs every step, and filters out small orders", async () => {
		await openFlow("Orders to pets");
		await publishAndStart();
		const ada = await postHook({ customer: "ada", amount: 25 });
		const bob = await postHook({ customer: "bob", amount: 3 });
		await expect.poll(async () => (await execution(ada))?.status, { timeout: 60_000, interval: 500 }).toBe("succeeded");
		await expect.poll(async () => (await execution(bob))?.status, { timeout: 60_000, interval: 500 }).toBe("filtered");
		await page.goto(`${app.origin}/#/executions/${ada}`);
		const timeline = page.getByRole("region", { name: "Steps" });
		await timeline.getByText("Pet for the customer").waitFor();
		expect(await timeline.locator("summary strong").allTextContents()).toEqual(["Big orders", "CRM lookup", "Pet for the customer"]);
		expect(await timeline.locator("summary .badge").allTextContents()).toEqual(["Succeeded", "Succeeded", "Succeeded"]);
		await page.getByRole("link", { name: "Run log" }).click();
		const status = page.getByRole("combobox", { name: "Status" });
		await status.locator("option", { hasText: "Filtered" }).waitFor({ state: "attached" });
		await status.selectOption("filtered");
		await page.getByRole("link", { name: bob.slice(0, 8) }).waitFor({ timeout: 30_000 });
		// Only the filtered one once the search has been applied.
		const rows = page.getByRole("table", { name: "Executions, newest first" }).locator("tbody tr");
		await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(1);
		await rows.getByText("Filtered").waitFor();
	});

	it("retries a failed step from its execution page, without calling the steps before it again", async () => {
		await fetch(`${petstore.url.replace(/\/v2$/, "")}/__control/faults`, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ responses: [{ status: 400 }] }),
		});
		const id = await postHook({ customer: "cy", amount: 50 });
		await expect.poll(async () => (await execution(id))?.status, { timeout: 60_000, interval: 500 }).toBe("failed");
		const lookups = await crmLookups();
		await page.goto(`${app.origin}/#/executions/${id}`);
		const failed = page.locator(".step-run.step-failed");
		await failed.getByText("Pet for the customer", { exact: true }).waitFor();
		expect(await failed.getAttribute("open")).not.toBeNull();
		await page.getByText("Retry resumes at the step that failed, “Pet for the customer”").waitFor();
		await screenshot("execution-timeline-failed");
		await docShot("timeline");
		await button("Retry").click();
		const timeline = page.getByRole("region", { name: "Steps" });
		await expect
			.poll(() => timeline.locator("summary .badge").allTextContents(), { timeout: 60_000, interval: 500 })
			.toEqual(expect.arrayContaining(["Succeeded"]));
		await expect.poll(async () => (await execution(id))?.status, { timeout: 60_000, interval: 500 }).toBe("succeeded");
		await page.locator(".step-run:not(.step-failed)").last().waitFor();
		expect(await crmLookups()).toBe(lookups);
		await screenshot("execution-timeline");
		await page.setViewportSize({ width: 390, height: 844 });
		expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
		await screenshot("phone-execution-timeline");
		await page.setViewportSize({ width: 1280, height: 900 });
	});
	steps.finalCheck("logged no console errors (no CSP violation) and loaded nothing from other origins", () => {
		expect(consoleErrors).toEqual([]);
		expect(foreignRequests).toEqual([]);
	});
});
