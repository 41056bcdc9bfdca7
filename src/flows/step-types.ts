/**
 * @module
 * The shape of a flow's steps (SPEC §6), as types: definition.ts validates it, step-tree.ts walks
 * it, the step machine runs it.
 */
/** Steps in all (nested ones included) and how deep they may nest (the top level is 1). */
export const STEP_LIMITS = { maxSteps: 50, maxDepth: 3 } as const;
export const STEP_ID_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

/** A route of a router step. */
export interface RouteDefinition {
	name: string;
	condition: string;
	steps: StepDefinition[];
}

/**
 * One step. Which settings apply is the action's declaration in the catalogue
 * (src/components/*: `settings`); publishing checks them (flows/publish-steps.ts).
 */
export interface StepDefinition {
	/** Unique in the flow; a step saved without one gets one (step-tree.ts), so drafts made before ids keep working. */
	id?: string;
	/** An action component of the catalogue (components/registry.ts); the API checks it. */
	component: string;
	action: string;
	name?: string;
	note?: string;
	/** What "Retrieve sample" got (`$steps.<id>` of a sample run): the designer offers its fields to later steps. Never read when running. */
	sample?: unknown;
	/** Overrides the flow's retry policy for this step. */
	retryPolicy?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
	credentialId?: string | null;
	mapping?: Record<string, string | undefined>;
	method?: string;
	url?: string;
	headers?: Record<string, string>;
	query?: Record<string, string>;
	body?: string;
	condition?: string;
	expression?: string;
	items?: string;
	concurrency?: number;
	mode?: "first" | "all";
	routes?: RouteDefinition[];
	otherwise?: StepDefinition[];
	steps?: StepDefinition[];
}

/** A step whose id is set (every step the machine runs: step-tree.ts assigns missing ones). */
export type IdentifiedStep = StepDefinition & { id: string };
