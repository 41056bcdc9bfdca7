/**
 * @module
 * The run-log search form. Its filters are the executions list's query parameters, kept in the
 * page's URL (#/dashboard/<flow>?status=failed&field=petname&value=Gromit) so a view can be shared.
 */
import { h } from "../lib/dom.js";

// Text boxes apply on Search (Enter); drop-downs and dates at once.
/** @type {[key: string, label: string, type: string, placeholder: string][]} */
const TEXT_FILTERS = [
	["id", "Execution or request id", "text", ""],
	["field", "Input field (path)", "text", "petname"],
	["value", "Field value", "text", "Gromit"],
	["text", "Input contains", "search", ""],
	["version", "Version", "number", ""],
];
/** @type {[key: string, label: string][]} */
const DATE_FILTERS = [
	["from", "From"],
	["to", "To"],
];
const FILTER_KEYS = ["status", ...DATE_FILTERS.map(([key]) => key), ...TEXT_FILTERS.map(([key]) => key)];

// datetime-local holds local wall time; the URL and the API hold epoch ms.
const toLocal = (ms) => (ms ? new Date(Number(ms) - new Date(Number(ms)).getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : "");
const fromLocal = (value) => (value ? String(new Date(value).getTime()) : "");

/** `query` the URL's filters; `onSearch(filters)` with the non-empty ones (URLSearchParams). */
export function runLogSearch(query, onSearch) {
	const inputs = {};
	// What the run log shows and a replay acts on: the last search made, not what is being typed.
	let applied = new URLSearchParams([...query].filter(([key]) => FILTER_KEYS.includes(key)));
	const status = h("select", { id: "filter-status", onchange: () => submit() }, h("option", { value: "" }, "All statuses"));
	const field = (key, label, input) => h("div", { class: "field" }, h("label", { for: `filter-${key}` }, label), input);
	const form = h(
		"form",
		{ class: "card filters", role: "search", "aria-label": "Search the run log", onsubmit: (e) => submit(e) },
		field("status", "Status", status),
		DATE_FILTERS.map(([key, label]) => {
			inputs[key] = h("input", { id: `filter-${key}`, type: "datetime-local", value: toLocal(query.get(key)), onchange: () => submit() });
			return field(key, label, inputs[key]);
		}),
		TEXT_FILTERS.map(([key, label, type, placeholder]) => {
			inputs[key] = h("input", { id: `filter-${key}`, type, placeholder, value: query.get(key) ?? "" });
			return field(key, label, inputs[key]);
		}),
		h("div", { class: "row" }, h("button", { class: "primary" }, "Search"), h("button", { type: "button", onclick: clear }, "Clear")),
	);

	function read() {
		const out = new URLSearchParams();
		if (status.value) out.set("status", status.value);
		for (const [key] of DATE_FILTERS) if (inputs[key].value) out.set(key, fromLocal(inputs[key].value));
		for (const [key] of TEXT_FILTERS) if (inputs[key].value.trim()) out.set(key, inputs[key].value.trim());
		return out;
	}

	function submit(event) {
		event?.preventDefault();
		applied = read();
		onSearch(new URLSearchParams(applied));
	}

	function clear() {
		status.value = "";
		for (const input of Object.values(inputs)) input.value = "";
		submit();
	}

	return {
		el: form,
		filters: () => new URLSearchParams(applied),
		/** The statuses the API accepts, from its answer; the URL's choice stays selected. */
		setStatuses(statuses) {
			if (!statuses || status.options.length > 1) return;
			status.append(...statuses.map((s) => h("option", { value: s }, s[0].toUpperCase() + s.slice(1))));
			status.value = applied.get("status") ?? "";
		},
	};
}
