import { describe, expect, it } from "vitest";
import { parseEmbeddingClientConfig } from "@/lib/config/embedding-client";
import { ConfigError, parseEnv } from "@/lib/config/env";
import { redactConfig, redactUrl } from "@/lib/config/redact";
import { parseStackConfig, withScale } from "@/lib/config/stack";
import { URL_LIST_MAX } from "@/lib/config/types";
import { createLogger } from "@/lib/log";

const parse = (value: string) => parseEnv(["INFERMESH_URL"], { INFERMESH_URL: value }).INFERMESH_URL;
const refusal = (value: string) => {
  try {
    parse(value);
  } catch (err) {
    if (err instanceof ConfigError) return err.expected;
    throw err;
  }
  return undefined;
};

describe("INFERMESH_URL as a list", () => {
  it.each([
    ["one URL", "http://embedder:9000", ["http://embedder:9000"]],
    ["one URL, trailing slash", "http://embedder:9000/", ["http://embedder:9000"]],
    ["two, spaces around the comma", " http://a:9000 ,  http://b:9001/ ", ["http://a:9000", "http://b:9001"]],
    ["a path prefix kept", "https://gw.example/embed/v1,https://gw2.example/embed/v1", ["https://gw.example/embed/v1", "https://gw2.example/embed/v1"]],
    ["credentials and query kept for the client", "https://u:p@a.example/v1?api_key=k", ["https://u:p@a.example/v1?api_key=k"]],
    ["an encoded comma inside a URL", "http://a:9000/x%2Cy,http://b:9000", ["http://a:9000/x%2Cy", "http://b:9000"]],
    ["IPv6", "http://[::1]:9000,http://[::1]:9001", ["http://[::1]:9000", "http://[::1]:9001"]],
    ["the most allowed", Array.from({ length: URL_LIST_MAX }, (_, i) => `http://h:${9000 + i}`).join(","), Array.from({ length: URL_LIST_MAX }, (_, i) => `http://h:${9000 + i}`)],
  ])("accepts %s", (_name, value, urls) => {
    expect(parse(value)).toEqual(urls);
  });

  it.each([
    ["an empty entry", "http://a:9000,,http://b:9000", "expected comma-separated http(s) URLs (entry 2 of 3 is not one)"],
    ["a trailing comma", "http://a:9000,", "expected comma-separated http(s) URLs (entry 2 of 2 is not one)"],
    ["a leading comma", ",http://a:9000", "expected comma-separated http(s) URLs (entry 1 of 2 is not one)"],
    ["only commas", ",,,", "expected comma-separated http(s) URLs (entry 1 of 4 is not one)"],
    ["no scheme", "a:9000", "expected comma-separated http(s) URLs (entry 1 of 1 is not one)"],
    ["another scheme", "http://a:9000,file:///etc/passwd", "expected comma-separated http(s) URLs (entry 2 of 2 is not one)"],
    ["javascript:", "javascript:alert(1)", "expected comma-separated http(s) URLs (entry 1 of 1 is not one)"],
    ["a newline inside an entry", "http://a:9000,http://ev\nil:9000", "expected comma-separated http(s) URLs (entry 2 of 2 is not one)"],
    ["a tab inside an entry", "http://a\t:9000", "expected comma-separated http(s) URLs (entry 1 of 1 is not one)"],
    ["a NUL", "http://a:9000\u0000x", "expected comma-separated http(s) URLs (entry 1 of 1 is not one)"],
    ["a space inside an entry", "http://a:9000 http://b:9000", "expected comma-separated http(s) URLs (entry 1 of 1 is not one)"],
    ["a port out of range", "http://a:99999", "expected comma-separated http(s) URLs (entry 1 of 1 is not one)"],
    ["no host", "http://:9000", "expected comma-separated http(s) URLs (entry 1 of 1 is not one)"],
    ["the same URL twice", "http://a:9000,http://a:9000/", "expected comma-separated http(s) URLs, each once (entry 2 repeats an earlier one)"],
    ["the same URL twice, spelt differently", "http://A:9000,http://a:9000", "expected comma-separated http(s) URLs, each once (entry 2 repeats an earlier one)"],
    ["too many", Array.from({ length: URL_LIST_MAX + 1 }, (_, i) => `http://h:${9000 + i}`).join(","), `expected at most ${URL_LIST_MAX} comma-separated http(s) URLs`],
  ])("refuses %s with one line", (_name, value, expected) => {
    expect(refusal(value)).toBe(expected);
  });

  it("the one line a refusal prints shows the value with every URL's credentials masked", () => {
    expect(() => parse("https://u:secret@a.example,https://v:s2@a.example?token=s3,ftp://x")).toThrow(
      'invalid configuration: INFERMESH_URL="https://***:***@a.example,https://***:***@a.example?token=[redacted],ftp://x": expected comma-separated http(s) URLs (entry 3 of 3 is not one)',
    );
  });

  it("the client balances over every instance; unset means the bundled service on INFERMESH_PORT", () => {
    expect(parseEmbeddingClientConfig({ INFERMESH_URL: "http://a:1,http://b:2" }).urls).toEqual(["http://a:1", "http://b:2"]);
    expect(parseEmbeddingClientConfig({ INFERMESH_PORT: "9100" }).urls).toEqual(["http://127.0.0.1:9100"]);
  });

  it("the launcher's bundled services follow --embedders; an operator's list stays as given", () => {
    const bundled = withScale(parseStackConfig({ INFERMESH_PORT: "9000" }), { embedders: 3, indexers: 1 });
    expect(bundled.infermesh.urls).toEqual(["http://127.0.0.1:9000", "http://127.0.0.1:9001", "http://127.0.0.1:9002"]);
    const external = withScale(parseStackConfig({ INFERMESH_URL: "http://x:1,http://y:2" }), { embedders: 1, indexers: 1 });
    expect(external.infermesh).toMatchObject({ external: true, urls: ["http://x:1", "http://y:2"] });
  });
});

