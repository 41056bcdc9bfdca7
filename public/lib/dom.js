/**
 * @module
 * Small DOM helpers: element builder, formatting, live regions, polling.
 */

/**
 * What `h` accepts as children: nodes and text; `null`, `undefined`, `false` and `""` are left out,
 * nested lists are flattened.
 * @typedef {Node | string | null | undefined | false | readonly Child[]} Child
 */

/**
 * `h('button', {class: 'primary', onclick}, 'Save')`: attributes as given, `on*` become listeners,
 * `value`/`checked` are set as properties after the children (a <select> needs its options first).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
	const el = document.createElement(tag);
	/** @type {Record<string, unknown>} */
	const later = {};
	for (const [key, value] of Object.entries(props ?? {})) {
		if (value == null || value === false) continue;
		if (key.startsWith("on")) el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
		else if (key === "value" || key === "checked") later[key] = value;
		else el.setAttribute(key, value === true ? "" : String(value));
	}
	el.append(...flatten(children));
	Object.assign(el, later);
	return el;
}

/**
 * @param {readonly Child[]} children
 * @returns {(Node | string)[]}
 */
function flatten(children) {
	return children.flatMap((child) => {
		if (child == null || child === false || child === "") return [];
		if (Array.isArray(child)) return flatten(child);
		return [child instanceof Node ? child : String(child)];
	});
}

let ids = 0;
/** @param {string} prefix */
export const uid = (prefix) => `${prefix}-${++ids}`;

