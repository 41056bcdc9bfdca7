/**
 * @module
 * How a component declares an action's settings, once: the catalogue serves these declarations to
 * the designer (which builds its forms from them) and publishing checks steps against them, so a
 * field's label, whether it is required, its options and its kind are written in one place.
 */

/**
 * - `expression`: JSONata over the context (`$` the trigger's message, `$steps.<id>`, `$item`, `$index`, `$execution`)
 * - `template`: text with `{{ JSONata }}` parts; `url` templates percent-encode each part
 * - `templateMap`: an object whose values are templates (headers, query)
 * - `credential`: the id of a credential of `credentialComponent`
 * - `select`: one of `options`
 * - `number`: a whole number within `min`–`max`
 * - `mapping`: an object of the action's `fields`, each a JSONata expression
 * - `steps`: a list of steps run inside this one (split)
 * - `routes`: `[{name, condition, steps}]` (router)
 */
export type SettingKind = "expression" | "template" | "templateMap" | "credential" | "select" | "number" | "mapping" | "steps" | "routes";

export interface ActionSetting {
	name: string;
	label: string;
	required: boolean;
	kind: SettingKind;
	help?: string;
	options?: readonly string[];
	default?: string | number;
	min?: number;
	max?: number;
	/** `credential`: the component whose credentials fit. */
	credentialComponent?: string;
	/** What publishing says when a required setting is missing (default: `<label> is required`). */
	requiredMessage?: string;
	/** `template`: a URL (each part percent-encoded) or plain text. */
	templateOf?: "url" | "text";
}

/** A field of an action's `mapping`: a JSONata expression whose value becomes that field. */
export interface MappingField {
	name: string;
	label: string;
	required: boolean;
	options?: readonly string[];
	help?: string;
}

export interface ActionDeclaration {
	id: string;
	title: string;
	description?: string;
	/** `call`: an outgoing HTTP call (retried, rate limited, idempotency key); `logic`: evaluated in place. */
	runs: "call" | "logic";
	/** The step's settings besides id, name, note and retryPolicy. */
	settings: readonly ActionSetting[];
	/** The fields of `mapping`, when the action has a `mapping` setting. */
	fields: readonly MappingField[];
	/** What `$steps.<id>` holds after the step ran. */
	output: string;
}

export interface ActionComponentDeclaration {
	id: string;
	kind: "action";
	title: string;
	description: string;
	actions: readonly ActionDeclaration[];
}

export const CALL_OUTPUT = "{status, headers, body}: body parsed as JSON when the answer says it is JSON, else text";
