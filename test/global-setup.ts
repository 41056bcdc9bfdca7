import type { TestProject } from "vitest/node";
import { startPetstore } from "../dev/petstore/server.ts";
import { startAlertReceiver } from "./alert-receiver.ts";

declare module "vitest" {
	export interface ProvidedContext {
		petstoreOrigin: string;
		alertReceiverUrl: string;
	}
}

// One local Petstore for the whole run; vitest.config.ts gives each test file's Worker a tenant of
// its own under it (`<origin>/t/<uuid>/v2` as PETSTORE_BASE_URL), so files never see each other's
// pets, request log or injected faults.
export default async function ({ provide }: TestProject) {
	const petstore = await startPetstore();
	const alertReceiver = await startAlertReceiver();
	provide("petstoreOrigin", new URL(petstore.url).origin);
	provide("alertReceiverUrl", alertReceiver.url);
	return async () => {
		await alertReceiver.close();
		await petstore.close();
	};
}
