/**
 * The combined stream's position: the last event id sent of each stream, as
 * `infermesh:12,lag:40`. It is the `id:` of every combined event, so the
 * browser's Last-Event-ID resumes each stream where it stopped.
 */
export type Cursor = Map<string, number>;

export function formatCursor(cursor: Cursor): string {
  return [...cursor].map(([name, id]) => `${name}:${id}`).join(",");
}

/** Unknown or malformed parts are ignored: that stream then starts from its backlog. */
export function parseCursor(value: string | null | undefined): Cursor {
  const cursor: Cursor = new Map();
  for (const part of (value ?? "").split(",")) {
    const m = /^([a-z-]{1,40}):(\d{1,15})$/.exec(part.trim());
    if (m) cursor.set(m[1]!, Number(m[2]));
  }
  return cursor;
}
