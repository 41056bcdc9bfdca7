import { describe, expect, it } from "vitest";
import {
	applyCall,
	applyComplete,
	applyLogic,
	contextVariables,
	type ExecutionState,
	emptyState,
	type NextAction,
	nextActions,
	resumeAfterFailure,
	runsForRunLog,
} from "../../src/flows/step-machine";
import { withStepIds } from "../../src/flows/step-tree";
import type { StepDefinition } from "../../src/flows/step-types";

const EXEC = "0123456789abcdef0123456789abcdef";
const petstore: StepDefinition = {
	component: "petstore",
	action: "createPet",
	credentialId: "p",
	mapping: { name: "petname", status: "petstatus" },
};
const call = (id: string, extra: Partial<StepDefinition> = {}): StepDefinition => ({
	id,
	component: "http",
	action: "request",
	method: "GET",
	url: "https://h/x",
	...extra,
});
const filter = (id: string, condition = "true"): StepDefinition => ({ id, component: "logic", action: "filter", condition });

type Call = Extract<NextAction, { kind: "call" }>;
type Logic = Extract<NextAction, { kind: "logic" }>;
type Complete = Extract<NextAction, { kind: "complete" }>;

const ok = (output: unknown) => ({
	status: "succeeded" as const,
	output,
	request: null,
	response: null,
	error: null,
	startedAt: 1,
	finishedAt: 2,
});

