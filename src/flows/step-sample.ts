/**
 * @module
 * "Retrieve sample" for any step: runs it once in the context given (the trigger's sample, the
 * earlier steps' samples as `$steps`, `$item`/`$index` inside a split). A call step makes its
 * real call; a logic step says which way the sample went.
 */
import { memoryTokenCache, OAuth2TokenClient } from "../components/http/oauth2";
import type { StepContext } from "../components/types";
import { randomHexId } from "../crypto/encoding";
import { evaluateLogicStep, prepareStepCall, sendStepCall } from "./step-actions";
import { loadStepCredential } from "./step-credentials";
import type { StepDefinition } from "./step-types";

export interface StepSample {
	request: unknown;
	response: unknown;
	/** What `$steps.<id>` would hold: keep it as the step's sample for later mappings. */
	output: unknown;
	error: string | null;
	/** Logic steps: a filter's verdict, a split's items, a router's routes taken. */
	logic?: { passed?: boolean; items?: unknown[]; routes?: string[] };
}

/** A logic step's verdict on the context: no call is made. */
async function logicSample(step: StepDefinition, context: StepContext): Promise<StepSample> {
	const result = await evaluateLogicStep(step, context);
	if (!result.ok) return { request: null, response: null, output: null, error: result.error };
	switch (result.kind) {
		case "filter":
			return { request: null, response: null, output: result.pass, error: null, logic: { passed: result.pass } };
		case "transform":
			return { request: null, response: null, output: result.value ?? null, error: null };
		case "split":
			return { request: null, response: null, output: result.items, error: null, logic: { items: result.items } };
		case "router": {
			const routes = result.taken.map((r) => (r === -1 ? "otherwise" : (step.routes?.[r]?.name ?? String(r))));
			return { request: null, response: null, output: { routes }, error: null, logic: { routes } };
		}
	}
}

export async function retrieveStepSample(env: Env, step: StepDefinition, context: StepContext): Promise<StepSample> {
	if (step.component === "logic") return logicSample(step, context);
	const credential = step.credentialId ? await loadStepCredential(env, step.credentialId, Date.now()) : null;
	const prepared = await prepareStepCall(step, context, credential, randomHexId());
	if (!prepared.ok) return { request: null, response: null, output: null, error: prepared.error };
	const outcome = await sendStepCall(prepared.request, credential, new OAuth2TokenClient(memoryTokenCache()));
	return {
		request: outcome.request,
		response: outcome.response,
		output: outcome.kind === "succeeded" ? (outcome.output ?? null) : null,
		error: outcome.kind === "succeeded" ? null : outcome.error,
	};
}

/** The designer's live preview: the request a call step would make in this context (nothing is sent), or a logic step's verdict. */
export async function previewStepSample(env: Env, step: StepDefinition, context: StepContext): Promise<StepSample> {
	if (step.component === "logic") return logicSample(step, context);
	const credential = step.credentialId ? await loadStepCredential(env, step.credentialId, Date.now()) : null;
	const prepared = await prepareStepCall(step, context, credential, "preview");
	return prepared.ok
		? { request: prepared.request, response: null, output: null, error: null }
		: { request: null, response: null, output: null, error: prepared.error };
}
