/**
 * @module
 * The drizzle client over the D1 binding.
 */
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

const create = (db: D1Database) => drizzle(db, { schema });
const instances = new WeakMap<D1Database, ReturnType<typeof create>>();

/** One drizzle instance per D1 binding: building one walks the whole schema. */
export function getDb(db: D1Database) {
	let instance = instances.get(db);
	if (!instance) {
		instance = create(db);
		instances.set(db, instance);
	}
	return instance;
}
