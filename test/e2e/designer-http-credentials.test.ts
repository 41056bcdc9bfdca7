// HTTP credentials of every auth type, created inline in the designer and used for real (headless
// Chromium against npm start): Basic, API key in a header and in the query, OAuth2 client
// credentials, each retrieving a sample from the local Petstore's CRM; and changing one (its name,
// then its secret, which is never shown) from the designer.
import { mkdirSync, rmSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Petstore, type RequestRecord, startPetstore } from "../../dev/petstore/server.ts";
import { flowSteps } from "./designer/flow-steps.ts";
import { type App, launchBrowser, startApp } from "./designer/harness.ts";
import { walk } from "./designer/walk.ts";

const SHOTS = "test-results/designer-http-credentials";

let petstore: Petstore;
let app: App;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];
const steps = walk({
	onFailure: (step) => page?.screenshot({ path: `${SHOTS}/failed-${step.slice(0, 40).replace(/\W+/g, "-")}.png`, fullPage: true }),
});
const { button, newFlow, choose, retrieveAndFinish } = flowSteps(() => page);

const origin = () => petstore.url.replace(/\/v2$/, "");
const crmBase = () => `${origin()}/crm`;
const label = (text: string) => page.getByLabel(text, { exact: true });

async function lastLookup(): Promise<RequestRecord | undefined> {
	const answer = await fetch(`${origin()}/__control/requests`);
	const { requests } = (await answer.json()) as { requests: RequestRecord[] };
	return requests.filter((r) => r.path.startsWith("/crm/customers/")).at(-1);
}

/** The chooser is open: an HTTP request whose new credential (`fill` sets its auth) looks the customer up. */
async function lookUpWith(credential: string, type: string, fill: () => Promise<unknown>) {
	await choose("http", "HTTP request");
	await button("Create new credentials").click();
	await label("Credential name").fill(credential);
	await label("Base URL").fill(crmBase());
	await label("Authentication type").selectOption({ label: type });
	await fill();
	await button("Save").click();
	await expect.poll(() => page.getByRole("radio", { name: new RegExp(credential) }).isChecked(), { timeout: 30_000 }).toBe(true);
	await button("Continue").click();
	await label("URL").fill("/customers/{{customer}}");
	await button("Continue").click();
}

beforeAll(async () => {
	rmSync(SHOTS, { recursive: true, force: true });
	mkdirSync(SHOTS, { recursive: true });
	petstore = await startPetstore();
	app = await startApp({ HOOKFLOW_PETSTORE_URL: petstore.url });
	browser = await launchBrowser();
	page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
	page.on("console", (message) => {
		if (message.type() === "error") consoleErrors.push(message.text());
	});
	page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
	page.on("request", (request) => {
		if (!request.url().startsWith(`${app.origin}/`)) foreignRequests.push(request.url());
	});
	await page.goto(`${app.origin}/#token=${app.token}`);
	await page.getByRole("heading", { name: "Flows", level: 1 }).waitFor();
});

afterAll(async () => {
	await browser?.close();
	await app?.stop();
	await petstore?.close();
});

