/**
 * How a DLQ answer says it holds only part of what was asked. No runtime
 * imports: the page uses it to warn before a download, the routes to answer.
 *
 * `partial` is `null` when the answer is all that was asked for (or all the
 * source holds), else `{reason, limit, message}`:
 * - `source_cap`: the source returns at most `limit` entries per read (RedDB's
 *   stream tail: 1,000), and it holds more than that;
 * - `deadline`: the read hit its deadline and answers with the `limit` entries
 *   it had read by then.
 */
export type DlqPartialReason = "source_cap" | "deadline";

export interface DlqPartial {
  reason: DlqPartialReason;
  /** Entries the answer holds at most (the source's cap), or those read before the deadline. */
  limit: number;
  /** One line for operators, e.g. "showing the newest 1,000 of RedDB's entries; RedDB returns at most 1,000 per read". */
  message: string;
}

/** Most entries one read of RedDB's DLQ stream returns: the RedDB API clamps `count`/`limit` to 1..1000. */
export const REDDB_MAX_PER_READ = 1_000;

/** Response header of a download whose source will cap the answer, set before the first byte: `source_cap; limit=1000`. */
export const PARTIAL_HEADER = "x-embedline-partial";

const n = (v: number) => v.toLocaleString("en-US");

export function reddbCapPartial(limit: number): DlqPartial {
  return {
    reason: "source_cap",
    limit,
    message: limit === REDDB_MAX_PER_READ
      ? `showing the newest ${n(limit)} of RedDB's entries; RedDB returns at most ${n(REDDB_MAX_PER_READ)} per read`
      : `showing the newest ${n(limit)} of RedDB's entries; RedDB returned no more for one read and holds older ones`,
  };
}

export function deadlinePartial(read: number, deadlineMs: number): DlqPartial {
  return { reason: "deadline", limit: read, message: `the read stopped at its ${deadlineMs / 1000} s deadline: showing the ${n(read)} entries read by then` };
}

/**
 * Whether a RedDB read answered fewer than asked while the stream holds older
 * entries: its oldest offset is above 0 (offsets are gap-free from 0), or,
 * for a REDDB_DLQ_HTTP_PATH whose rows carry no numeric offset, it answered
 * the API's whole cap.
 */
export function reddbReadPartial(asked: number, offsets: readonly unknown[]): DlqPartial | null {
  if (offsets.length >= asked) return null;
  const numeric = offsets.map(Number).filter((o) => Number.isInteger(o) && o >= 0);
  const older = numeric.length === offsets.length && numeric.length > 0 ? Math.min(...numeric) > 0 : offsets.length >= REDDB_MAX_PER_READ;
  return older ? reddbCapPartial(offsets.length) : null;
}

/** What a download of `limit` entries from `source` will be cut to, known from the query alone (before any read). */
export function downloadPartial(q: { source?: "kafka" | "reddb"; limit: number | "all" }): DlqPartial | null {
  if (q.source !== "reddb") return null;
  return q.limit === "all" || q.limit > REDDB_MAX_PER_READ ? reddbCapPartial(REDDB_MAX_PER_READ) : null;
}

export function partialHeaderValue(p: DlqPartial): string {
  return `${p.reason}; limit=${p.limit}`;
}
