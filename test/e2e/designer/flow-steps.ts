// What the walks through flows of many steps do again and again: start a flow, choose a component,
// retrieve a step's sample and finish it.
import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";

export function flowSteps(page: () => Page) {
	const button = (name: string, root: Page | Locator = page()) => root.getByRole("button", { name, exact: true });

	/** A new flow whose webhook (No Auth) has `sample` as its sample, finished up to the action chooser. */
	async function newFlow(name: string, sample: unknown) {
		const p = page();
		await p.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Flows" }).click();
		await button("Add New Flow").click();
		await p.getByLabel("Flow name").fill(name);
		await p.getByLabel("Flow name").press("Enter");
		await p.getByRole("heading", { name, level: 1 }).waitFor();
		await button("Choose Webhook").click();
		const existing = p.getByRole("radio", { name: /Open hook/ });
		await existing.or(p.getByText("No credentials yet")).first().waitFor();
		if (await existing.count()) await existing.check();
		else {
			await button("Create new credentials").click();
			await p.getByLabel("Credential name").fill("Open hook");
			await p.getByLabel("Authentication type").selectOption({ label: "No Auth" });
			await button("Save").click();
			await p.getByRole("radio", { name: /Open hook/ }).waitFor();
		}
		await expect.poll(() => button("Continue").isEnabled()).toBe(true);
		await button("Continue").click();
		await button("Add sample manually").click();
		await p.getByLabel("Sample (JSON object)").fill(JSON.stringify(sample));
		await button("Save").click();
		await p.getByRole("heading", { name: "Current sample" }).waitFor();
		await button("Continue").click();
		await button("Finish step").click();
		await p.getByRole("heading", { name: "Choose the action" }).waitFor();
	}

	/** The chooser is open: search, choose. */
	async function choose(search: string, title: string) {
		await page().getByRole("searchbox", { name: "Search components" }).fill(search);
		await button(`Choose ${title}`).click();
	}

	/** From the Retrieve sample stage: run it, check the answer, name the step (and its id). */
	async function retrieveAndFinish(expected: RegExp, name: string, id?: string) {
		const p = page();
		await p.getByRole("heading", { name: "Retrieve sample" }).waitFor();
		await button("Retrieve sample").click();
		await p.getByText(expected).first().waitFor({ timeout: 35_000 });
		await button("Continue").click();
		await p.getByLabel("Step name").fill(name);
		if (id) await p.getByLabel("Step id").fill(id);
		await button("Finish step").click();
		await p.getByRole("navigation", { name: "Flow steps" }).getByText(name, { exact: true }).waitFor();
	}

	return { button, newFlow, choose, retrieveAndFinish };
}