describe("HTTP credentials of every type, made inline", () => {
	it("sends Basic auth; a wrong password is refused by the API", async () => {
		await newFlow("CRM by every auth", { customer: "ada" });
		await lookUpWith("CRM basic", "Basic Auth", async () => {
			await label("Username").fill("crm");
			await label("Password").fill("wrong-pass");
		});
		await page.getByRole("heading", { name: "Retrieve sample" }).waitFor();
		await button("Retrieve sample").click();
		await page.getByText("HTTP 401").first().waitFor({ timeout: 35_000 });
		expect((await lastLookup())?.authorization).toBe(`Basic ${Buffer.from("crm:wrong-pass").toString("base64")}`);
	});

	it("changes the credential from the designer: its name alone, then its secret, never shown", async () => {
		await button("2. Credentials").click();
		await button("Change CRM basic").click();
		await page.getByRole("heading", { name: "Change “CRM basic”" }).waitFor();
		// The stored settings are filled in; the secret is not, and is asked for only when the auth is sent again.
		expect(await label("Base URL").inputValue()).toBe(crmBase());
		expect(await label("Authentication type").inputValue()).toBe("basic");
		expect(await label("Username").inputValue()).toBe("crm");
		expect(await label("Password").inputValue()).toBe("");
		expect(await label("Password").evaluate((el) => (el as HTMLInputElement).required)).toBe(false);
		await page.getByText("Secrets are never shown. Leave the Password empty to keep the stored one.").waitFor();
		await label("Base URL").fill(`${origin()}/elsewhere`);
		expect(await label("Password").evaluate((el) => (el as HTMLInputElement).required)).toBe(true);
		await page.getByText(/^Required: a new Base URL needs the Password again/).waitFor();
		await label("Base URL").fill(crmBase());
		await page.setViewportSize({ width: 390, height: 844 });
		expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
		await page.screenshot({ path: `${SHOTS}/phone-change-credential.png`, fullPage: true });
		await page.setViewportSize({ width: 1280, height: 900 });
		// A new name alone: the stored secret stays (the auth is not sent without it).
		await label("Credential name").fill("CRM basic auth");
		await button("Save changes").click();
		await expect.poll(() => page.getByRole("radio", { name: /CRM basic auth/ }).isChecked(), { timeout: 30_000 }).toBe(true);
		// Then the right password.
		await button("Change CRM basic auth").click();
		await label("Password").fill("crm-pass");
		await button("Save changes").click();
		await page.getByRole("heading", { name: /^Change “/ }).waitFor({ state: "detached" });
		expect(await page.content()).not.toContain("crm-pass");
		expect(await page.getByRole("radio", { name: /CRM basic auth/ }).isChecked()).toBe(true);
		await button("4. Retrieve sample").click();
		await retrieveAndFinish(/HTTP 200/, "By basic");
		expect((await lastLookup())?.authorization).toBe(`Basic ${Buffer.from("crm:crm-pass").toString("base64")}`);
	});

	it("sends an API key in a header", async () => {
		await button("Add step after “By basic”").click();
		await lookUpWith("CRM header key", "API key", async () => {
			await label("Sent in").selectOption("header");
			await label("Header or parameter name").fill("x-api-key");
			await label("Key").fill("crm-key");
		});
		await retrieveAndFinish(/HTTP 200/, "By header key");
		expect((await lastLookup())?.authorization ?? null).toBeNull();
	});

	it("sends an API key in the query", async () => {
		await button("Add step after “By header key”").click();
		await lookUpWith("CRM query key", "API key", async () => {
			await label("Sent in").selectOption("query");
			await label("Header or parameter name").fill("api_key");
			await label("Key").fill("crm-key");
		});
		await retrieveAndFinish(/HTTP 200/, "By query key");
		expect((await lastLookup())?.authorization ?? null).toBeNull();
	});

	it("fetches an OAuth2 token with client credentials and sends it", async () => {
		await button("Add step after “By query key”").click();
		await lookUpWith("CRM OAuth2", "OAuth2 client credentials", async () => {
			await label("Token URL").fill(`${origin()}/oauth/token`);
			await label("Client ID").fill("crm-client");
			await label("Client secret").fill("crm-secret");
		});
		await retrieveAndFinish(/HTTP 200/, "By OAuth2");
		expect((await lastLookup())?.authorization).toMatch(/^Bearer crm-token-\d+$/);
		const titles = await page.getByRole("navigation", { name: "Flow steps" }).locator(".step-title").allTextContents();
		expect(titles).toEqual(["Webhook", "By basic", "By header key", "By query key", "By OAuth2"]);
	});

	steps.finalCheck("logged no console errors (no CSP violation) and loaded nothing from other origins", () => {
		expect(consoleErrors).toEqual([]);
		expect(foreignRequests).toEqual([]);
	});
});
