/**
 * @module
 * The flow's Delivery settings: ordering (flow, key, none), the key expression with a live preview
 * on the trigger sample, concurrency and the destination rate limit. Orderings, limits and
 * defaults come from GET /api/flow-settings; the API validates, this form only shows its answer.
 */
import { api } from "../../lib/api.js";
import { alertBox, debounce, h, isAbort } from "../../lib/dom.js";

export function deliverySection({ draft, settings, signal, save }) {
	const limits = settings.delivery;
	const current = draft.delivery ?? {};
	// What the form holds; a key or concurrency typed for one ordering survives switching to another.
	const state = {
		ordering: current.ordering ?? limits.defaultOrdering,
		key: current.key ?? "",
		concurrency: current.concurrency ?? limits.concurrency.default,
		limited: !!current.rateLimit,
		requests: current.rateLimit?.requests ?? limits.rateLimit.suggested.requests,
		perSeconds: current.rateLimit?.perSeconds ?? limits.rateLimit.suggested.perSeconds,
	};
	const alert = alertBox();

	const keyInput = h("input", {
		id: "delivery-key",
		class: "code",
		autocomplete: "off",
		spellcheck: "false",
		placeholder: 'petname or _headers."x-shop-id"',
		value: state.key,
	});
	const keyPreview = h("p", { id: "delivery-key-preview", class: "hint", "aria-live": "polite" });
	const keyField = h(
		"div",
		{ class: "field" },
		h("label", { for: keyInput.id }, "Key (JSONata over the message)"),
		keyInput,
		keyPreview,
		h(
			"p",
			{ class: "hint" },
			"Executions with the same key are delivered one at a time, in the order their hooks were accepted. " +
				"A key that fails or is empty puts the execution in the one “no key” lane.",
		),
	);
	const { min, max } = limits.concurrency;
	const concurrencyInput = h("input", { id: "delivery-concurrency", type: "number", min, max, step: 1, value: state.concurrency });
	const concurrencyField = h(
		"div",
		{ class: "field" },
		h("label", { for: concurrencyInput.id }, "Concurrency"),
		concurrencyInput,
		h("p", { class: "hint" }, `Executions delivered at the same time, ${min} to ${max} (default ${limits.concurrency.default}).`),
	);
	const rate = limits.rateLimit;
	const limitedBox = h("input", { id: "delivery-rate-on", type: "checkbox", checked: state.limited });
	const requestsInput = h("input", {
		id: "delivery-rate-requests",
		type: "number",
		min: rate.requests.min,
		max: rate.requests.max,
		value: state.requests,
	});
	const perSecondsInput = h("input", {
		id: "delivery-rate-seconds",
		type: "number",
		min: rate.perSeconds.min,
		max: rate.perSeconds.max,
		value: state.perSeconds,
	});
	const rateFields = h(
		"div",
		{ class: "row wrap" },
		h("div", { class: "field" }, h("label", { for: requestsInput.id }, "Calls"), requestsInput),
		h("div", { class: "field" }, h("label", { for: perSecondsInput.id }, "Per seconds"), perSecondsInput),
	);

	function toDelivery() {
		const delivery = { ordering: state.ordering };
		if (state.ordering === "key" && state.key.trim()) delivery.key = state.key.trim();
		if (state.ordering !== "flow") delivery.concurrency = state.concurrency;
		if (state.limited) delivery.rateLimit = { requests: state.requests, perSeconds: state.perSeconds };
		return delivery;
	}

	function render() {
		keyField.hidden = state.ordering !== "key";
		concurrencyField.hidden = state.ordering === "flow";
		rateFields.hidden = !state.limited;
	}

	let previewSeq = 0;
	const previewKey = debounce(async () => {
		const seq = ++previewSeq;
		if (state.ordering !== "key") return;
		if (!draft.trigger?.sample) {
			keyPreview.textContent = "Add a trigger sample to see the key it gets.";
			return;
		}
		try {
			const { key, error } = await api("/mappings/delivery-key", {
				method: "POST",
				body: { sample: draft.trigger.sample, key: state.key },
				signal,
			});
			if (seq !== previewSeq) return;
			keyPreview.textContent =
				key === null
					? `The sample has no key${error ? ` (${error})` : ""}: it would go to the “no key” lane.`
					: `Key of the sample: ${key}`;
		} catch (error) {
			if (!isAbort(error)) alert.show(error);
		}
	}, 300);

	const persist = debounce(() => {
		draft.delivery = toDelivery();
		save().then(
			() => alert.show(null),
			(error) => alert.show(error),
		);
	}, 500);

	const changed = () => {
		render();
		previewKey();
		persist();
	};
	const number = (input) => (input.value === "" ? Number.NaN : Number(input.value));
	keyInput.addEventListener("input", () => {
		state.key = keyInput.value;
		changed();
	});
	concurrencyInput.addEventListener("input", () => {
		state.concurrency = number(concurrencyInput);
		changed();
	});
	limitedBox.addEventListener("change", () => {
		state.limited = limitedBox.checked;
		changed();
	});
	requestsInput.addEventListener("input", () => {
		state.requests = number(requestsInput);
		changed();
	});
	perSecondsInput.addEventListener("input", () => {
		state.perSeconds = number(perSecondsInput);
		changed();
	});

	const orderings = h(
		"fieldset",
		{ class: "choices" },
		h("legend", null, "Ordering"),
		limits.orderings.map((o) => {
			const id = `delivery-ordering-${o.id}`;
			return h(
				"div",
				{ class: "choice" },
				h("input", {
					type: "radio",
					name: "delivery-ordering",
					id,
					value: o.id,
					checked: o.id === state.ordering,
					onchange: () => {
						state.ordering = o.id;
						changed();
					},
				}),
				h(
					"label",
					{ for: id },
					h("span", null, o.title),
					h("span", { class: "muted" }, o.guarantees),
					h("span", { class: "muted" }, `Cost: ${o.costs}`),
				),
			);
		}),
	);

	render();
	previewKey();
	return h(
		"section",
		{ class: "card stack delivery", "aria-labelledby": "delivery-title" },
		h("h2", { id: "delivery-title" }, "Delivery"),
		h("p", { class: "muted" }, "How executions reach their destinations. Saved with the draft; Publish Draft makes them live."),
		orderings,
		h(
			"p",
			{ class: "hint" },
			`Order is the order the hooks were accepted: an ordered execution waits ${limits.reorderWindowMs} ms for earlier ones still on their way. ` +
				`Key and no order spread over up to ${limits.maxShards} flow objects.`,
		),
		keyField,
		concurrencyField,
		h(
			"div",
			{ class: "field" },
			h("div", { class: "row" }, limitedBox, h("label", { for: limitedBox.id }, "Destination rate limit: limit the calls this flow makes")),
			h(
				"p",
				{ class: "hint" },
				"Held across the flow's parallel deliveries. Not the hook rate limit, which bounds requests to the hook URL.",
			),
			rateFields,
		),
		alert.el,
	);
}
