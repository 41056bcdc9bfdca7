/**
 * @module
 * The admin token and the one fetch wrapper every view uses.
 */
import { byId } from "./dom.js";

const KEY = "hookflow-token";

/** An admin API error: the status and the API's own message (`{"error":{"message"}}`). */
export class ApiError extends Error {
	/**
	 * @param {number} status
	 * @param {{ message?: string, issues?: { path: string, message: string }[] } | undefined} error
	 */
	constructor(status, error) {
		super(error?.message ?? `The server answered ${status}.`);
		this.status = status;
		/** One per problem, each with its path in the request (`steps.2.url`). */
		this.issues = error?.issues ?? [];
	}
}

/**
 * `npm start` prints /#token=…; the fragment never reaches the server, and we drop it from the
 * address bar so it does not linger in history, bookmarks or screen shares.
 */
export function takeTokenFromUrl() {
	const token = /^#token=([^&]+)/.exec(location.hash)?.[1];
	if (!token) return;
	sessionStorage.setItem(KEY, decodeURIComponent(token));
	history.replaceState(null, "", `${location.pathname}${location.search}#/flows`);
}

const dialog = /** @type {HTMLDialogElement} */ (byId("sign-in"));
const tokenInput = /** @type {HTMLInputElement} */ (byId("sign-in-token"));
/** One pending sign-in at a time, shared by every request that needs the token. @type {Promise<void> | null} */
let asking = null;
/** @type {(() => void) | null} */
let resolveAsking = null;

byId("sign-in-form").addEventListener("submit", (event) => {
	event.preventDefault();
	sessionStorage.setItem(KEY, tokenInput.value.trim());
	const resolve = resolveAsking;
	asking = null;
	resolveAsking = null;
	dialog.close();
	resolve?.();
});
// Without a token nothing works: Escape must not dismiss the dialog, and if the browser closes
// it anyway (a repeated Escape), it comes back.
dialog.addEventListener("cancel", (event) => event.preventDefault());
dialog.addEventListener("close", () => {
	if (asking) dialog.showModal();
});

/** @param {string} [reason] */
function askToken(reason) {
	asking ??= new Promise((resolve) => {
		resolveAsking = resolve;
		if (reason) byId("sign-in-reason").textContent = reason;
		tokenInput.value = "";
		dialog.showModal();
		tokenInput.focus();
	});
	return asking;
}

/**
 * Calls `/api{path}` with the admin token, asking for the token when there is none or it was
 * refused. Resolves with the JSON answer (null for 204); rejects with an ApiError otherwise.
 * The answer's type is the caller's to state (`@type` on the result), from the API's own types.
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, { method = "GET", body, signal } = {}) {
	for (;;) {
		let token = sessionStorage.getItem(KEY);
		if (!token) {
			await askToken();
			token = sessionStorage.getItem(KEY);
		}
		/** @type {Record<string, string>} */
		const headers = { authorization: `Bearer ${token}` };
		if (body !== undefined) headers["content-type"] = "application/json";
		const res = await fetch(`/api${path}`, {
			method,
			headers,
			signal,
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		if (res.status === 401) {
			// Only forget the token this request used: another request may already carry a new one.
			if (sessionStorage.getItem(KEY) === token) sessionStorage.removeItem(KEY);
			await askToken("The admin token was refused. Enter it again.");
			continue;
		}
		if (res.status === 204) return null;
		const data = await res.json().catch(() => null);
		if (!res.ok) throw new ApiError(res.status, data?.error);
		return data;
	}
}
