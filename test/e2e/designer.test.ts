// The README's designer walkthrough, clicked through the designer in headless Chromium against `npm start`.
import { mkdirSync, rmSync } from "node:fs";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, launchBrowser, startApp, startHeldPetstore } from "./designer/harness.ts";
import { walk } from "./designer/walk.ts";

const SHOTS = "test-results/designer";
const BASIC = { username: "shop", password: "gromit-and-wallace" };

let app: App;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let shot = 0;
let hookUrl = "";
// Each step builds on the previous one: after a failure the rest are skipped, the final checks still run.
const steps = walk();
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];

async function screenshot(name: string, target = page) {
	shot += 1;
	await target.screenshot({ path: `${SHOTS}/${String(shot).padStart(2, "0")}-${name}.png`, fullPage: true });
}

// Errors in the page fail the test; so does any request that leaves the app's origin.
function watch(target: Page) {
	target.on("console", (message) => {
		if (message.type() === "error") consoleErrors.push(message.text());
	});
	target.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
	target.on("request", (request) => {
		if (!request.url().startsWith(`${app.origin}/`)) foreignRequests.push(request.url());
	});
}

// Chromium logs every non-2xx fetch as a console error; these few are the ones a step provokes on purpose.
function expectOnlyProvokedErrors(allowed: RegExp[]) {
	expect(consoleErrors.filter((text) => !allowed.some((re) => re.test(text)))).toEqual([]);
}

const group = (name: string) => page.getByRole("group", { name: new RegExp(`^${name}`) });
const button = (name: string, root: Page | Locator = page) => root.getByRole("button", { name, exact: true });

async function postHook(body: unknown) {
	const response = await fetch(hookUrl, {
		method: "POST",
		headers: {
			authorization: `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString("base64")}`,
			"content-type": "application/json",
		},
		body: JSON.stringify(body),
	});
	expect(response.status).toBe(200);
	const { requestId } = (await response.json()) as { requestId: string };
	expect(requestId).toMatch(/^[0-9a-f]{32}$/);
	return requestId;
}

beforeAll(async () => {
	rmSync(SHOTS, { recursive: true, force: true });
	mkdirSync(SHOTS, { recursive: true });
	app = await startApp();
	browser = await launchBrowser();
	context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	page = await context.newPage();
	watch(page);
});

afterAll(async () => {
	await browser?.close();
	await app?.stop();
});

