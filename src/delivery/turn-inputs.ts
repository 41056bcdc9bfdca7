/**
 * @module
 * What a turn loads before it can run (deliverer.ts): the published version's steps (immutable,
 * kept for the object's life), step credentials (kept CREDENTIAL_CACHE_MS, or until the main
 * object says one changed) and OAuth2 tokens (in memory only: a token is a secret, never stored).
 */
import { memoryTokenCache, OAuth2TokenClient } from "../components/http/oauth2";
import { loadFlowVersion } from "../db/queries/flows";
import type { StepCredential } from "../flows/step-actions";
import { loadStepCredential } from "../flows/step-credentials";
import { countSteps, visitSteps, withStepIds } from "../flows/step-tree";
import type { InboxRow } from "./inbox";
import type { ObjectState } from "./object-state";
import type { RunnableVersion } from "./step-runner";

const CREDENTIAL_CACHE_MS = 30_000;

export class TurnInputs {
	readonly #env: Env;
	readonly #state: ObjectState;
	readonly #versions = new Map<number, RunnableVersion | null>();
	readonly #credentials = new Map<string, { value: StepCredential | null; expiresAt: number }>();
	readonly tokens = new OAuth2TokenClient(memoryTokenCache());

	constructor(env: Env, state: ObjectState) {
		this.#env = env;
		this.#state = state;
	}

	forgetCredential(credentialId: string): void {
		this.#credentials.delete(credentialId);
		this.tokens.forget(credentialId);
	}

	/** Loads the versions and credentials these rows' calls need; failures are left to the turn. */
	async warm(rows: InboxRow[]): Promise<void> {
		await Promise.all(
			[...new Set(rows.map((r) => r.version))].map(async (version) => {
				const runnable = await this.version(version);
				const ids = new Set<string>();
				visitSteps(runnable?.steps ?? [], ({ step }) => {
					if (step.credentialId) ids.add(step.credentialId);
				});
				await Promise.all([...ids].map((id) => this.credential(id)));
			}),
		).catch(() => undefined);
	}

	async version(version: number): Promise<RunnableVersion | null> {
		if (!this.#versions.has(version)) {
			const definition = await loadFlowVersion(this.#env.DB, this.#state.flowId(), version);
			// Versions published before step ids get them here, the same way a draft does (step_1, …).
			this.#versions.set(
				version,
				definition
					? { steps: withStepIds(definition.steps), retryPolicy: definition.retryPolicy, multiStep: countSteps(definition.steps) > 1 }
					: null,
			);
		}
		return this.#versions.get(version) ?? null;
	}

	async credential(credentialId: string): Promise<StepCredential | null> {
		const now = Date.now();
		const cached = this.#credentials.get(credentialId);
		if (cached && cached.expiresAt > now) return cached.value;
		const value = await loadStepCredential(this.#env, credentialId, now);
		this.#credentials.set(credentialId, { value, expiresAt: now + CREDENTIAL_CACHE_MS });
		return value;
	}
}