/** @param {unknown} value */
export const pretty = (value) => JSON.stringify(value, null, 2);

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
/** @param {string | null | undefined} iso */
export const fmtTime = (iso) => (iso ? dateFormat.format(new Date(iso)) : "—");
/** @param {number | null | undefined} ms */
export const fmtMs = (ms) => (ms == null ? "—" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
/** @param {number | null | undefined} n */
export const fmtCount = (n) => (n ?? 0).toLocaleString();
// How long the oldest queued execution has waited: the flow's delivery lag ("—" when nothing waits).
export const fmtLag = (oldestQueuedAt, now = Date.now()) => (oldestQueuedAt == null ? "—" : fmtMs(Math.max(0, now - oldestQueuedAt)));

/** @type {Record<string, string>} */
const STATUS_LABELS = {
	draft: "Draft",
	running: "Running",
	paused: "Paused",
	stopped: "Stopped",
	queued: "Queued",
	retrying: "Retrying",
	succeeded: "Succeeded",
	failed: "Failed",
	filtered: "Filtered",
	skipped: "Skipped",
	retry: "Retry",
};
/** @param {string} status */
const statusLabel = (status) => STATUS_LABELS[status] ?? status;
/** @param {string} status */
export const badge = (status) => h("span", { class: `badge badge-${status}` }, statusLabel(status));
/**
 * The API calls a published flow that was never started "draft"; to its user it is simply not running yet.
 * @param {{ status: string, version: number | null }} flow
 */
export const flowBadge = (flow) =>
	flow.status === "draft" && flow.version != null ? h("span", { class: "badge" }, "Not started") : badge(flow.status);

/** @param {string} message */
export function announce(message) {
	const region = byId("announcer");
	region.textContent = "";
	// A fresh text node after a tick makes screen readers repeat identical messages too.
	setTimeout(() => {
		region.textContent = message;
	}, 50);
}

/**
 * The element with this id, which the page (index.html) always has.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
	const el = document.getElementById(id);
	if (!el) throw new Error(`index.html has no #${id}`);
	return el;
}

/** A role=alert box for errors; show(null) hides it. The API's messages already name every issue. */
export function alertBox() {
	const el = h("div", { class: "alert", role: "alert", hidden: true });
	return {
		el,
		/** @param {unknown} error */
		show(error) {
			el.hidden = !error;
			el.textContent = error ? (error instanceof Error ? error.message : String(error)) : "";
		},
	};
}

/**
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @returns {(...args: A) => void}
 */
export function debounce(fn, ms) {
	/** @type {ReturnType<typeof setTimeout> | undefined} */
	let timer;
	return (...args) => {
		clearTimeout(timer);
		timer = setTimeout(() => fn(...args), ms);
	};
}

/**
 * Runs fn now and every `ms` while the page is visible, until `signal` aborts. Failures go to
 * report(error) and polling goes on; report(null) after a success clears the message.
 * @param {() => Promise<unknown>} fn
 * @param {number} ms
 * @param {AbortSignal} signal
 * @param {(error: unknown) => void} report
 */
export function poll(fn, ms, signal, report) {
	/** @type {ReturnType<typeof setTimeout> | undefined} */
	let timer;
	let busy = false;
	const tick = async () => {
		clearTimeout(timer);
		if (busy || signal.aborted || document.hidden) return;
		busy = true;
		try {
			await fn();
			report(null);
		} catch (error) {
			if (!signal.aborted && !isAbort(error)) report(error);
		} finally {
			busy = false;
		}
		if (!signal.aborted && !document.hidden) timer = setTimeout(tick, ms);
	};
	document.addEventListener("visibilitychange", tick, { signal });
	signal.addEventListener("abort", () => clearTimeout(timer));
	return tick();
}

/** @param {unknown} error */
export const isAbort = (error) => error instanceof Error && error.name === "AbortError";

/** The pending "Copied" reset of each copy button. */
const copiedTimers = new WeakMap();

/**
 * @param {string} text
 * @param {HTMLButtonElement} button
 */
async function copyText(text, button) {
	try {
		await navigator.clipboard.writeText(text);
	} catch {
		// Clipboard API refused (permissions, insecure origin): fall back to a selection copy.
		const area = h("textarea", { class: "visually-hidden", readonly: true, value: text });
		document.body.append(area);
		area.select();
		document.execCommand("copy");
		area.remove();
	}
	clearTimeout(copiedTimers.get(button));
	button.textContent = "Copied";
	announce("Copied to the clipboard.");
	copiedTimers.set(
		button,
		setTimeout(() => {
			button.textContent = "Copy";
		}, 1500),
	);
}

/**
 * A read-only field with its visible label and a Copy button; textarea for multi-line text.
 * @param {string} label
 * @param {string} text
 * @param {{ multiline?: boolean }} [options]
 */
export function copyField(label, text, { multiline = false } = {}) {
	const id = uid("copy");
	const field = multiline
		? h("textarea", { id, class: "code", readonly: true, rows: text.split("\n").length, spellcheck: "false", value: text })
		: h("input", { id, class: "code", readonly: true, value: text });
	const button = h("button", { type: "button", onclick: () => copyText(field.value, button) }, "Copy");
	return h("div", { class: "copy-field" }, h("label", { for: id }, label), h("div", { class: "copy-row" }, field, button));
}

/**
 * Updates table rows in place, keyed by id, so keyboard focus survives the periodic refresh.
 * @template {{ id: string }} T
 * @param {HTMLTableSectionElement} tbody
 * @param {readonly T[]} items
 * @param {(item: T) => HTMLTableRowElement} render
 */
export function syncRows(tbody, items, render) {
	const old = new Map([...tbody.rows].map((row) => [row.dataset.key, row]));
	const rows = items.map((item) => {
		const fresh = render(item);
		fresh.dataset.key = item.id;
		const row = old.get(item.id);
		if (!row || row.cells.length !== fresh.cells.length) return fresh;
		old.delete(item.id);
		for (const [i, cell] of [...fresh.cells].entries()) {
			const current = row.cells[i];
			if (current && !current.isEqualNode(cell)) current.replaceWith(cell);
		}
		return row;
	});
	for (const row of old.values()) row.remove();
	rows.forEach((row, i) => {
		if (tbody.rows[i] !== row) tbody.insertBefore(row, tbody.rows[i] ?? null);
	});
}

/**
 * A <td> that carries its column name, shown as a caption when tables stack on phones.
 * @param {string} label
 * @param {...Child} children
 */
export const td = (label, ...children) => h("td", { "data-label": label }, ...children);
