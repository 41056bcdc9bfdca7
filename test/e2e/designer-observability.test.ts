// Charts, run-log search, bulk replay and alerts, clicked through the designer in headless
// Chromium against `npm start`, after some real traffic through a flow.
import { mkdirSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, launchBrowser, startApp } from "./designer/harness.ts";
import { walk } from "./designer/walk.ts";

const SHOTS = "test-results/designer-observability";
const PETS = [
	{ petname: "Gromit", petstatus: "Sold" },
	{ petname: "Shaun", petstatus: "Available" },
	{ petname: "Wallace", petstatus: "Sold" },
	{ petname: "Feathers", petstatus: "Unknown" },
	{ petname: "Preston", petstatus: "Unknown" },
];

let app: App;
let browser: Browser;
let page: Page;
let flowId = "";
const problems: string[] = [];
const foreignRequests: string[] = [];

interface Received {
	headers: IncomingHttpHeaders;
	body: string;
}
const alertsReceived: Received[] = [];
let receiver: Server;
let receiverUrl = "";

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
	const response = await fetch(`${app.origin}${path}`, {
		method,
		headers: { authorization: `Bearer ${app.token}`, "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
	return JSON.parse(text) as T;
}

const screenshot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const button = (name: string) => page.getByRole("button", { name, exact: true });
const runLogRows = () => page.getByRole("table", { name: "Executions, newest first" }).locator("tbody tr");

/** Pixels of one chart's canvas painted in the colour of the CSS variable `variable` (its series' stroke). */
function seriesPixels(figure: string, variable: string): Promise<number> {
	return page.evaluate(
		({ figure, variable }) => {
			const chart = [...document.querySelectorAll("figure")].find((f) => f.querySelector("figcaption")?.textContent?.startsWith(figure));
			const canvas = chart?.querySelector("canvas");
			if (!canvas) return -1;
			const probe = document.createElement("span");
			probe.style.color = getComputedStyle(document.documentElement).getPropertyValue(variable);
			document.body.append(probe);
			const [r, g, b] = (getComputedStyle(probe).color.match(/\d+/g) ?? []).map(Number);
			probe.remove();
			const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
			let count = 0;
			for (let i = 0; i < data.length; i += 4) if (data[i] === r && data[i + 1] === g && data[i + 2] === b && data[i + 3] === 255) count++;
			return count;
		},
		{ figure, variable },
	);
}

beforeAll(async () => {
	rmSync(SHOTS, { recursive: true, force: true });
	mkdirSync(SHOTS, { recursive: true });
	receiver = createServer((request, response) => {
		let body = "";
		request.on("data", (chunk) => {
			body += chunk;
		});
		request.on("end", () => {
			alertsReceived.push({ headers: request.headers, body });
			response.writeHead(204).end();
		});
	});
	await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
	const address = receiver.address();
	receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/alerts`;

	app = await startApp();
	browser = await launchBrowser();
	page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
	// CSP violations are reported as events, not always as console errors: log them as errors too.
	await page.addInitScript(() =>
		document.addEventListener("securitypolicyviolation", (event) =>
			console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`),
		),
	);
	page.on("console", (message) => {
		if (message.type() === "error") problems.push(message.text());
	});
	page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
	page.on("request", (request) => {
		if (!request.url().startsWith(`${app.origin}/`)) foreignRequests.push(request.url());
	});
});

afterAll(async () => {
	await browser?.close();
	await app?.stop();
	await new Promise((resolve) => receiver?.close(resolve));
});

// Each step builds on the previous one: after a failure the rest are skipped, the final checks still run.
const steps = walk({ onFailure: () => screenshot("failed") });

