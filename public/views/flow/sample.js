/**
 * @module
 * Webhook sample stage: add it by hand, catch a real request, generate one, or skip.
 */
import { api } from "../../lib/api.js";
import { sampleCurl } from "../../lib/curl.js";
import { alertBox, announce, copyField, fmtTime, h, isAbort, pretty } from "../../lib/dom.js";
import { parseSample } from "../../lib/json-check.js";

const PET_NAMES = ["Gromit", "Snoopy", "Garfield", "Lassie", "Nemo", "Hedwig", "Bolt"];
const PET_STATUSES = ["Available", "Pending", "Sold"];
const pick = (list) => list[Math.floor(Math.random() * list.length)];

export function sampleStage({ trigger, flowId, signal, save, next }) {
	const alert = alertBox();
	const current = h("div", { class: "stack" });
	const work = h("div", { class: "stack" });
	// Each method panel gets its own controller so switching methods stops a pending long-poll.
	let panel = new AbortController();

	function showCurrent() {
		current.replaceChildren(
			trigger.sample
				? h("div", { class: "stack" }, h("h3", null, "Current sample"), h("pre", { class: "code", tabindex: 0 }, pretty(trigger.sample)))
				: h("p", { class: "muted" }, "No sample yet. The mapping offers the sample’s properties, so add one."),
		);
	}

	async function use(sample, message) {
		trigger.sample = sample;
		showCurrent();
		try {
			await save();
			announce(message);
		} catch (error) {
			alert.show(error);
		}
	}

	function open(render) {
		panel.abort();
		panel = new AbortController();
		alert.show(null);
		work.replaceChildren(render(AbortSignal.any([signal, panel.signal])));
		work.querySelector(/** @type {"input"} */ ("textarea, input, button"))?.focus();
	}

	function manual() {
		const message = h("p", { id: "sample-json-msg", class: "field-msg", "aria-live": "polite" });
		const area = h("textarea", {
			id: "sample-json",
			class: "code",
			rows: 8,
			spellcheck: "false",
			"aria-describedby": "sample-json-msg",
			value: pretty(trigger.sample ?? { petname: "Gromit", petstatus: "Sold" }),
		});
		const check = () => {
			const result = parseSample(area.value);
			message.textContent = result.error ?? "Valid JSON.";
			message.classList.toggle("bad", !!result.error);
			area.setAttribute("aria-invalid", String(!!result.error));
			return result;
		};
		area.addEventListener("input", check);
		const submit = async (event) => {
			event.preventDefault();
			const result = check();
			if (result.error !== undefined) {
				// Put the caret where the parser stopped.
				area.focus();
				area.setSelectionRange(result.pos, result.pos + 1);
				return;
			}
			await use(result.value, "Sample saved.");
			work.replaceChildren();
		};
		return h(
			"form",
			{ class: "card stack", onsubmit: submit },
			h("label", { for: "sample-json" }, "Sample (JSON object)"),
			area,
			message,
			h("div", { class: "row" }, h("button", { class: "primary" }, "Save")),
		);
	}

	function request(panelSignal) {
		const box = h("div", { class: "card stack" }, h("p", { class: "progress" }, "Creating a one-time URL…"));
		(async () => {
			try {
				const { url, expiresAt } = await api(`/flows/${flowId}/sample-request`, { method: "POST", signal: panelSignal });
				const expires = Date.parse(expiresAt);
				const left = h("span");
				const countdown = () => {
					const s = Math.max(0, Math.round((expires - Date.now()) / 1000));
					left.textContent = `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s left`;
				};
				countdown();
				const timer = setInterval(countdown, 1000);
				panelSignal.addEventListener("abort", () => clearInterval(timer));
				const status = h(
					"p",
					{ class: "progress", role: "status" },
					h("span", { class: "spinner", "aria-hidden": "true" }),
					"Waiting for a request to arrive…",
				);
				box.replaceChildren(
					h(
						"p",
						null,
						"Send one request of any method to this URL. It works once and expires at ",
						h("strong", null, fmtTime(expiresAt)),
						" (",
						left,
						").",
					),
					copyField("Sample request URL", url),
					copyField("Or send it with curl", sampleCurl(url), { multiline: true }),
					status,
					h(
						"div",
						{ class: "row" },
						h(
							"button",
							{
								type: "button",
								onclick: () => {
									panel.abort();
									work.replaceChildren();
								},
							},
							"Cancel",
						),
					),
				);
				while (Date.now() < expires) {
					const started = Date.now();
					const { sample, expiresAt: still } = await api(`/flows/${flowId}/sample-request?wait=25`, { signal: panelSignal });
					if (sample) {
						clearInterval(timer);
						// What arrived is shown once, below, as the current sample.
						box.replaceChildren(h("p", { class: "notice ok", role: "status" }, "Request received. It is now the sample, shown below."));
						await use(sample, "Request received; saved as the sample.");
						return;
					}
					if (!still) break;
					// A wait that answers at once must not turn into a busy loop.
					if (Date.now() - started < 1000) await new Promise((r) => setTimeout(r, 1000));
				}
				clearInterval(timer);
				status.replaceChildren("The URL expired without a request. Send sample request again for a new one.");
			} catch (error) {
				if (!isAbort(error)) alert.show(error);
			}
		})();
		return box;
	}

	const generate = () => {
		use({ petname: pick(PET_NAMES), petstatus: pick(PET_STATUSES) }, "Sample generated.");
		work.replaceChildren();
	};
	const skip = async () => {
		panel.abort();
		delete trigger.sample;
		try {
			await save();
			next();
		} catch (error) {
			alert.show(error);
		}
	};

	showCurrent();
	return h(
		"div",
		{ class: "stack" },
		h("h2", { tabindex: -1 }, "Webhook sample"),
		h("p", { class: "muted" }, "A sample message is what the mapping is built on: one request as the webhook will receive it."),
		alert.el,
		h(
			"div",
			{ class: "row wrap" },
			h("button", { type: "button", onclick: () => open(manual) }, "Add sample manually"),
			h("button", { type: "button", onclick: () => open(request) }, "Send sample request"),
			h("button", { type: "button", onclick: generate }, "Generate sample"),
			h("button", { type: "button", onclick: skip }, "Skip"),
		),
		work,
		current,
		h(
			"div",
			{ class: "row" },
			h(
				"button",
				{
					type: "button",
					class: "primary",
					onclick: () => {
						panel.abort();
						next();
					},
				},
				"Continue",
			),
		),
	);
}
