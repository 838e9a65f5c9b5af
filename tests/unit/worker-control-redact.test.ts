/**
 * One redaction for everything that shows configuration (lib/config/redact.ts):
 * credentials inside URLs, credential query parameters, credential fields of a
 * config object, and nothing else touched.
 */
import { describe, expect, it } from "vitest";
import { parseEmbedWorkerConfig, redactEmbedWorkerConfig } from "@/lib/config/embed-worker";
import { redactConfig, redactUrl } from "@/lib/config/redact";
import { variables } from "@/lib/config/variables";

describe("redactUrl", () => {
  it.each([
    ["user and password", "https://alice:pa55w0rd@embed.example.com/v1", "https://***:***@embed.example.com/v1"],
    ["user only", "http://alice@reddb.internal:8080", "http://***@reddb.internal:8080"],
    ["an empty password", "http://alice:@host", "http://***:***@host"],
    ["an @ inside the password", "https://u:p@ss@host.example/x", "https://***:***@host.example/x"],
    ["a percent-encoded password", "https://u:p%40ss@host/", "https://***:***@host/"],
    ["token in the query", "http://h/x?token=abc&n=5", "http://h/x?token=[redacted]&n=5"],
    ["every credential parameter name", "http://h/?key=1&apikey=2&api_key=3&password=4&secret=5&access_token=6&q=keep", "http://h/?key=[redacted]&apikey=[redacted]&api_key=[redacted]&password=[redacted]&secret=[redacted]&access_token=[redacted]&q=keep"],
    ["parameter names in another case or spelling", "http://h/?API_KEY=1&Api-Key=2&Token=3", "http://h/?API_KEY=[redacted]&Api-Key=[redacted]&Token=[redacted]"],
    ["a percent-encoded parameter name", "http://h/?%74oken=abc", "http://h/?%74oken=[redacted]"],
    ["an OAuth fragment", "https://h/cb#access_token=abc&state=s", "https://h/cb#access_token=[redacted]&state=s"],
    ["both, and a port", "https://u:p@h:8443/a?password=x", "https://***:***@h:8443/a?password=[redacted]"],
    ["a URL inside a log line", "connecting to INFERMESH_URL=https://u:p@h/v1 failed: ECONNREFUSED", "connecting to INFERMESH_URL=https://***:***@h/v1 failed: ECONNREFUSED"],
    ["two URLs", "from http://a:b@x to http://c@y?key=k", "from http://***:***@x to http://***@y?key=[redacted]"],
    ["a URL without credentials", "http://127.0.0.1:9100/metrics?window=60", "http://127.0.0.1:9100/metrics?window=60"],
    ["a parameter that only ends in key", "http://h/?monkey=1&keys=2", "http://h/?monkey=1&keys=2"],
    ["a plain string with an @", "ops@example.com", "ops@example.com"],
    ["a host:port list", "127.0.0.1:9092,10.0.0.2:9092", "127.0.0.1:9092,10.0.0.2:9092"],
    ["a path", "/var/lib/embedline/data?token=x", "/var/lib/embedline/data?token=x"],
    ["an empty string", "", ""],
  ])("%s", (_what, input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe("redactConfig", () => {
  it("walks nested objects and arrays: credential fields and URLs redacted, everything else as it was", () => {
    const cfg = {
      port: 9100,
      enabled: true,
      nothing: null,
      topics: ["a", "b"],
      controlToken: "tok-1",
      reddb: { url: "https://u:reddb-pass@r.example/", token: "tok-2", namespace: "ns", password: undefined },
      upstreams: [{ url: "http://h/?api_key=k-3", apiKey: "k-4" }, { url: "http://plain:9000" }],
      nested: { deeper: { clientSecret: "s-5", secretsDir: "/etc/x", maxBatchTokens: 2048 } },
    };
    const shown = redactConfig(cfg);
    expect(shown).toEqual({
      port: 9100,
      enabled: true,
      nothing: null,
      topics: ["a", "b"],
      controlToken: "[redacted]",
      reddb: { url: "https://***:***@r.example/", token: "[redacted]", namespace: "ns", password: null },
      upstreams: [{ url: "http://h/?api_key=[redacted]", apiKey: "[redacted]" }, { url: "http://plain:9000" }],
      nested: { deeper: { clientSecret: "[redacted]", secretsDir: "/etc/x", maxBatchTokens: 2048 } },
    });
    // The input is not changed.
    expect(cfg.reddb.token).toBe("tok-2");
  });

  it("an unset credential shows as null, so the reader still sees whether one is configured", () => {
    expect(redactConfig({ token: undefined, apiKey: "", controlToken: "x" })).toEqual({ token: null, apiKey: null, controlToken: "[redacted]" });
  });

  it("the embed-worker's /config never contains the value of any secret variable, nor a URL's credentials", () => {
    const secretNames = Object.entries(variables).filter(([, v]) => (v as { secret?: boolean }).secret).map(([name]) => name);
    expect(secretNames.length).toBeGreaterThanOrEqual(4);
    const env: Record<string, string> = {
      INFERMESH_URL: "https://iu:ip-secret@i.example/v1?token=iq-secret",
      REDDB_URL: "https://ru:rp-secret@r.example?password=rq-secret",
    };
    for (const name of secretNames) env[name] = `value-of-${name}-secret`;
    const json = JSON.stringify(redactEmbedWorkerConfig(parseEmbedWorkerConfig(env)));
    expect(json).not.toMatch(/-secret/);
    expect(json).toContain("i.example");
    expect(json).toContain("r.example");
  });
});
