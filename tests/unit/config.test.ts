import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "@/lib/config/env";
import * as t from "@/lib/config/types";
import { variables, type Variable, type VariableName } from "@/lib/config/variables";

const names = Object.keys(variables) as VariableName[];
const secretNames = names.filter((n) => (variables[n] as Variable).secret);

/** The one-line message parseEnv throws for `name=value`, or null when the value is accepted. */
function errorFor(name: VariableName, value: string): ConfigError | null {
  try {
    parseEnv([name], { [name]: value });
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

describe("every variable", () => {
  it.each(names)("%s: its default (or unset) parses", (name) => {
    const spec = variables[name] as Variable;
    const parsed = parseEnv([name], {})[name];
    if (spec.default === undefined) expect(parsed).toBeUndefined();
    else expect(parsed).not.toBeUndefined();
  });

  it.each(names)("%s: an empty or blank value counts as unset", (name) => {
    const unset = parseEnv([name], {})[name];
    expect(parseEnv([name], { [name]: "" })[name]).toEqual(unset);
    expect(parseEnv([name], { [name]: "  \t" })[name]).toEqual(unset);
  });

  // Values that are wrong for most types; whichever a variable rejects must
  // come back as one line naming it and saying what was expected.
  const probes = ["not a valid value", "-1", "0", "1.5", "99999999999", "ftp://host", "host-without-port", "a,,b", "10tb", "maybe", "line\nbreak"];

  it.each(names)("%s: a rejected value gives one line naming it and what was expected", (name) => {
    const secret = (variables[name] as Variable).secret === true;
    for (const value of probes) {
      const err = errorFor(name, value);
      if (!err) continue;
      expect(err.variable).toBe(name);
      expect(err.message).not.toMatch(/\n/);
      expect(err.message).toMatch(new RegExp(`^invalid configuration: ${name}(=".*")?: expected .+`));
      expect(err.message.includes(JSON.stringify(value))).toBe(!secret);
    }
  });
});

describe("bad values by type", () => {
  it.each([
    ["int", "EMBED_TOPIC_PARTITIONS", "lots", "expected an integer from 1 to 1024"],
    ["int (below range)", "EMBED_TOPIC_PARTITIONS", "0", "expected an integer from 1 to 1024"],
    ["int (above range)", "EMBED_TOPIC_PARTITIONS", "1025", "expected an integer from 1 to 1024"],
    ["int (fraction)", "EMBED_BATCH_SIZE", "6.4", "expected an integer from 1 to 4096"],
    ["port", "KAFKA_PORT", "70000", "expected an integer from 1 to 65535"],
    ["seconds", "EMBED_MAX_WAIT_SEC", "half", "expected a number of seconds ≥ 0"],
    ["seconds (below minimum)", "SHUTDOWN_TIMEOUT_SEC", "0.5", "expected a number of seconds ≥ 1"],
    ["seconds (negative)", "INFERMESH_BACKOFF_SEC", "-1", "expected a number of seconds ≥ 0"],
    ["flag", "EMBED_NORMALIZE", "maybe", "expected 1 or 0 (or true/false)"],
    ["fraction", "INDEX_RECALL_TARGET", "1.5", "expected a number from 0 to 1"],
    ["fraction (percent)", "INDEX_RECALL_TARGET", "95", "expected a number from 0 to 1"],
    ["url", "REDDB_URL", "localhost:9000", "expected an http(s) URL"],
    ["url list", "INFERMESH_URL", "localhost:9000", "expected comma-separated http(s) URLs (entry 1 of 1 is not one)"],
    ["url (other scheme)", "SPARK_VECTOR_UI_URL", "ftp://spark/api", "expected an http(s) URL"],
    ["host:port list", "KAFKA_BOOTSTRAP_SERVERS", "broker1,broker2:9092", "expected host:port[,host:port…]"],
    ["csv", "SPARK_KAFKA_TOPICS", "a,,b", "expected a comma-separated list of names"],
    ["one of", "REDDB_MODE", "all", "expected one of stream|kv|both"],
    ["log level", "LOG_LEVEL", "verbose", "expected one of trace|debug|info|warn|error|fatal|silent"],
    ["heap size", "KAFKA_HEAP", "lots", "expected a JVM heap size such as 512m or 1g"],
  ] as const)("%s: %s=%j → %s", (_type, name, value, expected) => {
    const err = errorFor(name, value);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.expected).toBe(expected);
    expect(err?.message).toBe(`invalid configuration: ${name}=${JSON.stringify(value)}: ${expected}`);
  });

  it("shows a multi-line bad value escaped, so the message stays one line", () => {
    expect(errorFor("KAFKA_PORT", "90\n92")?.message).toBe('invalid configuration: KAFKA_PORT="90\\n92": expected an integer from 1 to 65535');
  });

  it.each([
    ["KAFKA_PORT", " 9094 ", 9094],
    ["EMBED_NORMALIZE", "TRUE", true],
    ["EMBED_NORMALIZE", "off", false],
    ["EMBED_MAX_WAIT_SEC", "0.25", 0.25],
    ["INFERMESH_URL", "http://embedder:9000/", ["http://embedder:9000"]],
    ["INFERMESH_URL", "http://a:9000/, http://b:9000", ["http://a:9000", "http://b:9000"]],
    ["KAFKA_BOOTSTRAP_SERVERS", "a:9092, b:9093", ["a:9092", "b:9093"]],
    ["SPARK_KAFKA_TOPICS", "agent.results, more", ["agent.results", "more"]],
  ] as const)("accepts %s=%j as %j", (name, value, parsed) => {
    expect(parseEnv([name], { [name]: value })[name]).toEqual(parsed);
  });

  it("stops at the first bad variable and names that one only", () => {
    expect(() => parseEnv(["KAFKA_PORT", "KAFKA_HEAP"], { KAFKA_PORT: "9092", KAFKA_HEAP: "big" })).toThrow(
      'invalid configuration: KAFKA_HEAP="big": expected a JVM heap size such as 512m or 1g',
    );
  });
});

describe("secrets", () => {
  const registry = variables as unknown as Record<string, Variable>;
  afterEach(() => {
    delete registry.TEST_ONLY_SECRET_PORT;
  });

  it("includes the seeds' tokens", () => {
    expect(secretNames).toEqual(expect.arrayContaining(["INFERMESH_API_KEY", "REDDB_TOKEN"]));
  });

  it("a rejected secret is named without its value", () => {
    // A stand-in for a secret with a typed schema: today's secrets accept any
    // non-blank string, so none can be rejected through the real registry.
    registry.TEST_ONLY_SECRET_PORT = { group: "Stack", schema: t.port(), secret: true, doc: "test only" };
    const err = errorFor("TEST_ONLY_SECRET_PORT" as VariableName, "hunter2-sentinel");
    expect(err?.message).toBe("invalid configuration: TEST_ONLY_SECRET_PORT: expected an integer from 1 to 65535");
    expect(err?.message).not.toContain("hunter2");
  });

  it("a secret's value never shows up in another variable's error", () => {
    const env: Record<string, string> = Object.fromEntries(secretNames.map((n) => [n, `sentinel-${n}`]));
    env.KAFKA_PORT = "not-a-port";
    let message = "";
    try {
      parseEnv(names, env);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid configuration: KAFKA_PORT=/);
    expect(message).not.toContain("sentinel");
  });
});
