/**
 * @module
 * Credentials stage: pick an existing credential or create one (the catalogue's fields: webhook and
 * HTTP auth types, the Petstore key), or change a Petstore credential's base URL or key (a new base
 * URL needs the key again).
 */
import { ApiError, api } from "../../lib/api.js";
import { alertBox, announce, h, isAbort } from "../../lib/dom.js";

/** @typedef {import("../../../src/api/responses.ts").CredentialView} CredentialView */

/**
 * A refused save names the reason (422: the Petstore refused the key); anything else as it is.
 * @param {unknown} error
 */
const refusal = (error) => (error instanceof ApiError && error.status === 422 ? `Not saved: ${error.message}` : error);

/**
 * @param {CredentialView} credential
 * @param {{ type: string, title: string }[]} types
 */
function describe(credential, types) {
	const d = credential.details ?? {};
	const type =
		types.find((t) => t.type === credential.type)?.title ?? (credential.type === "petstore" ? "Petstore API key" : credential.type);
	const extra = d.username ?? d.headerName ?? d.baseUrl ?? d.notificationUrl;
	return extra ? `${type} · ${extra}` : type;
}

// One input per catalogue field: a select for options, a password box for secrets.
function fieldInput(prefix, field) {
	const id = `${prefix}-${field.name}`;
	const input = field.options
		? h(
				"select",
				{ id, name: field.name, required: field.required, value: field.default ?? field.options[0] },
				field.options.map((o) => h("option", { value: o }, o)),
			)
		: h("input", {
				id,
				name: field.name,
				type: field.secret ? "password" : field.inputType === "number" ? "number" : "text",
				autocomplete: field.secret ? "new-password" : "off",
				required: field.required,
				value: field.default ?? "",
			});
	if (field.help) input.setAttribute("aria-describedby", `${id}-help`);
	if (field.default !== undefined) input.dataset.default = String(field.default);
	return h(
		"div",
		{ class: "field" },
		h("label", { for: id }, field.label ?? field.name, field.required ? "" : h("span", { class: "optional" }, " (optional)")),
		input,
		field.help ? h("p", { class: "hint", id: `${id}-help` }, field.help) : null,
	);
}