describe("designer observability", () => {
	it("shows the traffic of the last hour on the dashboard's charts", async () => {
		// A running flow without auth, and five requests: three pets, two refused by the Petstore's rules.
		const { credentials } = await api("GET", "/api/credentials?component=petstore");
		const { credential } = await api("POST", "/api/credentials", { component: "webhook", name: "Open", auth: { type: "none" } });
		const { flow } = await api("POST", "/api/flows", { name: "Shop orders" });
		flowId = flow.id;
		await api("PUT", `/api/flows/${flowId}/draft`, {
			trigger: { component: "webhook", credentialId: credential.id },
			steps: [
				{ component: "petstore", action: "createPet", credentialId: credentials[0].id, mapping: { name: "petname", status: "petstatus" } },
			],
		});
		await api("POST", `/api/flows/${flowId}/publish`);
		await api("POST", `/api/flows/${flowId}/start`);
		for (const pet of PETS) {
			const response = await fetch(`${app.origin}/hook/${flowId}`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify(pet),
			});
			expect(response.status).toBe(200);
		}
		await expect
			.poll(async () => (await api("GET", `/api/flows/${flowId}`)).flow.counters, { timeout: 60_000, interval: 500 })
			.toMatchObject({ received: 5, succeeded: 3, failed: 2 });

		await page.goto(`${app.origin}/#token=${app.token}`);
		await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
		await page.getByRole("heading", { name: "Activity" }).waitFor();
		const executions = page.getByRole("figure", { name: /^Executions per/ });
		// The run log writes the buckets shortly after the executions finish; the charts refresh every 15 s.
		await executions.getByText("Last hour: 5 received, 3 succeeded, 2 failed.").waitFor({ timeout: 60_000 });
		await page
			.getByRole("figure", { name: "Backlog" })
			.getByText(/^Last hour: (nothing|at most [1-5]) queued\.$/)
			.waitFor();
		await page
			.getByRole("figure", { name: /^Latency/ })
			.getByText(/^Last hour: p50 up to \d/)
			.waitFor();
		// Drawn: each series' line is on its canvas in its own colour.
		expect(await seriesPixels("Executions", "--info")).toBeGreaterThan(0);
		expect(await seriesPixels("Executions", "--ok")).toBeGreaterThan(0);
		expect(await seriesPixels("Executions", "--bad")).toBeGreaterThan(0);
		expect(await seriesPixels("Latency", "--warn")).toBeGreaterThan(0);
		await page.getByRole("region", { name: "Activity" }).screenshot({ path: `${SHOTS}/charts.png` });
		await screenshot("dashboard");

		await button("24 hours").click();
		await executions.getByText("24 hours: 5 received, 3 succeeded, 2 failed.").waitFor();
		expect(await executions.locator("figcaption").textContent()).toBe("Executions per 15 min");
		expect(await button("24 hours").getAttribute("aria-pressed")).toBe("true");

		await page.setViewportSize({ width: 390, height: 844 });
		expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
		await page.emulateMedia({ colorScheme: "dark" });
		await expect.poll(() => seriesPixels("Executions", "--info"), { timeout: 10_000 }).toBeGreaterThan(0);
		await page.getByRole("region", { name: "Activity" }).screenshot({ path: `${SHOTS}/charts-phone-dark.png` });
		await page.emulateMedia({ colorScheme: "light" });
		await page.setViewportSize({ width: 1280, height: 800 });
	});

	it("finds executions by a field of their input, with the filters in a shareable URL", async () => {
		await page.getByRole("link", { name: "Shop orders" }).click();
		await page.getByRole("heading", { name: "Run log: Shop orders" }).waitFor();
		await expect.poll(() => runLogRows().count(), { timeout: 30_000 }).toBe(5);
		// The statuses are the API's: no "running" that the API would refuse, and "filtered" (a filter step said no).
		expect(await page.getByRole("combobox", { name: "Status" }).locator("option").allTextContents()).toEqual([
			"All statuses",
			"Queued",
			"Retrying",
			"Succeeded",
			"Failed",
			"Filtered",
		]);
		await page.getByLabel("Input field (path)").fill("petname");
		await page.getByLabel("Field value").fill("Gromit");
		await button("Search").click();
		await expect.poll(() => runLogRows().count(), { timeout: 10_000 }).toBe(1);
		expect(new URL(page.url()).hash).toBe(`#/dashboard/${flowId}?field=petname&value=Gromit`);
		await screenshot("search");

		// The link opened in another tab (which signs in on its own) shows the same search.
		const shared = await page.context().newPage();
		await shared.goto(page.url());
		const dialog = shared.getByRole("dialog", { name: "Sign in" });
		await dialog.getByLabel("Admin token").fill(app.token);
		await dialog.getByRole("button", { name: "Sign in" }).click();
		await expect.poll(() => shared.getByRole("table", { name: "Executions, newest first" }).locator("tbody tr").count()).toBe(1);
		expect(await shared.getByLabel("Field value").inputValue()).toBe("Gromit");
		expect(new URL(shared.url()).hash).toBe(`#/dashboard/${flowId}?field=petname&value=Gromit`);
		await shared.close();

		await page.getByLabel("Input contains").fill("Unknown");
		await page.getByLabel("Field value").fill("");
		await page.getByLabel("Input field (path)").fill("");
		await page.getByLabel("Input contains").press("Enter");
		await expect.poll(() => runLogRows().count(), { timeout: 10_000 }).toBe(2);
		expect(new URL(page.url()).hash).toBe(`#/dashboard/${flowId}?text=Unknown`);
	});

	it("replays a filtered set with a progress bar that reaches the end", async () => {
		await page.getByLabel("Input contains").fill("");
		await page.getByLabel("Input field (path)").fill("petstatus");
		await page.getByLabel("Field value").fill("Sold");
		await button("Search").click();
		await expect.poll(() => runLogRows().count(), { timeout: 10_000 }).toBe(2);

		await button("Replay").click();
		await page.getByText("Replay every execution that matches the search?").waitFor();
		await button("Start").click();
		const bar = page.getByRole("progressbar", { name: "Replay progress" });
		await page.getByRole("region", { name: "Bulk replay" }).getByText("Replayed 2 of 2 executions.").waitFor({ timeout: 60_000 });
		expect(await bar.evaluate((el: HTMLProgressElement) => [el.value, el.max])).toEqual([2, 2]);
		// Two new executions of the same inputs, found by the same search.
		await expect.poll(() => runLogRows().count(), { timeout: 30_000 }).toBe(4);
		expect(await runLogRows().getByText("replay", { exact: true }).count()).toBe(2);
		await screenshot("replay");
		// For the README: from the search to the pager (boxes are in the viewport, the clip in the page).
		const scrolled = await page.evaluate(() => window.scrollY);
		const top = await page.getByRole("search").boundingBox();
		const bottom = await page.getByRole("navigation", { name: "Run log pages" }).boundingBox();
		await page.screenshot({
			path: `${SHOTS}/search-replay.png`,
			fullPage: true,
			clip: { x: 0, y: scrolled + top!.y - 50, width: 1280, height: bottom!.y + bottom!.height - top!.y + 66 },
		});
		// The run log with its search, replay and alerts fits a phone, in the dark theme too.
		await page.setViewportSize({ width: 390, height: 844 });
		await page.emulateMedia({ colorScheme: "dark" });
		expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
		await screenshot("run-log-phone-dark");
		await page.emulateMedia({ colorScheme: "light" });
		await page.setViewportSize({ width: 1280, height: 800 });
	});

	it("adds an alert target, shows its secret once and delivers a signed test alert", async () => {
		await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
		const section = page.getByRole("region", { name: "Alerts for every flow" });
		await button("Add alert target").click();
		await section.getByLabel("Target URL").fill(receiverUrl);
		await section.getByLabel("Format").selectOption("standardWebhooks");
		// The form offers the API's events and default thresholds.
		expect(await section.getByRole("group", { name: "Events" }).getByRole("checkbox").count()).toBe(4);
		expect(await section.getByLabel("Lagging after (seconds)").inputValue()).toBe("300");
		// Only an event that cannot happen here, so npm start's minute cron sends this receiver nothing but the test.
		for (const event of ["execution.failed", "flow.auth_failures", "flow.recovered"]) await section.getByLabel(event).uncheck();
		await section.screenshot({ path: `${SHOTS}/alert-form.png` });
		await section.getByRole("button", { name: "Add target" }).click();
		const secret = await section.getByRole("textbox", { name: "Signing secret" }).inputValue();
		expect(secret).toMatch(/^whsec_/);
		await section.getByRole("button", { name: "Send test alert" }).click();
		await section.getByText(/^Test alert delivered .* \(HTTP 204\)\.$/).waitFor({ timeout: 30_000 });
		await section.getByText(/· flow\.lagging$/).waitFor();
		expect(alertsReceived).toHaveLength(1);
		const [delivery] = alertsReceived;
		const payload = new Webhook(secret).verify(delivery!.body, {
			"webhook-id": String(delivery!.headers["webhook-id"]),
			"webhook-timestamp": String(delivery!.headers["webhook-timestamp"]),
			"webhook-signature": String(delivery!.headers["webhook-signature"]),
		});
		expect(payload).toMatchObject({ type: "test" });
		await section.screenshot({ path: `${SHOTS}/alerts.png` });
		// Shown once: after a reload only the target is listed.
		await page.reload();
		await page.getByRole("region", { name: "Alerts for every flow" }).getByText(receiverUrl).waitFor();
		expect(await page.getByRole("textbox", { name: "Signing secret" }).count()).toBe(0);
		await page.getByRole("region", { name: "Alerts for every flow" }).getByRole("button", { name: "Remove" }).click();
		await page.getByRole("region", { name: "Alerts for every flow" }).getByText("No targets yet.").waitFor();
	});

	steps.finalCheck("logged no console errors or CSP violations and loaded nothing from other origins", () => {
		expect(problems).toEqual([]);
		expect(foreignRequests).toEqual([]);
	});
});