describe("redaction of a URL list", () => {
  it.each([
    ["each URL's user-info", "https://u:p@a,https://v:q@b", "https://***:***@a,https://***:***@b"],
    ["each URL's credential parameters", "https://a/x?token=1,https://b/y?api_key=2", "https://a/x?token=[redacted],https://b/y?api_key=[redacted]"],
    ["user only, then user:password", "http://u@a:1,https://v:q@b:2/p", "http://***@a:1,https://***:***@b:2/p"],
    ["no credentials: unchanged", "http://a:9000,http://b:9000", "http://a:9000,http://b:9000"],
    ["a comma inside one URL's query is not a split", "https://h/v1?model=a,b&token=x", "https://h/v1?model=a,b&token=[redacted]"],
  ])("masks %s", (_name, text, shown) => {
    expect(redactUrl(text)).toBe(shown);
  });

  it("a configuration holding the list shows every URL redacted", () => {
    const cfg = parseEmbeddingClientConfig({ INFERMESH_URL: "https://u:pw1@a.example,https://v:pw2@b.example/v1?token=t0k", INFERMESH_API_KEY: "k3y" });
    const shown = JSON.stringify(redactConfig(cfg));
    for (const secret of ["pw1", "pw2", "t0k", "k3y"]) expect(shown).not.toContain(secret);
    expect(redactConfig(cfg).urls).toEqual(["https://***:***@a.example", "https://***:***@b.example/v1?token=[redacted]"]);
  });
});

describe("the console with several instances", () => {
  it("probes each instance on the health page, one row each, credentials masked", async () => {
    const { parseConsoleConfig } = await import("@/lib/config/console");
    const { healthComponents } = await import("@/lib/health/components");
    const { componentLabel } = await import("@/components/health/labels");
    const cfg = parseConsoleConfig({ INFERMESH_URL: "http://a:9000,https://u:pw@b:9001/v1" });
    const rows = healthComponents(cfg, createLogger("test", "silent"))
      .filter((c) => c.name.startsWith("embedding-service"))
      .map((c) => [c.name, componentLabel(c.name), c.target]);
    expect(rows).toEqual([
      ["embedding-service", "Embedding service", "http://a:9000/health"],
      ["embedding-service-1", "Embedding service 1", "https://***:***@b:9001/v1/health"],
    ]);
  });
});
