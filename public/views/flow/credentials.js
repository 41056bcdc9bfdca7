/**
 * @module
 * Credentials stage: pick an existing credential or create one (the catalogue's fields: webhook and
 * HTTP auth types, the Petstore key), or change one in the same form: its name, base URL, key or auth
 * (a changed setting needs the secret again; secrets are write-only, never shown).
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
	const formTitle = h("h3", { id: `${prefix}-form-title`, tabindex: -1 }, "New credentials");
	const secretHint = h("p", { class: "hint", id: `${prefix}-secret-hint`, "aria-live": "polite" });
	/** The credential being changed in this form (creating when null). @type {CredentialView | null} */
	let editing = null;
	const form = h(
		"form",
		{ class: "card stack", hidden: true, onsubmit: submit, oninput: () => showSecretNeed(), "aria-labelledby": formTitle.id },
		formTitle,
		h("div", { class: "field" }, h("label", { for: nameInput.id }, "Credential name"), nameInput),
		fields,
		typeSelect && h("div", { class: "field" }, h("label", { for: typeSelect.id }, "Authentication type"), typeSelect, typeAbout),
		authFields,
		secretHint,
		formAlert.el,
		progress,
		h("div", { class: "row" }, save, h("button", { type: "button", onclick: () => openForm(false) }, "Cancel")),
	);
	const create = h("button", { type: "button", onclick: () => openForm(true) }, "Create new credentials");

	/** A form's named inputs: the credential's own (base URL, a Petstore key) or its auth's. @param {HTMLElement} box */
	const inputs = (box) => [...box.querySelectorAll(/** @type {"input"} */ ("[name]"))];
	const secrets = () => [...inputs(fields), ...inputs(authFields)].filter((el) => el.type === "password");
	/** A setting as stored in the credential's details (an API key's name is kept as keyName). @param {string} name */
	const stored = (name) => {
		const d = editing?.details ?? {};
		return String(d[name] ?? (name === "name" ? (d.keyName ?? "") : ""));
	};
	/** While changing, the first setting changed from the stored one: a change needs the secret again. */
	function changedSetting() {
		if (!editing) return null;
		if (typeSelect && typeSelect.value !== editing.type) return typeSelect;
		return [...inputs(fields), ...inputs(authFields)].find((el) => el.type !== "password" && el.value.trim() !== stored(el.name));
	}
	/** @param {HTMLElement} el */
	const labelOf = (el) => /** @type {HTMLInputElement} */ (el).labels?.[0]?.firstChild?.textContent ?? "";
	/** Secrets are write-only: while changing, asked for only when a setting changed. */
	function showSecretNeed() {
		const changed = changedSetting();
		const asked = secrets();
		const names = asked.map(labelOf).join(", ");
		if (editing)
			for (const el of asked) {
				el.required = !!changed;
				el.setAttribute("aria-describedby", secretHint.id);
			}
		secretHint.textContent =
			!editing || !names
				? ""
				: changed
					? `Required: a new ${labelOf(changed)} needs the ${names} again, so the stored secret is never sent to an address you did not confirm with it.`
					: `Secrets are never shown. Leave the ${names} empty to keep the stored one.`;
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
		// Changing: the stored settings (never the secrets) fill the fields of the stored type.
		if (editing && type?.type === editing.type)
			for (const el of inputs(authFields)) if (el.type !== "password" && stored(el.name)) el.value = stored(el.name);
		showSecretNeed();
	}

	/** @param {boolean} open @param {CredentialView | null} [credential] the credential to change */
	function openForm(open, credential = null) {
		editing = open ? credential : null;
		form.hidden = !open;
		create.hidden = open;
		formAlert.show(null);
		formTitle.textContent = editing ? `Change “${editing.name}”` : "New credentials";
		save.textContent = editing ? "Save changes" : "Save";
		if (open) {
			nameInput.value = editing ? editing.name : `My ${isWebhook ? "webhook" : component.title} credentials`;
			if (editing && typeSelect) typeSelect.value = editing.type;
			showFields(true);
			for (const el of inputs(fields)) if (editing) el.value = stored(el.name);
			showSecretNeed();
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
								isWebhook
									? null
									: h("button", { type: "button", onclick: () => openForm(true, c), "aria-label": `Change ${c.name}` }, "Change…"),
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

	/** A change sends the name, the settings changed, a secret typed, and an HTTP auth again when any of these changed. */
	function changes() {
		/** @type {Record<string, unknown>} */
		const body = { name: nameInput.value.trim() };
		for (const el of inputs(fields))
			if (el.type === "password" ? el.value : el.value.trim() !== stored(el.name)) body[el.name] = el.value.trim();
		const resent = changedSetting() || secrets().some((el) => el.value);
		return typeSelect && resent ? { ...body, auth: { type: typeSelect.value, ...values(authFields) } } : body;
	}

	/** Saves the change; the choice stays as it was. @param {CredentialView} current */
	async function saveChanges(current) {
		/** @type {{ credential: CredentialView }} */
		const { credential } = await api(`/credentials/${current.id}`, { method: "PATCH", body: changes(), signal });
		const chosen = list.querySelector(/** @type {"input"} */ ("input:checked"))?.value;
		openForm(false);
		await load(chosen);
		announce(`Saved changes to “${credential.name}”.`);
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
			if (editing) return await saveChanges(editing);
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
		h("div", { class: "row" }, create),
		form,
		h("div", { class: "row" }, next),
	);
	return { el, ready: load(selectedId) };
}