describe("the step machine", () => {
	it("runs the tutorial's one step with the execution id as idempotency key, then finishes", () => {
		const steps = withStepIds([petstore]);
		expect(steps[0]?.id).toBe("step_1");
		const [first] = nextActions(steps, emptyState(), EXEC);
		expect(first).toMatchObject({ kind: "call", key: "step_1", path: "steps.0", attempt: 1, idempotencyKey: EXEC });
		const after = applyCall(emptyState(), first as Call, ok({ status: 200, headers: {}, body: { id: 1 } }));
		expect(nextActions(steps, after, EXEC)).toEqual([{ kind: "finish", status: "succeeded", error: null, failedKey: null }]);
		expect(after.runs).toEqual([expect.objectContaining({ id: "step_1", status: "succeeded", attempts: 1, item: null })]);
	});

	it("runs steps in order, retries a step alone (attempts counted, earlier outputs kept) and gives each step its own stable idempotency key", () => {
		const steps = withStepIds([filter("only"), call("crm"), { ...petstore, id: "pet" }]);
		let state = emptyState();
		const [f] = nextActions(steps, state, EXEC) as Logic[];
		expect(f).toMatchObject({ kind: "logic", key: "only" });
		state = applyLogic(state, f as Logic, { ok: true, kind: "filter", pass: true }, 1);
		const [crm] = nextActions(steps, state, EXEC) as Call[];
		expect(crm).toMatchObject({ kind: "call", key: "crm", idempotencyKey: `${EXEC}.crm`, attempt: 1 });
		state = applyCall(state, crm as Call, ok({ status: 200, body: { email: "a@b" } }));
		const [pet] = nextActions(steps, state, EXEC) as Call[];
		expect(pet).toMatchObject({ key: "pet", idempotencyKey: `${EXEC}.pet`, attempt: 1 });
		state = applyCall(state, pet as Call, { ...ok(null), status: "retrying", error: "503" });
		const [again] = nextActions(steps, state, EXEC) as Call[];
		// The same step again, with the same key; crm is not offered again.
		expect(again).toMatchObject({ key: "pet", idempotencyKey: `${EXEC}.pet`, attempt: 2 });
		expect(contextVariables(state, (again as Call).scope, { id: EXEC, flowId: "f", version: 1, receivedAt: 0 }).steps).toEqual({
			only: true,
			crm: { status: 200, body: { email: "a@b" } },
		});
		expect(state.runs.map((r) => [r.id, r.status, r.attempts])).toEqual([
			["only", "succeeded", 0],
			["crm", "succeeded", 1],
			["pet", "retrying", 1],
		]);
	});

	it("ends as filtered when a filter says no", () => {
		const steps = withStepIds([filter("only", "false"), call("crm")]);
		const [f] = nextActions(steps, emptyState(), EXEC);
		const state = applyLogic(emptyState(), f as Logic, { ok: true, kind: "filter", pass: false }, 1);
		expect(nextActions(steps, state, EXEC)).toEqual([{ kind: "finish", status: "filtered", error: null, failedKey: null }]);
	});

	it("fails naming the step when an output would take the carried outputs over 1 MiB, and cuts nothing", () => {
		const steps = withStepIds([call("big"), call("after")]);
		const [big] = nextActions(steps, emptyState(), EXEC);
		const state = applyCall(emptyState(), big as Call, ok({ body: "x".repeat(1024 * 1024) }));
		const [end] = nextActions(steps, state, EXEC);
		expect(end).toMatchObject({ kind: "finish", status: "failed", failedKey: "big" });
		expect((end as { error: string }).error).toMatch(/output of step big is \d+ bytes.*1048576/);
		expect(state.runs[0]).toMatchObject({ status: "failed" });
	});

	it("runs a split's steps per item in item order, at most `concurrency` items at once, and outputs each item's last output", () => {
		const steps = withStepIds([
			{ id: "lines", component: "logic", action: "split", items: "lines", concurrency: 2, steps: [call("price")] },
		]);
		let state = emptyState();
		const [split] = nextActions(steps, state, EXEC);
		state = applyLogic(state, split as Logic, { ok: true, kind: "split", items: ["a", "b", "c"] }, 1);
		const wave = nextActions(steps, state, EXEC) as Call[];
		expect(wave.map((a) => [a.key, a.item, a.idempotencyKey])).toEqual([
			["lines[0]/price", 0, `${EXEC}.lines.0.price`],
			["lines[1]/price", 1, `${EXEC}.lines.1.price`],
		]);
		expect(contextVariables(state, (wave[1] as Call).scope, { id: EXEC, flowId: "f", version: 1, receivedAt: 0 })).toMatchObject({
			item: "b",
			index: 1,
		});
		state = applyCall(state, wave[1] as Call, ok("B"));
		// Item 0 still runs: item 2 may start now (two unfinished items at most).
		expect((nextActions(steps, state, EXEC) as Call[]).map((a) => a.key)).toEqual(["lines[0]/price", "lines[2]/price"]);
		state = applyCall(state, wave[0] as Call, ok("A"));
		const [last] = nextActions(steps, state, EXEC) as Call[];
		state = applyCall(state, last as Call, ok("C"));
		const [complete] = nextActions(steps, state, EXEC);
		expect(complete).toMatchObject({ kind: "complete", key: "lines", output: ["A", "B", "C"] });
		state = applyComplete(state, complete as Complete, 5);
		expect(nextActions(steps, state, EXEC)).toEqual([{ kind: "finish", status: "succeeded", error: null, failedKey: null }]);
	});

	it("routes to every route whose condition holds (all), one after the other, and records the ways not taken as skipped", () => {
		const steps = withStepIds([
			{
				id: "fan",
				component: "logic",
				action: "router",
				mode: "all",
				routes: [
					{ name: "crm", condition: "true", steps: [call("to_crm")] },
					{ name: "erp", condition: "true", steps: [call("to_erp")] },
					{ name: "never", condition: "false", steps: [call("to_never")] },
				],
			},
		]);
		let state = emptyState();
		const [router] = nextActions(steps, state, EXEC);
		state = applyLogic(state, router as Logic, { ok: true, kind: "router", taken: [0, 1] }, 1);
		const [first] = nextActions(steps, state, EXEC) as Call[];
		expect(first).toMatchObject({ key: "to_crm", path: "steps.0.routes.0.steps.0" });
		state = applyCall(state, first as Call, ok(1));
		const [second] = nextActions(steps, state, EXEC) as Call[];
		expect(second).toMatchObject({ key: "to_erp" });
		state = applyCall(state, second as Call, ok(2));
		const [complete] = nextActions(steps, state, EXEC);
		expect(complete).toMatchObject({ kind: "complete", output: { routes: ["crm", "erp"] } });
		expect(state.runs.find((r) => r.id === "to_never")).toMatchObject({ status: "skipped", path: "steps.0.routes.2.steps.0" });
	});

	it("resumes a failed execution at the failed step: what succeeded is kept", () => {
		const steps = withStepIds([call("crm"), call("pet")]);
		let state: ExecutionState = emptyState();
		const [crm] = nextActions(steps, state, EXEC);
		state = applyCall(state, crm as Call, ok({ id: 7 }));
		const [pet] = nextActions(steps, state, EXEC);
		state = applyCall(state, pet as Call, { ...ok(null), status: "failed", error: "400" });
		expect(nextActions(steps, state, EXEC)[0]).toMatchObject({ kind: "finish", status: "failed", error: "400", failedKey: "pet" });
		const resumed = resumeAfterFailure(state);
		expect(nextActions(steps, resumed, EXEC)[0]).toMatchObject({ kind: "call", key: "pet", attempt: 1 });
	});

	it("keeps the run log's steps within its byte budget by leaving out the oldest bodies", () => {
		const run = (id: string) => ({
			id,
			key: id,
			path: "steps.0",
			item: null,
			status: "succeeded" as const,
			request: { method: "GET", url: "u", headers: {}, body: "x".repeat(1000) },
			response: { status: 200, body: "y".repeat(1000) },
			error: null,
			attempts: 1,
			startedAt: 0,
			durationMs: 1,
		});
		const trimmed = runsForRunLog([run("a"), run("b"), run("c")], 5000);
		expect(trimmed[0]?.request?.truncated).toBe(true);
		expect(trimmed[2]?.request?.body).toBe("x".repeat(1000));
	});

	it("keeps runs without bodies whole, whatever their size", () => {
		const logic = (id: string) => ({
			id,
			key: id,
			path: "steps.0",
			item: null,
			status: "failed" as const,
			request: null,
			response: null,
			error: "e".repeat(3000),
			attempts: 0,
			startedAt: 0,
			durationMs: 0,
		});
		expect(runsForRunLog([logic("a"), logic("b")], 5000)).toEqual([logic("a"), logic("b")]);
	});
});
