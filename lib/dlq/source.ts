import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { upstreamJson } from "@/lib/upstreams/http";
import { planNewest, readRanges, type ReadMessage } from "@/lib/upstreams/kafka";
import { REPLAY_HEADER, decodeJson, parseReplayCount, toDlqItem, type DlqItem } from "./item";
import { fillReddbPath } from "./reddb-path";

/** How long a DLQ read may take before it answers with what it has (and says so). */
const READ_DEADLINE_MS = 10_000;

export function kafkaItem(m: ReadMessage): DlqItem {
  return toDlqItem(`kafka:${m.partition}:${m.offset}`, decodeJson(m.value), parseReplayCount(m.headers[REPLAY_HEADER]), m.timestamp / 1000);
}

/** Where the DLQ is read from: the RedDB stream when REDDB_URL is set, else the Kafka DLQ topic. */
export function dlqSourceName(): string {
  const cfg = consoleConfig();
  return cfg.reddb ? `reddb:${cfg.reddb.namespace}/${cfg.reddb.dlqStream}` : `kafka:${cfg.topics.dlq}`;
}

/** The newest `limit` DLQ entries, newest first. */
export async function readDlq(limit: number, signal: AbortSignal): Promise<{ items: DlqItem[]; complete: boolean }> {
  const cfg = consoleConfig();
  if (cfg.reddb) return { items: await readReddb(limit, signal), complete: true };
  const items: DlqItem[] = [];
  const plan = await planNewest(cfg.topics.dlq, limit);
  const { complete } = await readRanges(plan, (m) => void items.push(kafkaItem(m)), AbortSignal.any([signal, AbortSignal.timeout(READ_DEADLINE_MS)]));
  items.sort((a, b) => (b.ts ?? 0) - (a.ts ?? 0));
  return { items: items.slice(0, limit), complete };
}

async function readReddb(limit: number, signal: AbortSignal): Promise<DlqItem[]> {
  const r = consoleConfig().reddb!;
  const path = fillReddbPath(r.dlqPath, { ns: r.namespace, stream: r.dlqStream, limit });
  const headers: Record<string, string> = r.token ? { authorization: `Bearer ${r.token}` } : {};
  const { body } = await upstreamJson<unknown>(`${r.url}${path.startsWith("/") ? "" : "/"}${path}`, { headers, signal, timeoutMs: READ_DEADLINE_MS });
  const rows = Array.isArray(body) ? body : Array.isArray((body as { items?: unknown })?.items) ? (body as { items: unknown[] }).items : [];
  const items = rows.map((row) => {
    const { offset, value } = (row ?? {}) as { offset?: unknown; value?: unknown };
    const v = typeof value === "string" ? decodeJson(Buffer.from(value)) : value;
    return toDlqItem(`reddb:${String(offset)}`, v, parseReplayCount((v as { replay_count?: unknown })?.replay_count ?? ""), null);
  });
  return items.sort((a, b) => (b.ts ?? 0) - (a.ts ?? 0)).slice(0, limit);
}
