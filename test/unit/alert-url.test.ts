import { describe, expect, it } from "vitest";
import { alertUrlProblem } from "../../src/ops/alert-url";

const deployed = { allowPrivate: false, ownHost: "hookflow.example.workers.dev" };
const local = { allowPrivate: true, ownHost: "127.0.0.1" };

describe("alert target URLs", () => {
	it("attack: refuses loopback, private, link-local and other special-use addresses, however they are written", () => {
		const refused: Array<[string, string]> = [
			["http://127.0.0.1:8787/hook/x", "loopback"],
			["http://2130706433/", "127.0.0.1, a loopback"],
			["http://0x7f.1/", "127.0.0.1, a loopback"],
			["http://127.1:9/", "loopback"],
			["http://localhost:8080/", "local-only name"],
			["http://LOCALHOST./", "local-only name"],
			["http://api.localhost/", "local-only name"],
			["http://printer.local/", "local-only name"],
			["http://metadata.google.internal/computeMetadata/v1/", "local-only name"],
			["http://router.home.arpa/", "local-only name"],
			["http://10.1.2.3/", "a private"],
			["http://172.16.0.1/", "a private"],
			["http://172.31.255.255/", "a private"],
			["http://192.168.1.1/", "a private"],
			["http://100.64.0.1/", "carrier-grade NAT"],
			["http://169.254.169.254/latest/meta-data/", "a link-local"],
			["http://0.0.0.0:8787/", "a reserved"],
			["http://224.0.0.1/", "a multicast"],
			["http://255.255.255.255/", "a reserved"],
			["http://192.0.2.10/", "a documentation"],
			["http://[::1]:8787/", "[::1], a loopback"],
			["http://[::]/", "a reserved"],
			["http://[0:0:0:0:0:0:0:1]/", "a loopback"],
			["http://[::ffff:127.0.0.1]/", "a loopback"],
			["http://[::ffff:10.0.0.1]/", "a private"],
			["http://[64:ff9b::192.168.0.1]/", "a private"],
			["http://[fe80::1]/", "a link-local"],
			["http://[fd12:3456::1]/", "a private (unique local)"],
			["http://[fc00::1]/", "a private (unique local)"],
			["http://[ff02::1]/", "a multicast"],
			["http://[2001:db8::1]/", "a documentation"],
			["https://hookflow.example.workers.dev/hook/abc", "this Worker"],
			["https://HOOKFLOW.example.workers.dev./api", "this Worker"],
			["http://hookflow.example.workers.dev:8443/", "this Worker"],
		];
		for (const [url, why] of refused) {
			const problem = alertUrlProblem(url, deployed);
			expect(problem, url).toContain(why);
			expect(problem, url).toMatch(/alerts (go only to public hosts|must go to another host)$/);
		}
	});

	it("accepts public hosts and addresses", () => {
		for (const url of [
			"https://example.com/hookflow-alerts",
			"https://hooks.slack.com/services/T000/B000/XXXX",
			"http://8.8.8.8/",
			"http://172.32.0.1/",
			"http://172.15.255.255/",
			"http://192.169.0.1/",
			"http://100.128.0.1/",
			"http://[2606:4700:4700::1111]/",
			"http://[::ffff:8.8.8.8]/",
			"http://[64:ff9b::8.8.8.8]/",
			"https://other.example.workers.dev/",
			"https://localhost.example.com/",
		]) {
			expect(alertUrlProblem(url, deployed), url).toBeNull();
		}
	});

	it("local mode (npm start, the tests) allows loopback, private and own-host targets, but never another scheme", () => {
		expect(alertUrlProblem("http://127.0.0.1:9999/alerts", local)).toBeNull();
		expect(alertUrlProblem("http://192.168.1.1/", local)).toBeNull();
		expect(alertUrlProblem("ftp://example.com/", local)).toBe("url must be http:// or https://");
		expect(alertUrlProblem("not a url", local)).toBe("url must be an absolute URL");
	});
});
