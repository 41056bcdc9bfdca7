/**
 * @module
 * The HTTP request component: any REST API. Its catalogue entry (settings and the credential
 * types), declared once; requests are prepared in request.ts and sent in send.ts.
 */
import { CALL_OUTPUT } from "../fields";
import { HTTP_METHODS } from "./request";

export const httpComponent = {
	id: "http",
	kind: "action",
	title: "HTTP request",
	description: "Calls any REST API: method, URL, headers, query and a JSON body, with the credential of your choice.",
	credentialTypes: [
		{ type: "none", title: "No Auth", fields: [] },
		{
			type: "basic",
			title: "Basic Auth",
			fields: [
				{ name: "username", label: "Username", required: true, secret: false },
				{ name: "password", label: "Password", required: true, secret: true },
			],
		},
		{ type: "bearer", title: "Bearer token", fields: [{ name: "token", label: "Token", required: true, secret: true }] },
		{
			type: "apiKey",
			title: "API key",
			fields: [
				{ name: "in", label: "Sent in", required: true, secret: false, options: ["header", "query"], default: "header" },
				{ name: "name", label: "Header or parameter name", required: true, secret: false, default: "x-api-key" },
				{ name: "key", label: "Key", required: true, secret: true },
			],
		},
		{
			type: "oauth2ClientCredentials",
			title: "OAuth2 client credentials",
			fields: [
				{ name: "tokenUrl", label: "Token URL", required: true, secret: false },
				{ name: "clientId", label: "Client ID", required: true, secret: false },
				{ name: "clientSecret", label: "Client secret", required: true, secret: true },
				{ name: "scope", label: "Scope", required: false, secret: false },
				{ name: "audience", label: "Audience", required: false, secret: false },
			],
		},
	],
	/** Every HTTP credential has these, whatever its type. */
	credentialFields: [
		{
			name: "baseUrl",
			label: "Base URL",
			required: true,
			secret: false,
			changeRequires: "auth",
			hint: "http(s), without user name, query or fragment; the secret is only ever sent to URLs under it",
		},
	],
	actions: [
		{
			id: "request",
			title: "Send an HTTP request",
			runs: "call",
			settings: [
				{
					name: "credentialId",
					label: "Credential",
					required: false,
					kind: "credential",
					credentialComponent: "http",
					help: "Optional. Its secret goes only to URLs under its base URL; a URL without a scheme is appended to it.",
				},
				{ name: "method", label: "Method", required: true, kind: "select", options: HTTP_METHODS, default: "GET" },
				{
					name: "url",
					label: "URL",
					required: true,
					kind: "template",
					templateOf: "url",
					help: "A template: https://api.example.com/customers/{{customer.id}} (each {{ }} part is percent-encoded), or /customers/{{customer.id}} under the credential's base URL",
				},
				{ name: "headers", label: "Headers", required: false, kind: "templateMap", templateOf: "text" },
				{ name: "query", label: "Query parameters", required: false, kind: "templateMap", templateOf: "text" },
				{ name: "body", label: "Body", required: false, kind: "expression", help: "JSONata; its value is sent as JSON" },
			],
			fields: [],
			output: CALL_OUTPUT,
		},
	],
} as const;
