/**
 * @module
 * What publishing checks in each step, from the action's declaration in the catalogue: settings
 * the action does not take, required ones missing, expressions and templates that do not compile,
 * `$steps.<id>` that is not an earlier step on the way; and, given the credentials, a credential
 * of the wrong component or a literal URL outside its credential. One issue per problem, each with
 * its path (`steps.2.url`, `steps.3.routes.0.steps.1.mapping.name`). Pure.
 */
import { outsideCredential, resolveStepUrl } from "../components/base-url";
import type { ActionSetting } from "../components/fields";
import { ACTION_COMPONENTS, componentTitle, findAction } from "../components/registry";
import { compileExpression, MappingError, referencedStepIds } from "../mapping/evaluate";
import { compileTemplate, isWholeValue, parseTemplate } from "../mapping/template";
import { visitSteps } from "./step-tree";
import type { StepDefinition } from "./step-types";

export interface PublishIssue {
	/** Where in the definition, dotted (`steps.0.mapping.name`). */
	path: string;
	message: string;
}

/** The string values of an object setting (headers, query, mapping); anything else has none. */
function stringEntries(value: unknown): Array<[string, string]> {
	if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
	const entries: Array<[string, string]> = [];
	for (const [name, source] of Object.entries(value)) if (typeof source === "string") entries.push([name, source]);
	return entries;
}

/** Keys every step may have, whatever its action. */
const COMMON_KEYS = new Set(["id", "component", "action", "name", "note", "sample", "retryPolicy"]);

const dotted = (path: (string | number)[]) => path.join(".");

/** Expressions of one setting, each with its path and what it is for messages. */
function expressionsOf(
	step: StepDefinition,
	setting: ActionSetting,
	base: (string | number)[],
): Array<{ path: string; source: string; what: string; template: boolean }> {
	const value: unknown = Reflect.get(step, setting.name);
	const at = (...more: (string | number)[]) => dotted([...base, setting.name, ...more]);
	switch (setting.kind) {
		case "expression":
			return typeof value === "string" && value.trim() !== "" ? [{ path: at(), source: value, what: setting.label, template: false }] : [];
		case "template":
			return typeof value === "string" ? [{ path: at(), source: value, what: setting.label, template: true }] : [];
		case "templateMap":
			return stringEntries(value).map(([name, source]) => ({
				path: at(name),
				source,
				what: `${setting.label} ${name}`,
				template: true,
			}));
		case "mapping":
			return stringEntries(value).flatMap(([field, source]) =>
				source && source.trim() !== "" ? [{ path: at(field), source, what: `Mapping for ${field}`, template: false }] : [],
			);
		case "routes":
			return (Array.isArray(value) ? value : []).flatMap((route: unknown, index) => {
				const condition: unknown = typeof route === "object" && route !== null ? Reflect.get(route, "condition") : undefined;
				return typeof condition === "string" && condition !== ""
					? [{ path: at(index, "condition"), source: condition, what: `The condition of route ${index + 1}`, template: false }]
					: [];
			});
		default:
			return [];
	}
}

function isMissing(value: unknown): boolean {
	if (value === undefined || value === null) return true;
	if (typeof value === "string") return value.trim() === "";
	if (Array.isArray(value)) return value.length === 0;
	return false;
}

/** Components and actions the catalogue does not have, and mapping fields an action does not have: a draft with these is not saved. */
export function draftStepProblems(steps: readonly StepDefinition[]): PublishIssue[] {
	const issues: PublishIssue[] = [];
	visitSteps(steps, ({ step, path }) => {
		if (!ACTION_COMPONENTS.some((id) => id === step.component)) {
			issues.push({ path: dotted([...path, "component"]), message: `A step's component is one of ${ACTION_COMPONENTS.join(", ")}` });
			return;
		}
		const declared = findAction(step.component, step.action);
		if (!declared) {
			issues.push({ path: dotted([...path, "action"]), message: `${componentTitle(step.component)} has no action ${step.action}` });
			return;
		}
		const fields = declared.fields.map((f) => f.name);
		for (const field of Object.keys(step.mapping ?? {}))
			if (!fields.includes(field))
				issues.push({
					path: dotted([...path, "mapping", field]),
					message: `${declared.title} has no field ${field}${fields.length ? ` (its fields: ${fields.join(", ")})` : ""}`,
				});
	});
	return issues;
}

