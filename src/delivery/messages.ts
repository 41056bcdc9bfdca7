/**
 * @module
 * The queue message for one accepted hook request, validated again where it is consumed.
 */
import * as z from "zod";
import type { Message } from "../flows/message";

export const executionIdSchema = z.string().regex(/^[0-9a-f]{32}$/, "Execution ids are 32 lowercase hex characters");

export const executionMessageSchema = z.object({
	id: executionIdSchema,
	flowId: z.string().min(1),
	version: z.number().int().min(1),
	receivedAt: z.number().int(),
	/** The id is the sender's x-request-id, which another flow may have used too. */
	idFromSender: z.literal(true).optional(),
	/** SHA-256 (hex) of what the request carried, with a sender's own id: the same id with another body is another execution. */
	contentHash: z
		.string()
		.regex(/^[0-9a-f]{64}$/)
		.optional(),
	/** Absent when the payload was too large for a queue message and is staged in the flow object. */
	message: z.record(z.string(), z.unknown()).optional(),
});

export type ExecutionMessage = z.infer<typeof executionMessageSchema>;

/** What the flow object stores: the message resolved, staged or not. */
export interface AcceptedExecution {
	id: string;
	version: number;
	receivedAt: number;
	message: Message;
}
