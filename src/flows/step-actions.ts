/**
 * @module
 * What each step does, by component: a call step is prepared (its request built from the
 * context, nothing secret in it) and sent; a logic step is evaluated. The step runner in the flow
 * object calls these around its storage; "Retrieve sample" calls them for one step.
 */
import type { HttpAuth } from "../components/http/credential";
import type { OAuth2TokenClient } from "../components/http/oauth2";
import { prepareHttpCall } from "../components/http/request";
import { sendHttpCall } from "../components/http/send";
import { evaluateFilter, evaluateRouter, evaluateSplitItems, evaluateTransform } from "../components/logic/evaluate";
import { buildPetstoreRequest, PETSTORE_ACTIONS, type PetstoreActionId } from "../components/petstore/actions";
import { callPetstore } from "../components/petstore/client";
import type { ActionOutcome, ActionRequest, StepContext } from "../components/types";
import { applyMapping } from "../mapping/evaluate";
import type { LogicResult } from "./step-machine";
import type { StepDefinition } from "./step-types";

/** A step's credential, loaded and unsealed (db/queries/flows.ts). */
export type StepCredential = { component: "petstore"; apiKey: string; baseUrl: string } | ({ component: "http" } & HttpAuth);

export type PreparedStepCall = { ok: true; request: ActionRequest } | { ok: false; error: string };

/** The request a call step makes in this context, or why it cannot be made (nothing is sent then). */
export async function prepareStepCall(
	step: StepDefinition,
	context: StepContext,
	credential: StepCredential | null,
	idempotencyKey: string,
): Promise<PreparedStepCall> {
	if (step.component === "petstore") {
		if (credential?.component !== "petstore") return { ok: false, error: "The step's Petstore credential no longer exists" };
		if (!(PETSTORE_ACTIONS as readonly string[]).includes(step.action))
			return { ok: false, error: `The Petstore has no action ${step.action}` };
		const mapped = await applyMapping(step.mapping ?? {}, context.message, context.variables);
		if (mapped.errors.length > 0) return { ok: false, error: `Mapping failed: ${mapped.errors.join("; ")}` };
		const built = buildPetstoreRequest(step.action as PetstoreActionId, mapped.values, credential.baseUrl, idempotencyKey);
		return built.ok ? { ok: true, request: built.request } : built;
	}
	if (step.component === "http") {
		if (step.credentialId && credential?.component !== "http")
			return { ok: false, error: `The step's credential ${step.credentialId} no longer exists` };
		const baseUrl = credential?.component === "http" ? credential.details.baseUrl : null;
		return prepareHttpCall(step, context, baseUrl, idempotencyKey);
	}
	return { ok: false, error: `${step.component} steps make no call` };
}

/** Sends a prepared request with the step's credential. Never throws. */
export async function sendStepCall(
	request: ActionRequest,
	credential: StepCredential | null,
	tokens: OAuth2TokenClient,
): Promise<ActionOutcome> {
	if (credential?.component === "petstore") {
		const outcome = await callPetstore(request, credential.apiKey);
		// The Petstore's answers are small: the recorded body is the whole body.
		return outcome.kind === "succeeded"
			? { ...outcome, output: { status: outcome.response.status, headers: outcome.response.headers ?? {}, body: outcome.response.body } }
			: outcome;
	}
	return sendHttpCall(request, credential?.component === "http" ? credential : null, tokens);
}

/** Evaluates a logic step in this context. */
export async function evaluateLogicStep(step: StepDefinition, context: StepContext): Promise<LogicResult> {
	switch (step.action) {
		case "filter": {
			const result = await evaluateFilter(step.condition ?? "", context);
			return result.ok ? { ok: true, kind: "filter", pass: result.value } : result;
		}
		case "transform": {
			const result = await evaluateTransform(step.expression ?? "", context);
			return result.ok ? { ok: true, kind: "transform", value: result.value } : result;
		}
		case "split": {
			const result = await evaluateSplitItems(step.items ?? "", context);
			return result.ok ? { ok: true, kind: "split", items: result.value } : result;
		}
		case "router": {
			const routes = step.routes ?? [];
			const result = await evaluateRouter(
				step.mode ?? "first",
				routes.map((r) => r.condition),
				(step.otherwise ?? []).length > 0,
				context,
			);
			return result.ok ? { ok: true, kind: "router", taken: result.value } : result;
		}
		default:
			return { ok: false, error: `Logic has no action ${step.action}` };
	}
}
