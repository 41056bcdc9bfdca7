/**
 * @module
 * Hookflow designer: hash routes, one view at a time; a view's async work stops with its signal.
 */
import { takeTokenFromUrl } from "./lib/api.js";
import { alertBox, byId, isAbort } from "./lib/dom.js";
import { apiReferenceView } from "./views/api-reference.js";
import { dashboardView } from "./views/dashboard.js";
import { executionView } from "./views/execution.js";
import { designerView } from "./views/flow/designer.js";
import { flowsView } from "./views/flows.js";
import { runLogView } from "./views/run-log.js";

/**
 * What a view gets: its signal (aborted when the page changes), the route's captures and the query after "?".
 * @typedef {{ signal: AbortSignal, params: string[], query: URLSearchParams }} ViewContext
 * @typedef {(main: HTMLElement, context: ViewContext) => Promise<void>} View
 */

/** @type {[RegExp, View, string][]} */
const routes = [
	[/^#\/flows$/, flowsView, "flows"],
	[/^#\/flows\/([\w-]+)$/, designerView, "flows"],
	[/^#\/dashboard$/, dashboardView, "dashboard"],
	[/^#\/dashboard\/([\w-]+)$/, runLogView, "dashboard"],
	[/^#\/executions\/([\w-]+)$/, executionView, "dashboard"],
	[/^#\/api$/, apiReferenceView, "api"],
];

const main = byId("main");
/** @type {AbortController | undefined} */
let current;

async function route() {
	// A view's filters travel after "?" in the hash, so a filtered view can be shared as a link.
	const [path, ...search] = location.hash.split("?");
	const found = routes.map(([re, view, nav]) => /** @type {const} */ ([re.exec(path ?? ""), view, nav])).find(([m]) => m);
	if (!found) return location.replace("#/flows");
	const [params, view, nav] = found;
	current?.abort();
	current = new AbortController();
	const { signal } = current;
	for (const link of document.querySelectorAll(/** @type {"a"} */ ("[data-nav]"))) {
		if (link.dataset.nav === nav) link.setAttribute("aria-current", "page");
		else link.removeAttribute("aria-current");
	}
	main.replaceChildren();
	try {
		await view(main, { signal, params: params?.slice(1) ?? [], query: new URLSearchParams(search.join("?")) });
	} catch (error) {
		if (isAbort(error) || signal.aborted) return;
		const alert = alertBox();
		alert.show(error);
		main.append(alert.el);
	}
	// Move focus to the new page's heading so keyboard and screen-reader users start there.
	if (!signal.aborted && document.activeElement === document.body) main.querySelector("h1")?.focus();
}

// The skip link must not change the hash: that is the router's.
byId("skip").addEventListener("click", (event) => {
	event.preventDefault();
	main.focus();
});

takeTokenFromUrl();
addEventListener("hashchange", route);
route();
