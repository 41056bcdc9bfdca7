import type { TestProject } from "vitest/node";
import { startPetstore } from "../dev/petstore/server.ts";

declare module "vitest" {
	export interface ProvidedContext {
		petstoreUrl: string;
	}
}

// The Workers under test reach this Petstore through PETSTORE_BASE_URL (see vitest.config.ts).
export default async function ({ provide }: TestProject) {
	const petstore = await startPetstore();
	provide("petstoreUrl", petstore.url);
	return () => petstore.close();
}
