/**
 * @module
 * The flow's hook URL with a copy button and a "try it" that fits the trigger's credential type.
 */
import { hookTryIt } from "../../lib/curl.js";
import { copyField, h } from "../../lib/dom.js";

export function hookPanel({ flow, credential, sample, accepting }) {
	const running = accepting.includes(flow.status);
	const tryIt = hookTryIt(flow.hookUrl, credential, sample);
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
		tryIt.testFrom
			? h(
					"p",
					{ class: "hint" },
					`Send a test event from ${tryIt.testFrom}'s dashboard: it signs the request over the exact URL it calls, which makes signing by hand error-prone.`,
				)
			: copyField(credential ? `Try it with curl (${credential.name})` : "Try it with curl", tryIt.command, { multiline: true }),
		tryIt.hint ? h("p", { class: "hint" }, tryIt.hint) : null,
	);
}
