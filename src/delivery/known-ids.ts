/**
 * @module
 * Exactly-once per id across a republish that changes the shard layout (ordering flow → key,
 * key concurrency 2 → 3, …). An id's dedupe lives in the object its execution first went to
 * (shards.ts); under another layout the same id routes elsewhere, where nothing remembers it. So
 * while a version with another layout was live within the dedupe window, the consumer also asks
 * the objects the id would have gone to under those versions whether they know it (`knownIds`,
 * a read), and sends a known id back to where it first went: there it is the duplicate it is.
 *
 * Costs nothing while a flow's layout has not changed within 24 h (one cached read of its
 * version list per isolate). After such a republish, for 24 h: a key evaluation per older layout
 * and one read-only RPC per older object per batch. Not covered: the first copy still waiting in
 * the queue when its retry is handed over (neither object knows the id yet).
 */
import { asc, eq } from "drizzle-orm";
import { getDb } from "../db/client";
import { flowVersions } from "../db/schema";
import { resolveDelivery } from "../flows/definition";
import { computeDeliveryKey } from "../flows/delivery-key";
import { cachedFlowVersion, type Routable, type RoutedExecution } from "./routing";
import { laneFor, routeFor, shardCount } from "./shards";

/** How long an object remembers an id it accepted (its `seen` table). */
export const DEDUPE_WINDOW_MS = 24 * 60 * 60_000;

export interface PublishedVersion {
	version: number;
	createdAt: number;
}

type Layout = ReturnType<typeof resolveDelivery>;

/** Versions that were live within the dedupe window, oldest first: the newest, and each one whose successor came within it. */
export function versionsLiveSince(versions: readonly PublishedVersion[], sinceMs: number): number[] {
	return versions
		.filter((_version, i) => i === versions.length - 1 || (versions[i + 1] as PublishedVersion).createdAt > sinceMs)
		.map((v) => v.version);
}

/** Whether two plans send every execution to the same object: same ordering, shard count and key. */
export function sameLayout(a: Layout, b: Layout): boolean {
	return a.ordering === b.ordering && shardCount(a) === shardCount(b) && a.key === b.key;
}

const MAX_CACHED_FLOWS = 1000;
const publishedVersions = new Map<string, PublishedVersion[]>();

/** A flow's versions with their publish times, read again only when an execution names a newer one. */
async function versionsOf(d1: D1Database, flowId: string, atLeast: number): Promise<PublishedVersion[]> {
	const cached = publishedVersions.get(flowId);
	if (cached && (cached.at(-1)?.version ?? 0) >= atLeast) return cached;
	const rows = await getDb(d1)
		.select({ version: flowVersions.version, createdAt: flowVersions.createdAt })
		.from(flowVersions)
		.where(eq(flowVersions.flowId, flowId))
		.orderBy(asc(flowVersions.version));
	const versions = rows.map((r) => ({ version: r.version, createdAt: Number(r.createdAt) }));
	if (publishedVersions.size >= MAX_CACHED_FLOWS) publishedVersions.delete(publishedVersions.keys().next().value as string);
	publishedVersions.set(flowId, versions);
	return versions;
}

/** The object `item` would have gone to under `layout`. */
async function objectUnder(flowId: string, layout: Layout, item: Routable): Promise<string | null> {
	if (layout.ordering !== "key" || layout.key === null) return routeFor(flowId, layout, laneFor(layout.ordering, null, item.id)).object;
	if (item.message === undefined) return null;
	const { key } = await computeDeliveryKey(layout.key, item.message);
	return routeFor(flowId, layout, laneFor("key", key, item.id)).object;
}

/**
 * Sends each execution whose id an object of an older layout already accepted back to that
 * object (marking it `redirected`); the others keep their route.
 */
export async function routeKnownIds<T extends Routable>(env: Env, flowId: string, routed: Array<RoutedExecution<T>>): Promise<void> {
	if (routed.length === 0) return;
	const newest = Math.max(...routed.map((entry) => entry.item.version));
	const live = versionsLiveSince(await versionsOf(env.DB, flowId, newest), Date.now() - DEDUPE_WINDOW_MS);
	if (live.length < 2) return;
	const layouts = await Promise.all(live.map(async (v) => resolveDelivery((await cachedFlowVersion(env.DB, flowId, v))?.delivery)));
	const probes = new Map<string, Array<RoutedExecution<T>>>();
	for (const entry of routed) {
		const own = resolveDelivery((await cachedFlowVersion(env.DB, flowId, entry.item.version))?.delivery);
		const others = layouts.filter((layout, i) => !sameLayout(layout, own) && layouts.findIndex((l) => sameLayout(l, layout)) === i);
		for (const layout of others) {
			const object = await objectUnder(flowId, layout, entry.item);
			if (object === null || object === entry.route.object) continue;
			probes.set(object, [...(probes.get(object) ?? []), entry]);
		}
	}
	await Promise.all(
		[...probes].map(async ([object, entries]) => {
			const known = new Set(await env.FLOW.getByName(object).knownIds(entries.map((entry) => entry.item.id)));
			for (const entry of entries)
				if (known.has(entry.item.id) && !entry.redirected) {
					entry.route = { ...entry.route, object };
					entry.redirected = true;
				}
		}),
	);
}