export function credentialsStage({ component, selectedId, optional = "", signal, onSelect, onContinue }) {
	const isWebhook = component.id === "webhook";
	const types = component.credentialTypes ?? [];
	const typed = types.length > 0;
	const alert = alertBox();
	const list = h("div", { class: "stack" });
	const next = h("button", { type: "button", class: "primary", disabled: !selectedId && !optional, onclick: onContinue }, "Continue");
	const prefix = `cred-${component.id}`;
	const nameInput = h("input", { id: `${prefix}-name`, required: true, autocomplete: "off" });
	// Grouped as the catalogue says (Generic, then Providers by name).
	const option = (t) => h("option", { value: t.type }, t.title);
	const typeSelect = typed
		? h(
				"select",
				{ id: `${prefix}-type`, onchange: () => showFields(), "aria-describedby": `${prefix}-type-about` },
				component.credentialGroups
					? component.credentialGroups.map((group) =>
							h("optgroup", { label: group.title }, types.filter((t) => t.group === group.id).map(option)),
						)
					: types.map(option),
			)
		: null;
	const typeAbout = h("div", { id: `${prefix}-type-about`, class: "type-about stack", "aria-live": "polite" });
	const fields = h("div", { class: "stack" });
	const authFields = h("div", { class: "stack" });
	const formAlert = alertBox();
	const progress = h("div", { class: "progress", hidden: true });
	const save = h("button", { class: "primary" }, "Save");
	const form = h(
		"form",
		{ class: "card stack", hidden: true, onsubmit: submit, "aria-labelledby": `${prefix}-form-title` },
		h("h3", { id: `${prefix}-form-title`, tabindex: -1 }, "New credentials"),
		h("div", { class: "field" }, h("label", { for: nameInput.id }, "Credential name"), nameInput),
		fields,
		typeSelect && h("div", { class: "field" }, h("label", { for: typeSelect.id }, "Authentication type"), typeSelect, typeAbout),
		authFields,
		formAlert.el,
		progress,
		h("div", { class: "row" }, save, h("button", { type: "button", onclick: () => openForm(false) }, "Cancel")),
	);
	const create = h("button", { type: "button", onclick: () => openForm(true) }, "Create new credentials");
	const edit = isWebhook ? null : editForm();

	// Which field a change of another one requires again (catalogue: baseUrl.changeRequires = "apiKey").
	function editForm() {
		const defs = component.credentialFields ?? [];
		const urlField = defs.find((f) => f.changeRequires);
		const keyField = defs.find((f) => f.name === urlField?.changeRequires);
		if (!urlField || !keyField) return null;
		const url = h("input", { id: `${prefix}-edit-${urlField.name}`, autocomplete: "off" });
		const key = h("input", { id: `${prefix}-edit-${keyField.name}`, type: "password", autocomplete: "new-password" });
		const keyHint = h("p", { class: "hint" });
		const editAlert = alertBox();
		/** @type {CredentialView | null} */
		let editing = null;
		const keyNeeded = () => url.value.trim() !== (editing?.details?.baseUrl ?? "");
		const showNeed = () => {
			key.required = keyNeeded();
			keyHint.textContent = key.required
				? `Required: a new ${urlField.label} needs the ${keyField.label} again, so the stored key is never sent to an address you did not confirm with it.`
				: `Leave empty to keep the stored ${keyField.label}.`;
		};
		url.addEventListener("input", showNeed);
		const title = h("h3", { id: `${prefix}-edit-title`, tabindex: -1 });
		// In the page only while open, so its fields never share a label with the create form's.
		const slot = h("div");
		const close = () => slot.replaceChildren();
		const form = h(
			"form",
			{ class: "card stack", "aria-labelledby": title.id, onsubmit: submitEdit },
			title,
			h("div", { class: "field" }, h("label", { for: url.id }, urlField.label), url, h("p", { class: "hint" }, urlField.hint ?? "")),
			h("div", { class: "field" }, h("label", { for: key.id }, keyField.label), key, keyHint),
			editAlert.el,
			h(
				"div",
				{ class: "row" },
				h("button", { class: "primary" }, "Save changes"),
				h(
					"button",
					{
						type: "button",
						onclick: () => close(),
					},
					"Cancel",
				),
			),
		);
		async function submitEdit(event) {
			event.preventDefault();
			editAlert.show(null);
			const body = {};
			if (keyNeeded()) body[urlField.name] = url.value.trim();
			if (key.value.trim()) body[keyField.name] = key.value.trim();
			if (!Object.keys(body).length || !editing) return close();
			const { id, name } = editing;
			try {
				await api(`/credentials/${id}`, { method: "PATCH", body, signal });
				close();
				announce(`Saved changes to “${name}”.`);
				await load(id);
			} catch (error) {
				if (!isAbort(error)) editAlert.show(refusal(error));
			}
		}
		return {
			el: slot,
			open(credential) {
				editing = credential;
				title.textContent = `Change “${credential.name}”`;
				url.value = credential.details?.baseUrl ?? "";
				key.value = "";
				showNeed();
				editAlert.show(null);
				slot.replaceChildren(form);
				title.focus();
			},
		};
	}

	// Where the provider keeps the secret, and what it sends, from the catalogue.
	function showAbout(type) {
		const facts = [
			type?.secretLocation && ["Where to find the secret", type.secretLocation],
			type?.header && ["Header it sends", type.header],
			type?.signed && ["What is signed", type.signed],
			type?.toleranceSeconds && ["Timestamp tolerance", `±${type.toleranceSeconds} s`],
			type?.handshake && ["Handshake", `answered here (${type.handshake})`],
			type?.methods && ["Methods", `${type.methods.join(", ")}: ${type.methodsHint}`],
		].filter(Boolean);
		typeAbout.replaceChildren(
			...(facts.length
				? [
						h(
							"dl",
							{ class: "facts" },
							facts.flatMap(([term, text]) => [h("dt", null, term), h("dd", null, text)]),
						),
					]
				: []),
		);
	}

	// A new type changes only its own fields: what was typed in the others stays.
	function showFields(all = false) {
		const type = typeSelect ? types.find((t) => t.type === typeSelect.value) : null;
		if (isWebhook) showAbout(type);
		if (all) fields.replaceChildren(...(component.credentialFields ?? []).map((f) => fieldInput(prefix, f)));
		authFields.replaceChildren(...(type?.fields ?? []).map((f) => fieldInput(`${prefix}-auth`, f)));
		if (isWebhook && !type?.fields.length)
			authFields.append(h("p", { class: "muted" }, "Anyone who knows the hook URL can call it; the URL is the secret."));
	}

	function openForm(open) {
		form.hidden = !open;
		create.hidden = open;
		formAlert.show(null);
		if (open) {
			nameInput.value = `My ${isWebhook ? "webhook" : component.title} credentials`;
			showFields(true);
			nameInput.focus();
			nameInput.select();
		} else create.focus();
	}

	async function load(selected) {
		/** @type {{ credentials: CredentialView[] }} */
		const { credentials } = await api(`/credentials?component=${component.id}`, { signal });
		list.replaceChildren(
			credentials.length
				? h(
						"fieldset",
						{ class: "choices" },
						h("legend", null, "Existing credentials"),
						credentials.map((c) => {
							const id = `${prefix}-${c.id}`;
							return h(
								"div",
								{ class: "choice" },
								h("input", { type: "radio", name: prefix, id, value: c.id, checked: c.id === selected, onchange: () => choose(c.id) }),
								h("label", { for: id }, h("span", null, c.name), h("span", { class: "muted" }, describe(c, types))),
								edit ? h("button", { type: "button", onclick: () => edit.open(c), "aria-label": `Change ${c.name}` }, "Change…") : null,
							);
						}),
					)
				: h("p", { class: "muted" }, "No credentials yet. Create new credentials to continue."),
		);
	}

	async function choose(id) {
		alert.show(null);
		try {
			await onSelect(id);
			next.disabled = false;
		} catch (error) {
			alert.show(error);
		}
	}

	/** @param {HTMLElement} box */
	function values(box) {
		const out = {};
		for (const el of box.querySelectorAll(/** @type {"input"} */ ("[name]"))) {
			const value = el.value.trim();
			// An optional field left at its default is left out: the server applies the same default.
			if (!value || (!el.required && value === String(el.dataset.default ?? ""))) continue;
			out[el.name] = el.type === "number" ? Number(value) : value;
		}
		return out;
	}

	function payload() {
		const body = { component: component.id, name: nameInput.value.trim(), ...values(fields) };
		return typeSelect ? { ...body, auth: { type: typeSelect.value, ...values(authFields) } } : body;
	}

	async function submit(event) {
		event.preventDefault();
		formAlert.show(null);
		save.disabled = true;
		// The Petstore check may take up to the server's key-check timeout (the catalogue serves it),
		// so show time passing rather than a frozen form.
		const limit = component.verifyTimeoutSeconds;
		const started = Date.now();
		const tick = () => {
			const seconds = Math.round((Date.now() - started) / 1000);
			progress.replaceChildren(
				h("progress", { max: limit, value: Math.min(seconds, limit), "aria-label": "Verification progress" }),
				h("span", null, `Verifying the API key with the Petstore… ${seconds} s (at most ${limit} s)`),
			);
		};
		const timer = limit ? setInterval(tick, 1000) : undefined;
		if (timer) {
			tick();
			progress.hidden = false;
			// Announced once; the visible counter would be too chatty as a live region.
			announce(`Verifying the API key with the Petstore; this takes at most ${limit} seconds.`);
		}
		try {
			/** @type {{ credential: CredentialView }} */
			const { credential } = await api("/credentials", { method: "POST", body: payload(), signal });
			form.hidden = true;
			create.hidden = false;
			await load(credential.id);
			await choose(credential.id);
			announce(`Saved credentials “${credential.name}”.`);
			list.querySelector(/** @type {"input"} */ ("input:checked"))?.focus();
		} catch (error) {
			if (isAbort(error)) return;
			formAlert.show(refusal(error));
		} finally {
			clearInterval(timer);
			progress.hidden = true;
			save.disabled = false;
		}
	}

	const el = h(
		"div",
		{ class: "stack" },
		h("h2", { tabindex: -1 }, `Credentials for ${component.title}`),
		optional ? h("p", { class: "muted" }, optional) : null,
		alert.el,
		list,
		edit?.el,
		h("div", { class: "row" }, create),
		form,
		h("div", { class: "row" }, next),
	);
	return { el, ready: load(selectedId) };
}
