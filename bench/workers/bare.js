// Calibration only: answers 202 without reading the request. Compares this machine and runtime
// setup with the "bare 202 worker" anchors.
export default {
	fetch() {
		return new Response(null, { status: 202 });
	},
};
