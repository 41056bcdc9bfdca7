/**
 * @module
 * Retrieve sample: runs the action once on the mapped trigger sample (a real Petstore call).
 */
import { api } from "../../lib/api.js";
import { alertBox, announce, h, isAbort, pretty } from "../../lib/dom.js";

export function retrieveStage({ flowId, index, signal, save, next }) {
	const alert = alertBox();
	const result = h("div", { class: "stack" });
	const progress = h(
		"p",
		{ class: "progress", role: "status", hidden: true },
		h("span", { class: "spinner", "aria-hidden": "true" }),
		"Calling the Petstore…",
	);
	const cont = h("button", { type: "button", class: "primary", hidden: true, onclick: next }, "Continue");
	const skip = h("button", { type: "button", onclick: next }, "Skip");
	const run = h("button", { type: "button", class: "primary", onclick: retrieve }, "Retrieve sample");

	async function retrieve() {
		alert.show(null);
		run.disabled = true;
		progress.hidden = false;
		try {
			await save();
			const { sample } = await api(`/flows/${flowId}/steps/${index}/sample`, { method: "POST", body: {}, signal });
			const { request, response, error } = sample;
			const ok = response && response.status >= 200 && response.status < 300;
			result.replaceChildren(
				h("h3", null, "Request"),
				h(
					"pre",
					{ class: "code", tabindex: 0 },
					request ? `${request.method} ${request.url}\n${pretty(request.body)}` : "No request was sent.",
				),
				h(
					"h3",
					null,
					"Response ",
					response ? h("span", { class: `badge badge-${ok ? "succeeded" : "failed"}` }, `HTTP ${response.status}`) : "",
				),
				response ? h("pre", { class: "code", tabindex: 0 }, typeof response.body === "string" ? response.body : pretty(response.body)) : "",
				error ? h("p", { class: "alert" }, error) : "",
			);
			cont.hidden = false;
			skip.hidden = true;
			announce(response ? `The Petstore answered ${response.status}.` : `No answer: ${error}`);
			cont.focus();
		} catch (error) {
			if (!isAbort(error)) alert.show(error);
		} finally {
			run.disabled = false;
			progress.hidden = true;
		}
	}

	return h(
		"div",
		{ class: "stack" },
		h("h2", { tabindex: -1 }, "Retrieve sample"),
		h(
			"p",
			{ class: "muted" },
			"Runs this step once with the mapped webhook sample and shows the Petstore’s answer. It is a real call: it creates a pet.",
		),
		alert.el,
		h("div", { class: "row" }, run, skip),
		progress,
		result,
		h("div", { class: "row" }, cont),
	);
}
