// Ready-to-paste shell lines for the hook URL. Secrets are write-only, so they appear as
// <placeholders> the user replaces with what they saved.

const quote = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;

// The sample without the request metadata (_method, _headers, …) the platform adds.
export function sampleBody(sample) {
	const body = Object.fromEntries(Object.entries(sample ?? {}).filter(([key]) => !key.startsWith("_")));
	return JSON.stringify(Object.keys(body).length ? body : { petname: "Gromit", petstatus: "Sold" });
}

export function sampleCurl(url) {
	return [`curl ${quote(url)} \\`, `  -H 'content-type: application/json' \\`, `  -d ${quote(sampleBody())}`].join("\n");
}

export function hookCurl(url, credential, sample) {
	const body = sampleBody(sample);
	const json = `-H 'content-type: application/json'`;
	const details = credential?.details ?? {};
	switch (credential?.type) {
		case "basic":
			return [`curl ${quote(url)} \\`, `  -u ${quote(`${details.username}:<password>`)} \\`, `  ${json} \\`, `  -d ${quote(body)}`].join(
				"\n",
			);
		case "apiKey":
			return [
				`curl ${quote(url)} \\`,
				`  -H ${quote(`${details.headerName ?? "x-api-key"}: <key>`)} \\`,
				`  ${json} \\`,
				`  -d ${quote(body)}`,
			].join("\n");
		case "hmac": {
			const algorithm = details.algorithm ?? "sha256";
			return [
				`body=${quote(body)}`,
				`secret='<secret>'`,
				`sig=$(printf '%s' "$body" | openssl dgst -${algorithm} -hmac "$secret" | sed 's/^.*= //')`,
				`curl ${quote(url)} \\`,
				`  -H "${details.headerName ?? "x-hookflow-signature"}: ${algorithm}=$sig" \\`,
				`  ${json} \\`,
				`  -d "$body"`,
			].join("\n");
		}
		case "standardWebhooks":
			return [
				`body=${quote(body)}`,
				`secret='<whsec_…>'`,
				`id="msg_$(openssl rand -hex 12)"; ts=$(date +%s)`,
				`# Standard Webhooks: HMAC-SHA256 of "id.timestamp.body" with the base64 key after whsec_`,
				`key=$(printf '%s' "\${secret#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \\n')`,
				`sig=$(printf '%s' "$id.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)`,
				`curl ${quote(url)} \\`,
				`  -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \\`,
				`  ${json} \\`,
				`  -d "$body"`,
			].join("\n");
		default:
			return [`curl ${quote(url)} \\`, `  ${json} \\`, `  -d ${quote(body)}`].join("\n");
	}
}

export const secretHint = {
	basic: "Replace <password> with the password saved in the credential.",
	apiKey: "Replace <key> with the API key saved in the credential.",
	hmac: "Replace <secret> with the signing secret; the signature is the HMAC of the raw body bytes.",
	standardWebhooks: "Replace <whsec_…> with the signing secret; each request needs a fresh id and timestamp (±5 minutes).",
};
