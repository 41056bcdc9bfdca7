/** A signed request made in Node by a provider's SDK (test/provider-vectors.ts), checked in workerd. */
export interface ProviderVector {
	name: string;
	/** The `auth` object the admin API takes. */
	auth: Record<string, string>;
	/** What made the signature. */
	signedBy: string;
	method: "GET" | "POST";
	url: string;
	headers: Record<string, string>;
	body: string;
	nowMs: number;
	/** A handshake's answer as the provider documents it (the body to send back). */
	answer?: string;
	/** What the provider's own SDK says of this request, when the vector is a verdict rather than a signed example. */
	sdkAccepts?: boolean;
}

declare module "vitest" {
	export interface ProvidedContext {
		providerVectors: ProviderVector[];
	}
}
