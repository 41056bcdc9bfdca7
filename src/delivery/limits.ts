/**
 * @module
 * Size limits of what the hook hands on, apart from the zod schemas so the hook path loads no zod.
 */

/** Queue messages are limited to 128 KB; leave room for the envelope. */
export const MAX_INLINE_MESSAGE_BYTES = 120_000;

/** Durable Object and D1 rows are limited to 2 MB; leave room for the rest of the row. */
export const MAX_STORED_MESSAGE_BYTES = 1_900_000;
