import { z } from "zod";

/**
 * Value types for environment variables. Each one turns the raw string (or its
 * string default) into a typed value and, on failure, says in plain words what
 * was expected: that phrase ends up in the one line a process prints before it
 * stops on a bad value.
 */

const trimmed = z.string().trim();

export const str = () => trimmed.min(1, "expected a non-empty string");

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  trimmed
    .regex(/^-?\d+$/, `expected an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `expected an integer from ${min} to ${max}`).max(max, `expected an integer from ${min} to ${max}`));

export const port = () => int(1, 65535);

/** Seconds as a decimal number, e.g. 0.5. */
export const seconds = (min = 0) =>
  trimmed
    .regex(/^\d+(\.\d+)?$/, `expected a number of seconds ≥ ${min}`)
    .transform(Number)
    .pipe(z.number().min(min, `expected a number of seconds ≥ ${min}`));

/** A decimal number from 0 to 1, e.g. 0.95. */
export const fraction = () =>
  trimmed
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, "expected a number from 0 to 1")
    .transform(Number);

/** 1/0, true/false, yes/no, on/off — the spellings operators actually use. */
export const flag = () =>
  trimmed
    .toLowerCase()
    .refine((v) => ["1", "0", "true", "false", "yes", "no", "on", "off"].includes(v), "expected 1 or 0 (or true/false)")
    .transform((v) => ["1", "true", "yes", "on"].includes(v));

export const url = () =>
  trimmed
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === "http:" || u.protocol === "https:";
      } catch {
        return false;
      }
    }, "expected an http(s) URL")
    .transform((v) => v.replace(/\/+$/, ""));

/** Most URLs one list variable takes: a list longer than this is a mistake (a pasted file), not a fleet. */
export const URL_LIST_MAX = 64;

const httpUrl = (v: string) => {
  // The URL parser silently drops tabs and newlines inside a URL: refuse them (and any space or control character) instead.
  if (/[\s\u0000-\u001f\u007f]/.test(v)) return false;
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
};

/**
 * One or more http(s) URLs separated by commas (`http://a:9000,http://b:9000`),
 * each trimmed and without its trailing slash; order kept. Empty entries,
 * duplicates and more than URL_LIST_MAX entries are refused: each would change
 * how load is spread without saying so. A comma inside a URL must be written
 * %2C. The message never repeats an entry (it may hold credentials).
 */
export const urlList = () =>
  trimmed
    .transform((v) => v.split(",").map((s) => s.trim().replace(/\/+$/, "")))
    .superRefine((list, ctx) => {
      const fail = (message: string) => ctx.addIssue({ code: "custom", message });
      if (list.length > URL_LIST_MAX) return fail(`expected at most ${URL_LIST_MAX} comma-separated http(s) URLs`);
      const bad = list.findIndex((u) => !httpUrl(u));
      if (bad !== -1) return fail(`expected comma-separated http(s) URLs (entry ${bad + 1} of ${list.length} is not one)`);
      const seen = new Set<string>();
      for (const [i, u] of list.entries()) {
        const key = new URL(u).href;
        if (seen.has(key)) return fail(`expected comma-separated http(s) URLs, each once (entry ${i + 1} repeats an earlier one)`);
        seen.add(key);
      }
    });

/** host:port[,host:port…] as Kafka clients take it. */
export const hostPortList = () =>
  trimmed
    .refine(
      (v) => v.split(",").every((hp) => /^[^\s:,]+:\d{1,5}$/.test(hp.trim())),
      "expected host:port[,host:port…]",
    )
    .transform((v) => v.split(",").map((hp) => hp.trim()));

export const csv = () =>
  trimmed
    .refine((v) => v.split(",").every((s) => s.trim().length > 0), "expected a comma-separated list of names")
    .transform((v) => v.split(",").map((s) => s.trim()));

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  trimmed.pipe(z.enum(values, { error: `expected one of ${values.join("|")}` }));

/** Java heap size as the JVM takes it, e.g. 512m or 1g. */
export const heapSize = () => trimmed.regex(/^\d+[kmg]$/i, "expected a JVM heap size such as 512m or 1g");

export const logLevel = () => oneOf(["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const);
