/**
 * @module
 * Retrieve sample: runs one step once with the webhook sample and the earlier steps' samples (a
 * real call for a call step; a logic step says which way the sample went) and keeps what it gives
 * as the step's sample, which later steps' field drop-downs offer.
 */
import { api } from "../../lib/api.js";
import { alertBox, announce, h, isAbort, pretty } from "../../lib/dom.js";
import { describeOutcome } from "./step-form.js";

/**
 * @param {{ flowId: string | undefined, step: any, title: string, calls: boolean, context: Record<string, unknown>, signal: AbortSignal,
 *   save: () => Promise<unknown>, changed: () => void, next: () => void }} options
 */
export function retrieveStage({ flowId, step, title, calls, context, signal, save, changed, next }) {
	const alert = alertBox();
	const result = h("div", { class: "stack" });
	const progress = h(
		"p",
		{ class: "progress", role: "status", hidden: true },
		h("span", { class: "spinner", "aria-hidden": "true" }),
		`Calling ${title}…`,
	);
	const cont = h("button", { type: "button", class: "primary", hidden: true, onclick: next }, "Continue");
	const skip = h("button", { type: "button", onclick: next }, "Skip");
	const run = h("button", { type: "button", class: "primary", onclick: retrieve }, "Retrieve sample");
	const kept = () =>
		step.sample === undefined
			? null
			: h(
					"details",
					{ class: "stack" },
					h("summary", null, "Kept sample ($steps.", step.id, ")"),
					h("pre", { class: "code", tabindex: 0 }, pretty(step.sample)),
				);
	const keptBox = h("div", null, kept());

	async function retrieve() {
		alert.show(null);
		run.disabled = true;
		progress.hidden = !calls;
		try {
			await save();
			const { sample } = await api(`/flows/${flowId}/steps/0/sample`, { method: "POST", body: { step, ...context }, signal });
			const { request, response, error } = sample;
			const ok = response && response.status >= 200 && response.status < 300;
			result.replaceChildren(
				...(calls
					? [
							h("h3", null, "Request"),
							h(
								"pre",
								{ class: "code", tabindex: 0 },
								request ? `${request.method} ${request.url}\n${pretty(request.body ?? null)}` : "No request was sent.",
							),
							h(
								"h3",
								null,
								"Response ",
								response ? h("span", { class: `badge badge-${ok ? "succeeded" : "failed"}` }, `HTTP ${response.status}`) : "",
							),
							response
								? h("pre", { class: "code", tabindex: 0 }, typeof response.body === "string" ? response.body : pretty(response.body))
								: "",
						]
					: [h("h3", null, "Outcome"), h("pre", { class: "code", tabindex: 0 }, describeOutcome(sample) ?? "")]),
				error ? h("p", { class: "alert" }, error) : "",
			);
			if (!error) {
				step.sample = sample.output;
				await save();
				keptBox.replaceChildren(kept() ?? "");
				changed();
			}
			cont.hidden = false;
			skip.hidden = true;
			announce(
				error
					? `No sample: ${error}`
					: response
						? `${title} answered ${response.status}; kept as this step’s sample.`
						: "Kept as this step’s sample.",
			);
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
			calls
				? `Runs this step once with the webhook sample and the earlier steps’ samples, and shows ${title}’s answer. It is a real call: whatever it does (create, update, delete) happens.`
				: "Works this step out on the webhook sample and the earlier steps’ samples, and shows which way the sample goes. No call is made.",
			" What it gives is kept as this step’s sample, for the fields of later steps.",
		),
		alert.el,
		h("div", { class: "row" }, run, skip),
		progress,
		result,
		keptBox,
		h("div", { class: "row" }, cont),
	);
}
