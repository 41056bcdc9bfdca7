/**
 * @module
 * An execution's message: what the hook made of a request (the body's fields, `_method`, `_url`,
 * `_query`, `_headers`, `_additionalUrlPath`) and what the flow's mappings read. The hook builds
 * it, delivery carries it, the run log keeps it.
 */

export type Message = Record<string, unknown>;

declare module "../db/schema" {
	interface JsonColumns {
		/** executions.input: the message, until retention clears it. */
		input: Message;
	}
}
