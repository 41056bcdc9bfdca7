/**
 * @module
 * What a draft needs before it can become a version, decided in one place for publishing and for
 * importing a published flow: the publishable shape, every mapping expression and the delivery
 * key compile. Whether
 * its credentials exist is for the caller, which has the database.
 */
import { compileExpression, MappingError } from "../mapping/evaluate";
import { type FlowDefinition, publishableSchema } from "./definition";

export interface PublishIssue {
	/** Where in the definition, dotted (`steps.0.mapping.name`). */
	path: string;
	message: string;
}

export type PublishCheck = { ok: true; definition: FlowDefinition } | { ok: false; problem: string; issues: PublishIssue[] };

export function checkPublishable(draft: unknown): PublishCheck {
	const parsed = publishableSchema.safeParse(draft ?? {});
	if (!parsed.success) {
		const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
		return { ok: false, problem: `The draft is not ready to publish: ${issues.map((i) => i.message).join("; ")}`, issues };
	}
	// zod checked the shape; an expression must also compile.
	for (const [index, step] of parsed.data.steps.entries()) {
		for (const [field, source] of Object.entries(step.mapping)) {
			try {
				if (source) compileExpression(source);
			} catch (error) {
				if (!(error instanceof MappingError)) throw error;
				const message = `Mapping for ${field} is not valid JSONata: ${error.message}`;
				return { ok: false, problem: message, issues: [{ path: `steps.${index}.mapping.${field}`, message }] };
			}
		}
	}
	const key = parsed.data.delivery?.key;
	if (key) {
		try {
			compileExpression(key);
		} catch (error) {
			if (!(error instanceof MappingError)) throw error;
			return {
				ok: false,
				problem: `The delivery key is not valid JSONata: ${error.message}`,
				issues: [{ path: "delivery.key", message: error.message }],
			};
		}
	}
	return { ok: true, definition: parsed.data };
}
