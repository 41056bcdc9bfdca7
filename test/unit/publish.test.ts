import { describe, expect, it } from "vitest";
import { checkPublishable } from "../../src/flows/publish";

const complete = {
	trigger: { component: "webhook", credentialId: "hook-cred" },
	steps: [{ component: "petstore", action: "createPet", credentialId: "pet-cred", mapping: { name: "petname", status: "petstatus" } }],
};

describe("checkPublishable", () => {
	it("accepts a complete draft whose mappings compile, and answers its definition", () => {
		expect(checkPublishable(complete)).toEqual({ ok: true, definition: complete });
	});

	it("names every missing part of an incomplete draft", () => {
		const checked = checkPublishable({ trigger: { component: "webhook" }, steps: [] });
		expect(checked).toMatchObject({ ok: false, problem: expect.stringMatching(/^The draft is not ready to publish: /) });
		expect(checked.ok ? [] : checked.issues).toEqual([
			{ path: "trigger.credentialId", message: "Choose a webhook credential" },
			{ path: "steps", message: "A flow needs exactly one action step" },
		]);
		expect(checkPublishable(null)).toMatchObject({ ok: false });
	});

	it("refuses a mapping that is not valid JSONata, pointing at its field", () => {
		const broken = { ...complete, steps: [{ ...complete.steps[0], mapping: { name: "petname", status: "$uppercase(" } }] };
		const checked = checkPublishable(broken);
		expect(checked.ok).toBe(false);
		if (checked.ok) return;
		expect(checked.problem).toMatch(/^Mapping for status is not valid JSONata: /);
		expect(checked.issues).toEqual([{ path: "steps.0.mapping.status", message: checked.problem }]);
	});
});
