/**
 * @module
 * The one query the hook ingress makes on a config-cache miss: a flow's status and live version,
 * that version's definition and its trigger's credential. Plain SQL on the D1 binding rather than
 * drizzle: the edge Worker loads neither drizzle nor the schema's table objects (issue 20).
 */
import type { CredentialRow, FlowRow, JsonColumns } from "../schema";

export interface IngressConfigRow {
	status: FlowRow["status"];
	version: number | null;
	definition: JsonColumns["definition"] | null;
	credential: Pick<CredentialRow, "component" | "type" | "details" | "sealedSecrets" | "sealedPrevious" | "previousExpiresAt"> | null;
}

interface RawRow {
	status: FlowRow["status"];
	version: number | null;
	definition: string | null;
	component: CredentialRow["component"] | null;
	type: string | null;
	details: string | null;
	sealed_secrets: string | null;
	sealed_previous: string | null;
	previous_expires_at: number | null;
}

const QUERY = `SELECT f.status, f.live_version AS version, v.definition,
	c.component, c.type, c.details, c.sealed_secrets, c.sealed_previous, c.previous_expires_at
FROM flows f
LEFT JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.live_version
LEFT JOIN credentials c ON c.id = json_extract(v.definition, '$.trigger.credentialId')
WHERE f.id = ?1 LIMIT 1`;

export async function readIngressConfigRow(db: D1Database, flowId: string): Promise<IngressConfigRow | null> {
	const row = await db.prepare(QUERY).bind(flowId).first<RawRow>();
	if (!row) return null;
	return {
		status: row.status,
		version: row.version,
		definition: row.definition === null ? null : JSON.parse(row.definition),
		credential:
			row.component === null || row.type === null || row.details === null || row.sealed_secrets === null
				? null
				: {
						component: row.component,
						type: row.type,
						details: JSON.parse(row.details),
						sealedSecrets: row.sealed_secrets,
						sealedPrevious: row.sealed_previous,
						previousExpiresAt: row.previous_expires_at,
					},
	};
}
