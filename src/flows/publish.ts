/**
 * @module
 * What a draft needs before it can become a version, decided in one place for publishing and for
 * importing a published flow: the publishable shape, every step's settings and expressions
 * (publish-steps.ts), and the delivery key compile. Whether its credentials exist is for the
 * caller, which has the database (publish-steps.ts's credentialProblems decides with what it read).
 */
import { compileExpression, MappingError } from "../mapping/evaluate";
import { type FlowDefinition, publishableSchema } from "./definition";
import { type PublishIssue, stepProblems } from "./publish-steps";

export type { PublishIssue } from "./publish-steps";

export type PublishCheck = { ok: true; definition: FlowDefinition } | { ok: false; problem: string; issues: PublishIssue[] };

/** One issue: its message is the problem; several: listed after what they have in common. */
export function publishProblem(issues: readonly PublishIssue[]): string {
	if (issues.length === 1 && issues[0]) return issues[0].message;
	return `The draft is not ready to publish: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`;
}

export function checkPublishable(draft: unknown): PublishCheck {
	const parsed = publishableSchema.safeParse(draft ?? {});
	if (!parsed.success) {
		const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
		return { ok: false, problem: `The draft is not ready to publish: ${issues.map((i) => i.message).join("; ")}`, issues };
	}
	// zod checked the shape; each step must also fit its action, and every expression compile.
	const issues = stepProblems(parsed.data.steps);
	const key = parsed.data.delivery?.key;
	if (key) {
		try {
			compileExpression(key);
		} catch (error) {
			if (!(error instanceof MappingError)) throw error;
			if (issues.length === 0)
				return {
					ok: false,
					problem: `The delivery key is not valid JSONata: ${error.message}`,
					issues: [{ path: "delivery.key", message: error.message }],
				};
			issues.push({ path: "delivery.key", message: `The delivery key is not valid JSONata: ${error.message}` });
		}
	}
	if (issues.length > 0) return { ok: false, problem: publishProblem(issues), issues };
	return { ok: true, definition: parsed.data };
}
