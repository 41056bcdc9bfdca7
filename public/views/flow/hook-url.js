// The flow's hook URL with a copy button and a curl line that fits the trigger's auth.
import { hookCurl, secretHint } from "../../lib/curl.js";
import { copyField, h } from "../../lib/dom.js";

export function hookPanel({ flow, credential, sample, accepting }) {
	const running = accepting.includes(flow.status);
	return h(
		"section",
		{ class: `card stack hook ${running ? "is-running" : ""}`, "aria-labelledby": "hook-title" },
		h("h2", { id: "hook-title" }, "Hook URL"),
		h(
			"p",
			{ class: "muted" },
			running
				? flow.status === "paused"
					? "Paused: every request to this URL is still accepted; its execution is delivered after Resume."
					: "Every request to this URL becomes an execution of the published version."
				: "Start the flow to accept requests; until then the URL answers 404.",
		),
		copyField("Hook URL", flow.hookUrl),
		copyField(credential ? `Try it with curl (${credential.name})` : "Try it with curl", hookCurl(flow.hookUrl, credential, sample), {
			multiline: true,
		}),
		secretHint[credential?.type]
			? h("p", { class: "hint" }, `Secrets are write-only and never shown again. ${secretHint[credential.type]}`)
			: null,
	);
}
