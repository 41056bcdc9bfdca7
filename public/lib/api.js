// The admin token and the one fetch wrapper every view uses.
const KEY = "hookflow-token";

class ApiError extends Error {
	constructor(status, error) {
		super(error?.message ?? `The server answered ${status}.`);
		this.status = status;
	}
}

// `npm start` prints /#token=…; the fragment never reaches the server, and we drop it from the
// address bar so it does not linger in history, bookmarks or screen shares.
export function takeTokenFromUrl() {
	const match = /^#token=([^&]+)/.exec(location.hash);
	if (!match) return;
	sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
	history.replaceState(null, "", `${location.pathname}${location.search}#/flows`);
}

const dialog = document.getElementById("sign-in");
const tokenInput = document.getElementById("sign-in-token");
// One pending sign-in at a time, shared by every request that needs the token.
let asking = null;
let resolveAsking = null;

document.getElementById("sign-in-form").addEventListener("submit", (event) => {
	event.preventDefault();
	sessionStorage.setItem(KEY, tokenInput.value.trim());
	const resolve = resolveAsking;
	asking = null;
	resolveAsking = null;
	dialog.close();
	resolve();
});
// Without a token nothing works: Escape must not dismiss the dialog, and if the browser closes
// it anyway (a repeated Escape), it comes back.
dialog.addEventListener("cancel", (event) => event.preventDefault());
dialog.addEventListener("close", () => {
	if (asking) dialog.showModal();
});

function askToken(reason) {
	asking ??= new Promise((resolve) => {
		resolveAsking = resolve;
		if (reason) document.getElementById("sign-in-reason").textContent = reason;
		tokenInput.value = "";
		dialog.showModal();
		tokenInput.focus();
	});
	return asking;
}

export async function api(path, { method = "GET", body, signal } = {}) {
	for (;;) {
		let token = sessionStorage.getItem(KEY);
		if (!token) {
			await askToken();
			token = sessionStorage.getItem(KEY);
		}
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
