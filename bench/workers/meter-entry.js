// Storage rows written, counted from the bindings' own metadata: bench/lib/steps.ts makes this module
// the entry of a worker whose real entry it imports as "./__target.js" (the built bundle, unchanged).
// The flow object's SQL cursors report `rowsWritten`; D1 results report `meta.rows_written`. Both are
// summed in the isolate (workerd runs the flow objects in the Worker's isolate) and served at
// GET /__meter, so the bench can take the difference over a known number of executions.
import target, { FlowObject as TargetFlowObject } from "./__target.js";

export * from "./__target.js";

const meter = { flowObject: 0, d1: 0 };
/** Cursors are summed when read: a cursor's rowsWritten grows as its statement is stepped. */
const cursors = [];

const realStatements = new WeakMap();
const count = (result) => {
	meter.d1 += Number(result?.meta?.rows_written ?? 0);
	return result;
};

function meteredStatement(statement) {
	const proxy = new Proxy(statement, {
		get(target, name) {
			if (name === "bind") return (...values) => meteredStatement(target.bind(...values));
			if (name === "run" || name === "all" || name === "first") return async (...args) => count(await target[name](...args));
			const value = target[name];
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
	realStatements.set(proxy, statement);
	return proxy;
}

function meteredDb(db) {
	return new Proxy(db, {
		get(target, name) {
			if (name === "prepare") return (query) => meteredStatement(target.prepare(query));
			if (name === "batch")
				return async (statements) => {
					const results = await target.batch(statements.map((s) => realStatements.get(s) ?? s));
					for (const result of results) count(result);
					return results;
				};
			const value = target[name];
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
}

const envs = new WeakMap();
function meteredEnv(env) {
	let metered = envs.get(env);
	if (!metered) {
		metered = { ...env, DB: meteredDb(env.DB) };
		envs.set(env, metered);
	}
	return metered;
}

export class FlowObject extends TargetFlowObject {
	constructor(ctx, env) {
		const sql = ctx.storage.sql;
		const exec = sql.exec.bind(sql);
		sql.exec = (...args) => {
			const cursor = exec(...args);
			cursors.push(cursor);
			return cursor;
		};
		super(ctx, meteredEnv(env));
	}
}

export default {
	fetch(request, env, ctx) {
		if (new URL(request.url).pathname === "/__meter") {
			let flowObject = meter.flowObject;
			for (const cursor of cursors) flowObject += cursor.rowsWritten;
			return Response.json({ flowObject, d1: meter.d1 });
		}
		return target.fetch(request, meteredEnv(env), ctx);
	},
	queue(batch, env, ctx) {
		return target.queue(batch, meteredEnv(env), ctx);
	},
	scheduled(controller, env, ctx) {
		return target.scheduled(controller, meteredEnv(env), ctx);
	},
};
