import type { TestProject } from "vitest/node";
import { startPetstore } from "../dev/petstore/server.ts";
import { startAlertReceiver } from "./alert-receiver.ts";

declare module "vitest" {
	export interface ProvidedContext {
		petstoreUrl: string;
		alertReceiverUrl: string;
	}
}

// The Workers under test reach this Petstore through PETSTORE_BASE_URL (see vitest.config.ts).
export default async function ({ provide }: TestProject) {
	const petstore = await startPetstore();
	const alertReceiver = await startAlertReceiver();
	provide("petstoreUrl", petstore.url);
	provide("alertReceiverUrl", alertReceiver.url);
	return async () => {
		await alertReceiver.close();
		await petstore.close();
	};
}
