// The startup reference: the same shape as the bundle (a fetch handler and the FlowObject Durable
// Object class, declared the same way in startup.capnp) with nothing evaluated at load, so that
// "bundle minus empty" is the bundle's own compilation and top-level evaluation.
export class FlowObject {}

export default {
	fetch() {
		return new Response(null, { status: 204 });
	},
};
