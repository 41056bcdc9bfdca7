import type { PetstoreCredential } from "../components/petstore/client";
import { runCreatePet } from "../components/petstore/create-pet";
import type { ActionOutcome } from "../components/types";
import { applyMapping } from "../mapping/evaluate";
import type { FlowDefinition } from "./definition";

type Step = FlowDefinition["steps"][number];

/** Maps the message with the step's JSONata and runs its action once. */
export async function runStep(
	step: Pick<Step, "mapping">,
	message: unknown,
	credential: PetstoreCredential | null,
	executionId: string,
): Promise<ActionOutcome> {
	const mapped = await applyMapping(step.mapping ?? {}, message);
	if (mapped.errors.length > 0)
		return { kind: "terminal", request: null, response: null, error: `Mapping failed: ${mapped.errors.join("; ")}` };
	if (!credential) return { kind: "terminal", request: null, response: null, error: "The step's Petstore credential no longer exists" };
	return runCreatePet(mapped.values, credential, executionId);
}
