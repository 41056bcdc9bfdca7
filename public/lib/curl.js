/**
 * @module
 * Ready-to-paste shell lines for the hook URL. What to sign and how is the server's (the webhook
 * credential's `tryIt`); here only the URL and the sample body are filled in, shell-quoted.
 */

const quote = (s) => `'${String(s).replaceAll("'", `'\\''`)}'`;

// The sample without the request metadata (_method, _headers, …) the platform adds.
export function sampleBody(sample) {
	const body = Object.fromEntries(Object.entries(sample ?? {}).filter(([key]) => !key.startsWith("_")));
	return JSON.stringify(Object.keys(body).length ? body : { petname: "Gromit", petstatus: "Sold" });
}

export function sampleCurl(url) {
	return [`curl ${quote(url)} \\`, `  -H 'content-type: application/json' \\`, `  -d ${quote(sampleBody())}`].join("\n");
}

// The credential's try-it: { command, hint } with {url} and {body} to fill, or { testFrom } (a provider's dashboard).
export function hookTryIt(url, credential, sample) {
	const tryIt = credential?.tryIt ?? {
		command: 'url={url}\nbody={body}\ncurl "$url" -H \'content-type: application/json\' -d "$body"',
		hint: "",
	};
	if (tryIt.testFrom) return { testFrom: tryIt.testFrom };
	const command = tryIt.command.replaceAll("{url}", quote(url)).replaceAll("{body}", quote(sampleBody(sample)));
	return { command, hint: tryIt.hint };
}
