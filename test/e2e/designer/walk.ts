// A walk through the designer is a chain of steps, each building on the one before.
import { afterEach, beforeEach, it } from "vitest";

/**
 * Registers a walk's hooks in the calling test file. After the first failed step the later steps
 * are skipped (they would only add noise), but the final checks declared with `finalCheck` still
 * run, and a failing final check names the step that failed before it.
 */
export function walk(options: { onFailure?: (step: string) => unknown } = {}) {
	let failedStep: string | null = null;
	const finalChecks = new Set<string>();

	beforeEach((test) => {
		if (failedStep !== null && !finalChecks.has(test.task.name)) test.skip(`skipped: the step "${failedStep}" failed`);
	});

	afterEach(async (test) => {
		if (failedStep !== null || test.task.result?.state !== "fail" || finalChecks.has(test.task.name)) return;
		failedStep = test.task.name;
		await options.onFailure?.(failedStep);
	});

	return {
		/** The first step that failed, if any. */
		failedStep: () => failedStep,
		/** A check of the whole walk (console errors, foreign requests) that runs whether or not a step failed. */
		finalCheck(name: string, check: () => unknown) {
			finalChecks.add(name);
			it(name, async () => {
				try {
					await check();
				} catch (error) {
					if (failedStep !== null && error instanceof Error) error.message = `(after the failed step "${failedStep}") ${error.message}`;
					throw error;
				}
			});
		},
	};
}