describe("designer walkthrough", () => {
	it("signs in from the URL fragment and strips the token from the address bar", async () => {
		const response = await page.goto(`${app.origin}/#token=${app.token}`);
		// The strict policy is really sent, so any inline script or style would be a console error below.
		const csp = (await response?.allHeaders())?.["content-security-policy"] ?? "";
		expect(csp).toContain("script-src 'self'");
		expect(csp).toContain("style-src 'self'");
		await page.getByRole("heading", { name: "Flows", level: 1 }).waitFor();
		expect(new URL(page.url()).hash).toBe("#/flows");
		expect(await page.evaluate(() => sessionStorage.getItem("hookflow-token"))).toBe(app.token);
		await screenshot("flows-empty");
	});

	it("asks for the token when there is none, and again when it is refused", async () => {
		const other = await context.newPage();
		watch(other);
		await other.goto(`${app.origin}/#/flows`);
		const dialog = other.getByRole("dialog", { name: "Sign in" });
		await dialog.waitFor();
		await screenshot("sign-in", other);
		await dialog.getByLabel("Admin token").fill("not-the-token");
		await button("Sign in", dialog).click();
		await dialog.getByText("The admin token was refused").waitFor();
		await dialog.getByLabel("Admin token").fill(app.token);
		await button("Sign in", dialog).click();
		await other.getByRole("button", { name: "Add New Flow" }).waitFor();
		await other.close();
	});

	it("adds a flow and chooses the Webhook with the component search", async () => {
		await button("Add New Flow").click();
		await page.getByLabel("Flow name").fill("Pets from the shop");
		await page.getByLabel("Flow name").press("Enter");
		await page.getByRole("heading", { name: "Pets from the shop", level: 1 }).waitFor();
		const search = page.getByRole("searchbox", { name: "Search components" });
		await search.fill("petstore");
		await button("Choose Webhook").waitFor({ state: "hidden" });
		await search.fill("webhook");
		await button("Choose Petstore API (Node.js)").waitFor({ state: "hidden" });
		await screenshot("chooser-search");
		// By keyboard: Tab from the search box reaches the one remaining choice.
		await search.press("Tab");
		expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Choose Webhook");
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Credentials for Webhook" }).waitFor();
	});

	it("creates Basic Auth credentials", async () => {
		await button("Create new credentials").click();
		await page.getByLabel("Credential name").fill("Shop webhook");
		// The picker groups the catalogue's types; a provider shows where its secret is and what it sends.
		const groups = await page
			.getByLabel("Authentication type")
			.evaluate((select) =>
				[...select.querySelectorAll("optgroup")].map((g) => [g.label, [...g.querySelectorAll("option")].map((o) => o.textContent)]),
			);
		expect(groups.map(([label]) => label)).toEqual(["Generic", "Providers"]);
		expect(groups[0]?.[1]).toEqual(["No Auth", "Basic Auth", "API Key Auth", "HMAC verification", "Standard Webhooks"]);
		expect(groups[1]?.[1]).toContain("Stripe");
		await page.getByLabel("Authentication type").selectOption({ label: "Stripe" });
		const about = page.locator(".type-about");
		await about.getByText("Where to find the secret").waitFor();
		expect(await about.textContent()).toContain("Stripe-Signature");
		expect(await about.textContent()).toMatch(/Developers → Webhooks/);
		await screenshot("webhook-credentials-providers");
		await page.getByLabel("Authentication type").selectOption({ label: "Basic Auth" });
		await page.getByLabel("Username").fill(BASIC.username);
		await page.getByLabel("Password").fill(BASIC.password);
		await screenshot("webhook-credentials-form");
		await button("Save").click();
		await page.getByRole("radio", { name: /Shop webhook/ }).waitFor();
		expect(await page.getByRole("radio", { name: /Shop webhook/ }).isChecked()).toBe(true);
		await screenshot("webhook-credentials");
		await button("Continue").click();
	});

	it("validates a hand-written sample and points at the error", async () => {
		await button("Add sample manually").click();
		const json = page.getByLabel("Sample (JSON object)");
		await json.fill('{\n  "petname": "Gromit"\n  "petstatus": "Sold"\n}');
		await button("Save").click();
		await page.getByText("Line 3, column 3: Expected ',' or '}'.").waitFor();
		expect(await json.getAttribute("aria-invalid")).toBe("true");
		await screenshot("sample-invalid");
	});

	it("receives the sample through Send sample request", async () => {
		await button("Send sample request").click();
		const urlField = page.getByRole("textbox", { name: "Sample request URL" });
		await urlField.waitFor();
		const url = await urlField.inputValue();
		expect(url).toMatch(new RegExp(`^${app.origin}/sample/`));
		expect(await page.getByRole("textbox", { name: "Or send it with curl" }).inputValue()).toContain(url);
		await page.getByText("Waiting for a request to arrive").waitFor();
		await screenshot("sample-waiting");
		const sent = await fetch(url, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ petname: "Gromit", petstatus: "Sold" }),
		});
		expect(sent.status).toBe(200);
		await page.getByText("Request received. It is now the sample, shown below.").waitFor({ timeout: 30_000 });
		await screenshot("sample-received");
		await button("Continue").click();
	});

	it("finishes the trigger step with a name and a note", async () => {
		await page.getByLabel("Step name").fill("Order from the shop");
		await page.getByLabel("Note").fill("The shop posts one request per sold pet.");
		// Off by default (client IPs are personal data); this flow keeps them.
		const keepIps = page.getByLabel("Keep client IP headers in _headers");
		expect(await keepIps.isChecked()).toBe(false);
		await keepIps.check();
		await button("Finish step").click();
		await page.getByRole("heading", { name: "Choose the action" }).waitFor();
	});

	it("chooses the Petstore and its credential; a refused key shows the reason", async () => {
		await page.getByRole("searchbox", { name: "Search components" }).fill("petstore");
		await button("Choose Petstore API (Node.js)").click();
		await button("Create new credentials").click();
		await page.getByLabel("Credential name").fill("Wrong key");
		await page.getByLabel("API key", { exact: true }).fill("not-secret");
		await button("Save").click();
		await page
			.getByRole("alert")
			.getByText(/^Not saved:/)
			.waitFor({ timeout: 35_000 });
		await screenshot("petstore-key-refused");
		await button("Cancel").click();

		// The key check is held until the ticking progress has been seen, however loaded the machine.
		const slow = await startHeldPetstore();
		try {
			await button("Create new credentials").click();
			await page.getByLabel("Credential name").fill("Slow Petstore");
			await page.getByLabel("API key", { exact: true }).fill("secret");
			await page.getByLabel("Base URL").fill(slow.url);
			await button("Save").click();
			// The limit the server serves in the catalogue: its own key-check timeout.
			await page.getByText(/^Verifying the API key with the Petstore… [1-9]\d* s \(at most 25 s\)$/).waitFor();
			expect(slow.held()).toBe(1);
			await screenshot("petstore-key-verifying");
			slow.release();
			await page.getByRole("radio", { name: /Slow Petstore/ }).waitFor({ timeout: 35_000 });
		} finally {
			await slow.close();
		}

		// Changing where a stored key goes asks for the key again.
		await button("Change Local Petstore").click();
		const change = page.getByRole("form", { name: "Change “Local Petstore”" });
		await change.getByLabel("Base URL").fill("http://127.0.0.1:9/v2");
		await change.getByText(/^Required: a new Base URL needs the API key again/).waitFor();
		await button("Save changes", change).click();
		// The browser refuses to submit without the key, so nothing was sent.
		expect(await change.getByLabel("API key").evaluate((input) => (input as HTMLInputElement).validity.valueMissing)).toBe(true);
		await screenshot("petstore-credential-change");
		await button("Cancel", change).click();
		await change.waitFor({ state: "detached" });

		await page.getByRole("radio", { name: /Local Petstore/ }).check();
		// Continue is enabled once the choice is saved into the draft.
		await expect.poll(() => button("Continue").isEnabled()).toBe(true);
		await screenshot("petstore-credentials");
		await button("Continue").click();
		await page.getByRole("heading", { name: "Mapping: Create a Pet" }).waitFor();
	});

	it("maps petname → Name and petstatus → Status from the drop-downs, with a live preview", async () => {
		await group("Name").getByLabel("Sample property").selectOption("petname");
		await group("Status").getByLabel("Sample property").selectOption("petstatus");
		expect(await group("Name").getByLabel("JSONata expression").inputValue()).toBe("petname");
		const preview = page.getByRole("region", { name: "Preview" });
		await preview.getByText('"status": "sold"').waitFor();
		await preview.getByText('"name": "Gromit"').waitFor();
		await screenshot("mapping");
		await button("Continue").click();
	});

	it("retrieves a sample from the local Petstore", async () => {
		await button("Retrieve sample").click();
		await page.getByText("HTTP 200").waitFor({ timeout: 35_000 });
		await screenshot("retrieve-sample");
		await button("Continue").click();
		await button("Finish step").click();
	});

	it("publishes, starts and shows the hook URL with a Basic Auth curl line", async () => {
		await button("Publish Draft").click();
		await page.getByText("Published version 1").first().waitFor();
		await button("Start").click();
		await button("Stop").waitFor();
		hookUrl = await page.getByRole("textbox", { name: "Hook URL", exact: true }).inputValue();
		expect(hookUrl).toMatch(new RegExp(`^${app.origin}/hook/[A-Za-z0-9_-]{22,}$`));
		const curl = await page.getByRole("textbox", { name: /^Try it with curl/ }).inputValue();
		expect(curl).toContain(`-u '${BASIC.username}:<password>'`);
		expect(curl).toContain(hookUrl);
		await screenshot("running");
	});

	it("counts three hook requests on the dashboard", async () => {
		for (const petname of ["Gromit", "Feathers", "Shaun"]) await postHook({ petname, petstatus: "Sold" });
		await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
		const tile = (label: string) => page.locator(".tile").filter({ hasText: label }).locator("dd");
		await expect.poll(() => tile("Succeeded").textContent(), { timeout: 60_000, interval: 500 }).toBe("3");
		expect(await tile("Received").textContent()).toBe("3");
		const row = page.getByRole("row", { name: /Pets from the shop/ });
		expect(await row.getByRole("cell").allTextContents()).toEqual([
			"Pets from the shop",
			"Running",
			"v1",
			"3",
			"3",
			"0",
			"0",
			"0",
			"0",
			"—",
		]);
		await screenshot("dashboard");
	});

	it("lists the executions newest first and opens one's details", async () => {
		await page.getByRole("link", { name: "Pets from the shop" }).click();
		await page.getByRole("heading", { name: "Run log: Pets from the shop" }).waitFor();
		const rows = page.getByRole("table", { name: "Executions, newest first" }).locator("tbody tr");
		await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(3);
		await screenshot("run-log");
		await rows.first().getByRole("link").click();
		await page.getByRole("heading", { name: "Input message" }).waitFor();
		const input = page.getByRole("region", { name: "Input message" });
		await input.getByText('"petname": "Shaun"').waitFor();
		await page.getByRole("region", { name: "Mapped request" }).getByText('"status": "sold"').waitFor();
		await page.getByRole("region", { name: "Response" }).getByText("HTTP 200").waitFor();
		const attempts = page.getByRole("region", { name: "Attempts" }).locator("tbody tr");
		expect(await attempts.count()).toBe(1);
		expect(await page.getByRole("definition").filter({ hasText: /^v1$/ }).count()).toBe(1);
		await screenshot("execution-details");
	});

	it("retries a failed execution from its details", async () => {
		const failedId = await postHook({ petname: "Nobody", petstatus: "Unknown" });
		await page.getByRole("link", { name: "Run log" }).click();
		await page.getByRole("combobox", { name: "Status" }).selectOption("failed");
		const link = page.getByRole("link", { name: failedId.slice(0, 8) });
		await link.waitFor({ timeout: 30_000 });
		await page.getByRole("row").filter({ has: link }).getByText("Provided status is invalid.").waitFor();
		await screenshot("run-log-failed");
		await link.click();
		const attempts = page.getByRole("region", { name: "Attempts" }).locator("tbody tr");
		await expect.poll(() => attempts.count(), { timeout: 30_000 }).toBe(1);
		await button("Retry").click();
		await expect.poll(() => attempts.count(), { timeout: 30_000 }).toBe(2);
		expect(await attempts.nth(1).getByRole("cell").nth(4).textContent()).toBe("Failed");
		await screenshot("execution-retried");
	});

	it("keeps the client IP headers the trigger step's switch asked for", async () => {
		const response = await fetch(hookUrl, {
			method: "POST",
			headers: {
				authorization: `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString("base64")}`,
				"content-type": "application/json",
				"x-forwarded-for": "203.0.113.7",
			},
			body: JSON.stringify({ petname: "Trace", petstatus: "Sold" }),
		});
		const { requestId } = (await response.json()) as { requestId: string };
		await expect
			.poll(
				async () => {
					const reply = await fetch(`${app.origin}/api/executions/${requestId}`, { headers: { authorization: `Bearer ${app.token}` } });
					return reply.ok
						? ((await reply.json()) as { execution: { input: { _headers: Record<string, string> } } }).execution.input._headers[
								"x-forwarded-for"
							]
						: undefined;
				},
				{ timeout: 15_000 },
			)
			.toBe("203.0.113.7");
	});

	it("fits a 390-px phone and has a dark theme", async () => {
		await page.setViewportSize({ width: 390, height: 844 });
		await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
		await page.getByRole("heading", { name: "Totals" }).waitFor();
		const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		expect(await overflow()).toBe(0);
		await screenshot("phone-dashboard");
		await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Flows" }).click();
		await page.getByRole("row", { name: /Pets from the shop/ }).waitFor();
		expect(await overflow()).toBe(0);
		await screenshot("phone-flows");
		await page.getByRole("link", { name: "Pets from the shop" }).click();
		await button("Stop").waitFor();
		await page.getByRole("region", { name: "Preview" }).getByText('"name": "Gromit"').waitFor();
		expect(await overflow()).toBe(0);
		await screenshot("phone-designer");
		await page.emulateMedia({ colorScheme: "dark" });
		await screenshot("phone-designer-dark");
		await page.setViewportSize({ width: 1280, height: 800 });
		await screenshot("designer-dark");
	});

	steps.finalCheck("logged no console errors and loaded nothing from other origins", () => {
		expectOnlyProvokedErrors([
			// The refused sign-in token and the refused Petstore key, both on purpose.
			/Failed to load resource: the server responded with a status of 401/,
			/Failed to load resource: the server responded with a status of 422/,
		]);
		expect(foreignRequests).toEqual([]);
	});
});
