import { describe, expect, it } from "vitest";
import { outsideCredential, resolveStepUrl } from "../../src/components/base-url";
import { checkPublishable } from "../../src/flows/publish";
import { credentialProblems } from "../../src/flows/publish-steps";
import { renderTemplate } from "../../src/mapping/template";

const trigger = { component: "webhook", credentialId: "hook" };

describe("publishing steps", () => {
	it("names each problem with its path: expressions that do not compile, $steps not on the way, duplicate ids, missing fields", () => {
		const checked = checkPublishable({
			trigger,
			steps: [
				{ id: "only", component: "logic", action: "filter", condition: "amount >" },
				{ id: "crm", component: "http", action: "request", method: "GET", url: "https://crm.test/c/{{$steps.later.id}}" },
				{ id: "crm", component: "logic", action: "transform", expression: "$steps.crm" },
				{
					id: "fan",
					component: "logic",
					action: "router",
					mode: "first",
					routes: [
						{
							name: "a",
							condition: "true",
							steps: [{ id: "pet", component: "petstore", action: "createPet", credentialId: "p", mapping: { name: "$uppercase(" } }],
						},
					],
				},
				{ id: "later", component: "http", action: "request", method: "GET" },
			],
		});
		expect(checked.ok).toBe(false);
		if (checked.ok) return;
		expect(checked.issues).toEqual(
			expect.arrayContaining([{ path: "steps.2.id", message: expect.stringMatching(/already used by the step at steps.1/) }]),
		);
		// The duplicate id is a shape problem: fixed first. Without it, every other problem at once.
		const again = checkPublishable({
			trigger,
			steps: [
				{ id: "only", component: "logic", action: "filter", condition: "amount >" },
				{ id: "crm", component: "http", action: "request", method: "GET", url: "https://crm.test/c/{{$steps.later.id}}" },
				{
					id: "fan",
					component: "logic",
					action: "router",
					mode: "first",
					routes: [
						{
							name: "a",
							condition: "true",
							steps: [{ id: "pet", component: "petstore", action: "createPet", credentialId: "p", mapping: { name: "$uppercase(" } }],
						},
					],
				},
				{ id: "later", component: "http", action: "request", method: "GET" },
				{ id: "after", component: "petstore", action: "createPet", mapping: { name: "$steps.pet.body.name" } },
			],
		});
		expect(again.ok).toBe(false);
		if (again.ok) return;
		expect(again.issues).toEqual([
			{ path: "steps.0.condition", message: expect.stringMatching(/^Condition is not valid JSONata/) },
			{ path: "steps.1.url", message: "URL reads $steps.later, which is not an earlier step on the way to this one" },
			{ path: "steps.2.routes.0.steps.0.mapping.name", message: expect.stringMatching(/^Mapping for name is not valid JSONata/) },
			{ path: "steps.3.url", message: "URL is required" },
			{ path: "steps.4.credentialId", message: "Choose a Petstore credential" },
			{ path: "steps.4.mapping.name", message: "Mapping for name reads $steps.pet, which is not an earlier step on the way to this one" },
		]);
		expect(again.problem).toMatch(/^The draft is not ready to publish: steps.0.condition: /);
	});

	it("refuses more than 50 steps and nesting deeper than 3", () => {
		const many = Array.from({ length: 51 }, (_, i) => ({ id: `s${i}`, component: "logic", action: "transform", expression: "1" }));
		expect(checkPublishable({ trigger, steps: many })).toMatchObject({
			ok: false,
			issues: expect.arrayContaining([expect.objectContaining({ path: "steps" })]),
		});
		const split = (steps: unknown[], id: string) => ({ id, component: "logic", action: "split", items: "x", steps });
		const deep = [split([split([split([{ id: "t", component: "logic", action: "transform", expression: "1" }], "c")], "b")], "a")];
		const checked = checkPublishable({ trigger, steps: deep });
		expect(checked).toMatchObject({
			ok: false,
			issues: [expect.objectContaining({ path: "steps.0.steps.0.steps.0.steps.0", message: expect.stringMatching(/nest at most 3/) })],
		});
	});

	it("refuses a credential of the wrong component and a literal URL outside its credential", () => {
		const steps = [
			{ id: "a", component: "http", action: "request", method: "GET", url: "https://evil.test/steal", credentialId: "crm" },
			{ id: "b", component: "http", action: "request", method: "GET", url: "/customers", credentialId: "pets" },
			{ id: "c", component: "http", action: "request", method: "GET", url: "/customers/{{id}}", credentialId: "crm" },
		] as const;
		const issues = credentialProblems(
			steps as never,
			new Map([
				["crm", { component: "http", baseUrl: "https://crm.test/api" }],
				["pets", { component: "petstore", baseUrl: null }],
			]),
		);
		expect(issues).toEqual([
			{
				path: "steps.0.url",
				message: expect.stringMatching(/goes to https:\/\/evil.test, outside the credential's base URL https:\/\/crm.test\/api/),
			},
			{ path: "steps.1.credentialId", message: "Credential pets is a petstore credential; this step needs a http credential" },
		]);
	});
});

describe("URL templates and base URLs", () => {
	it("percent-encodes each part so a value cannot change where the call goes; a lone part is a whole URL", async () => {
		const message = { id: "1/../../admin?x=1#", next: "https://other.test/p" };
		expect(await renderTemplate("https://h.test/c/{{id}}/notes?q={{id}}", message, {}, "url")).toBe(
			"https://h.test/c/1%2F..%2F..%2Fadmin%3Fx%3D1%23/notes?q=1%2F..%2F..%2Fadmin%3Fx%3D1%23",
		);
		expect(await renderTemplate("{{next}}", message, {}, "url")).toBe("https://other.test/p");
	});

	it("appends relative URLs to the base URL and checks origin and path", () => {
		const resolved = resolveStepUrl("/pets/1", "https://h.test/crm");
		expect(resolved).toEqual({ ok: true, url: new URL("https://h.test/crm/pets/1") });
		expect(outsideCredential(new URL("https://h.test/crm/pets/1"), "https://h.test/crm")).toBeNull();
		expect(outsideCredential(new URL("https://h.test/crmx"), "https://h.test/crm")).toMatch(/outside/);
		expect(outsideCredential(new URL("https://h.test.evil/crm/x"), "https://h.test/crm")).toMatch(/outside/);
	});
});