/** The problems of every step that need no database (a draft's own problems first). */
export function stepProblems(steps: readonly StepDefinition[]): PublishIssue[] {
	const issues: PublishIssue[] = draftStepProblems(steps);
	const allIds = new Set<string>();
	visitSteps(steps, ({ step }) => {
		if (step.id) allIds.add(step.id);
	});
	visitSteps(steps, ({ step, path, earlier }) => {
		const declared = findAction(step.component, step.action);
		if (!declared) return; // the draft's schema already said so
		const settings = new Map(declared.settings.map((s) => [s.name, s]));
		for (const key of Object.keys(step)) {
			if (COMMON_KEYS.has(key) || settings.has(key)) continue;
			issues.push({
				path: dotted([...path, key]),
				message: `${declared.title} (${componentTitle(step.component)}) does not take ${key}: remove it`,
			});
		}
		for (const setting of declared.settings) {
			const value: unknown = Reflect.get(step, setting.name);
			if (setting.required && setting.default === undefined && setting.kind !== "mapping" && isMissing(value)) {
				issues.push({ path: dotted([...path, setting.name]), message: setting.requiredMessage ?? `${setting.label} is required` });
				continue;
			}
			if (setting.kind === "select" && value !== undefined && !(setting.options ?? []).includes(String(value)))
				issues.push({ path: dotted([...path, setting.name]), message: `${setting.label} is one of ${(setting.options ?? []).join(", ")}` });
			for (const expression of expressionsOf(step, setting, path)) {
				let sources: string[];
				try {
					sources = expression.template ? compileTemplate(expression.source) : [expression.source];
					if (!expression.template) compileExpression(expression.source);
				} catch (error) {
					if (!(error instanceof MappingError)) throw error;
					issues.push({
						path: expression.path,
						message: `${expression.what} is not valid ${expression.template ? "as a template" : "JSONata"}: ${error.message}`,
					});
					continue;
				}
				for (const source of sources) {
					for (const id of referencedStepIds(source)) {
						if (earlier.includes(id)) continue;
						const message = !allIds.has(id)
							? `${expression.what} reads $steps.${id}, but no step has the id ${id}`
							: id === step.id
								? `${expression.what} reads $steps.${id}, the output of this very step`
								: `${expression.what} reads $steps.${id}, which is not an earlier step on the way to this one`;
						issues.push({ path: expression.path, message });
					}
				}
			}
		}
	});
	return issues;
}

/** What publishing needs to know of a credential: its component and, for HTTP and Petstore, its base URL. */
export interface CredentialFacts {
	component: string;
	baseUrl: string | null;
}

/** Each step's credential exists, belongs to the step's component, and literal URLs stay under it. */
export function credentialProblems(
	steps: readonly StepDefinition[],
	credentials: ReadonlyMap<string, CredentialFacts>,
	subject = "The draft",
): PublishIssue[] {
	const issues: PublishIssue[] = [];
	visitSteps(steps, ({ step, path }) => {
		const declared = findAction(step.component, step.action);
		const setting = declared?.settings.find((s) => s.kind === "credential");
		if (!setting || !step.credentialId) return;
		const at = dotted([...path, "credentialId"]);
		const found = credentials.get(step.credentialId);
		const wanted = setting.credentialComponent ?? step.component;
		if (!found) {
			issues.push({
				path: at,
				message: `${subject} uses ${wanted} credential ${step.credentialId}, which does not exist; choose another and publish again`,
			});
			return;
		}
		if (found.component !== wanted) {
			issues.push({
				path: at,
				message: `Credential ${step.credentialId} is a ${found.component} credential; this step needs a ${wanted} credential`,
			});
			return;
		}
		// A literal URL (no {{ }}) is checked now; a computed one when it runs.
		if (typeof step.url === "string" && found.baseUrl) {
			let parts: ReturnType<typeof parseTemplate>;
			try {
				parts = parseTemplate(step.url);
			} catch {
				return; // reported by stepProblems
			}
			if (parts.some((p) => "expression" in p) || isWholeValue(parts)) return;
			const resolved = resolveStepUrl(step.url, found.baseUrl);
			const outside = resolved.ok ? outsideCredential(resolved.url, found.baseUrl) : resolved.error;
			if (outside) issues.push({ path: dotted([...path, "url"]), message: outside.replace(", so nothing was sent", "") });
		}
	});
	return issues;
}

/** Every credential id the steps name. */
export function stepCredentialIds(steps: readonly StepDefinition[]): string[] {
	const ids = new Set<string>();
	visitSteps(steps, ({ step }) => {
		if (step.credentialId) ids.add(step.credentialId);
	});
	return [...ids];
}
