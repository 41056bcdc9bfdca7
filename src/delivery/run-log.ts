/**
 * @module
 * The run log in D1 is written by the flow object through an outbox: each state change stores
 * its run-log record in the object's own SQLite in the same transaction, and the records are
 * then copied to D1 in one batch. A D1 outage delays the run log; it never loses an outcome or
 * re-runs an action.
 *
 * The same batch keeps the per-minute stats, the flow totals and the failure events that alerts
 * read (src/db/queries/stats.ts): derived from these records, so the numbers move when the run
 * log does and never by scanning executions.
 */
import { sql } from "drizzle-orm";
import type { ActionRequest, ActionResponse } from "../components/types";
import { getDb } from "../db/client";
import { statsStatements } from "../db/queries/stats";
import { attempts, type ExecutionStatus, executions } from "../db/schema";
import type { Message } from "../flows/message";
import type { ExecutionState, StepRun } from "../flows/step-machine";

export interface ExecutionRecord {
	type: "execution";
	id: string;
	flowId: string;
	version: number;
	receivedAt: number;
	status: ExecutionStatus;
	input?: Message | null;
	request?: ActionRequest | null;
	response?: ActionResponse | null;
	error?: string | null;
	finishedAt?: number | null;
	attemptCount?: number;
	durationMs?: number | null;
	/** Every step run so far (flows/step-machine.ts). */
	steps?: StepRun[] | null;
	/** A failed execution of several steps: what a manual retry resumes from. */
	resume?: Omit<ExecutionState, "runs"> | null;
}

export interface AttemptRecord {
	type: "attempt";
	executionId: string;
	n: number;
	startedAt: number;
	durationMs: number;
	status: number | null;
	outcome: "succeeded" | "retry" | "failed";
	error: string | null;
}

export type RunLogRecord = ExecutionRecord | AttemptRecord;

function withoutUndefined<T extends object>(value: T): Partial<T> {
	return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * First statement of every run-log batch: fails it (and so rolls the whole batch back) when the
 * flow no longer exists, so a flow object still flushing when its flow was deleted cannot bring
 * the deleted run log back. A read, in the batch's transaction: no race with DELETE /api/flows/:id.
 */
const FLOW_EXISTS_GUARD = "SELECT json(CASE WHEN EXISTS (SELECT 1 FROM flows WHERE id = ?) THEN '1' ELSE 'flow deleted' END)";

export type RunLogWrite = "written" | "flowDeleted";

/**
 * Writes one flow's records in order, in one D1 batch (a transaction), with the stats they
 * change; "flowDeleted" when the flow is gone (the records are for nothing and may be dropped).
 */
export async function writeRunLog(
	d1: D1Database,
	flowId: string,
	records: readonly RunLogRecord[],
	nowMs = Date.now(),
): Promise<RunLogWrite> {
	if (records.length === 0) return "written";
	try {
		await d1.batch([d1.prepare(FLOW_EXISTS_GUARD).bind(flowId), ...runLogStatements(d1, records, nowMs)]);
		return "written";
	} catch (error) {
		// Only a failed batch pays for this read; a D1 outage fails it too and is thrown on.
		const flow = await d1.prepare("SELECT 1 FROM flows WHERE id = ?").bind(flowId).first();
		if (flow === null) return "flowDeleted";
		throw error;
	}
}

function runLogStatements(d1: D1Database, records: readonly RunLogRecord[], nowMs: number): D1PreparedStatement[] {
	const db = getDb(d1);
	const executionRecords = records.filter((record): record is ExecutionRecord => record.type === "execution");
	// Stats compare each record with the execution's state before the batch, so they go first.
	const stats = executionRecords.length > 0 ? statsStatements(d1, executionRecords, nowMs) : [];
	const writes = records.map((record) => {
		if (record.type === "attempt") {
			const { type: _, ...row } = record;
			return db.insert(attempts).values(row).onConflictDoNothing();
		}
		const { type: _, ...row } = record;
		const { id: __, ...changes } = withoutUndefined(row);
		// Never overwrite another flow's execution that happens to share the id.
		return db
			.insert(executions)
			.values(row)
			.onConflictDoUpdate({ target: executions.id, set: changes, setWhere: sql`${executions.flowId} = excluded.flow_id` });
	});
	// Drizzle's batch takes no raw statements, so its queries join the stats as D1 statements.
	const statements = writes.map((query) => {
		const { sql: text, params } = query.toSQL();
		return d1.prepare(text).bind(...params);
	});
	return [...stats, ...statements];
}
