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
