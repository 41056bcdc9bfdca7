/**
 * @module
 * Alert targets, global (dashboard) or of one flow (its run log): add, remove, send a test alert,
 * see the last delivery. Events, formats and default thresholds come from GET /api/alert-targets.
 */
import { api } from "../lib/api.js";
import { alertBox, announce, copyField, fmtTime, h, uid } from "../lib/dom.js";

const FORMAT_LABELS = { standardWebhooks: "Standard Webhooks (signed JSON)", slack: "Slack-compatible text (Slack, Discord, Teams)" };
const THRESHOLD_LABELS = { lagSeconds: "Lagging after (seconds)", authFailures: "Auth failures in 5 min above" };

function lastDelivery(delivery) {
	if (!delivery) return "No alert sent yet.";
	const what = delivery.event === "test" ? "Test alert" : `Alert ${delivery.event}`;
	const answer =
		delivery.status == null ? delivery.error : `HTTP ${delivery.status}${delivery.ok ? "" : `: ${delivery.error ?? "refused"}`}`;
	return `${what} ${delivery.ok ? "delivered" : "failed"} ${fmtTime(delivery.at)} (${answer}).`;
}

export function alertTargets(flowId, signal) {
	const alert = alertBox();
	const list = h("ul", { class: "targets", "aria-label": "Alert targets" });
	const empty = h("p", { class: "muted" }, "No targets yet.");
	const created = h("div", { class: "notice ok stack", hidden: true, role: "status" });
	const form = h("form", { class: "card stack", hidden: true, onsubmit: add });
	const open = h("button", { type: "button", onclick: () => toggle(true) }, "Add alert target");
	/** What GET /api/alert-targets serves besides the targets: the events and thresholds a target can choose. @type {{ events: string[], thresholds: Record<string, unknown> } | null} */
	let catalogue = null;

	function toggle(show) {
		form.hidden = !show;
		open.hidden = show;
		if (show) form.querySelector("input")?.focus();
		else open.focus();
	}

	function buildForm({ events, formats, thresholds }) {
		const id = uid("alert");
		const checks = events.map((event) =>
			h("label", null, h("input", { type: "checkbox", name: "events", value: event, checked: true }), h("span", { class: "code" }, event)),
		);
		form.replaceChildren(
			h(
				"div",
				{ class: "field" },
				h("label", { for: `${id}-url` }, "Target URL"),
				h("input", { id: `${id}-url`, name: "url", type: "url", required: true, placeholder: "https://hooks.example.com/…" }),
			),
			h(
				"div",
				{ class: "field" },
				h("label", { for: `${id}-format` }, "Format"),
				h(
					"select",
					{ id: `${id}-format`, name: "format" },
					formats.map((f) => h("option", { value: f }, FORMAT_LABELS[f] ?? f)),
				),
			),
			h("fieldset", { class: "checks" }, h("legend", null, "Events"), checks),
			h(
				"div",
				{ class: "filters" },
				Object.entries(thresholds).map(([key, value]) =>
					h(
						"div",
						{ class: "field" },
						h("label", { for: `${id}-${key}` }, THRESHOLD_LABELS[key] ?? key),
						h("input", { id: `${id}-${key}`, name: key, type: "number", value: String(value) }),
					),
				),
			),
			h(
				"div",
				{ class: "row" },
				h("button", { class: "primary" }, "Add target"),
				h("button", { type: "button", onclick: () => toggle(false) }, "Cancel"),
			),
		);
	}

	const item = (target) =>
		h(
			"li",
			null,
			h(
				"div",
				null,
				h("div", { class: "code" }, target.url),
				h(
					"div",
					{ class: "hint" },
					`${FORMAT_LABELS[target.format] ?? target.format} · ${target.events?.join(", ") ?? "every event"}${target.flowId && !flowId ? ` · flow ${target.flowId}` : ""}`,
				),
				h("div", { class: "hint", "data-last-delivery": "" }, lastDelivery(target.lastDelivery)),
			),
			h(
				"div",
				{ class: "row" },
				h("button", { type: "button", class: "small", onclick: (e) => test(target, e.currentTarget) }, "Send test alert"),
				h("button", { type: "button", class: "small danger", onclick: (e) => remove(target, e.currentTarget) }, "Remove"),
			),
		);

	async function load() {
		const data = await api("/alert-targets", { signal });
		if (!catalogue) {
			catalogue = data;
			buildForm(data);
		}
		// The global list shows targets for every flow; a flow's list shows its own.
		const targets = data.alertTargets.filter((t) => (flowId ? t.flowId === flowId : !t.flowId));
		list.replaceChildren(...targets.map(item));
		empty.hidden = targets.length > 0;
	}

	async function add(event) {
		event.preventDefault();
		alert.show(null);
		// The form exists only once the catalogue came.
		if (!catalogue) return;
		const fields = new FormData(form);
		const body = {
			url: fields.get("url"),
			format: fields.get("format"),
			// All of them: absent, so events added later are included too.
			events: fields.getAll("events").length < catalogue.events.length ? fields.getAll("events") : undefined,
			thresholds: Object.fromEntries(Object.keys(catalogue.thresholds).map((key) => [key, Number(fields.get(key))])),
		};
		if (flowId) body.flowId = flowId;
		try {
			const { alertTarget: target, secret } = await api("/alert-targets", { method: "POST", body, signal });
			form.reset();
			toggle(false);
			created.hidden = false;
			created.replaceChildren(
				h("p", null, `Added ${target.url}.`),
				...(secret
					? [
							h("p", null, "Its signing secret is shown only now: give it to the receiver to verify the webhook-signature header."),
							copyField("Signing secret", secret),
						]
					: []),
			);
			announce("Alert target added.");
			await load();
		} catch (error) {
			alert.show(error);
		}
	}

	async function test(target, button) {
		button.disabled = true;
		alert.show(null);
		try {
			const { delivery } = await api(`/alert-targets/${target.id}/test`, { method: "POST", signal });
			announce(lastDelivery(delivery));
			await load();
		} catch (error) {
			alert.show(error);
		} finally {
			button.disabled = false;
		}
	}

	async function remove(target, button) {
		button.disabled = true;
		try {
			await api(`/alert-targets/${target.id}`, { method: "DELETE", signal });
			created.hidden = true;
			announce("Alert target removed.");
			await load();
			open.focus();
		} catch (error) {
			alert.show(error);
			button.disabled = false;
		}
	}

	const el = h(
		"section",
		{ class: "stack alerts", "aria-labelledby": "alerts-title" },
		h("h2", { id: "alerts-title" }, flowId ? "Alerts for this flow" : "Alerts for every flow"),
		h(
			"p",
			{ class: "muted" },
			"Failures, a growing backlog, many refused requests and the recovery are sent to these URLs, at most one alert per kind and flow every 5 minutes.",
		),
		alert.el,
		created,
		list,
		empty,
		open,
		form,
	);
	return { el, load };
}
