import type { IndexerAnswerRead, KnnInstance, KnnNeighbor, KnnPartial, PartialReason, PartitionProgress } from "./answer";

/**
 * Scatter-gather of one kNN query over the indexers of the group, the pure
 * part: merging their answers into one top-k and saying which partitions of
 * the embeddings topic the answer did not search. Every partition no
 * answering instance holds `live` is named, with why — never silently missing.
 */

/** What every indexer answer says of who answered it and from which partitions (absent from indexers older than the group). */
export interface Answered {
  instance?: string;
  partitions?: PartitionProgress[];
}

/** What one instance did with the request (a query, shard stats). */
export interface InstanceOutcome<A extends Answered = IndexerAnswerRead> {
  instance: string;
  url: string;
  /** The partitions the group assigned it (describeIndexers; empty when unknown). */
  assigned: number[];
  result:
    | { ok: true; answer: A; tookMs: number }
    | { ok: false; kind: "timeout" | "failed"; error: string; tookMs: number | null };
}

export interface ScatterView {
  /** The topic's partition count; 0 when unknown (the group could not be read): only failed instances can be named then. */
  topicPartitions: number;
  /** The deadline each instance had, named in a timeout's message. */
  timeoutMs: number;
}

/** The answers' neighbours as one list: best score first, one row per doc_id (its best), at most k. Ties by doc_id, so the order is stable. */
export function mergeNeighbors(lists: readonly (readonly KnnNeighbor[])[], k: number): KnnNeighbor[] {
  const best = new Map<string, KnnNeighbor>();
  for (const list of lists) {
    for (const n of list) {
      const held = best.get(n.doc_id);
      // A document can come from two instances while its partition moves (the old owner has not released it yet).
      if (!held || n.score > held.score) best.set(n.doc_id, n);
    }
  }
  return [...best.values()].sort((a, b) => b.score - a.score || (a.doc_id < b.doc_id ? -1 : a.doc_id > b.doc_id ? 1 : 0)).slice(0, k);
}

/** The order reasons are named in: an instance that did not answer first, then partitions nobody owns, then partitions still loading. */
const REASON_ORDER: readonly PartialReason[] = ["timeout", "failed", "unassigned", "loading"];

const list = (ps: readonly number[]) => (ps.length === 1 ? `partition ${ps[0]}` : `partitions ${ps.join(", ")}`);
const count = (n: number) => n.toLocaleString("en-US");

/** What `partitions` an answer reports, or (an indexer older than the group) its assignment taken as live. */
function answered(o: InstanceOutcome<Answered> & { result: { ok: true } }): PartitionProgress[] {
  return o.result.answer.partitions ?? o.assigned.map((partition) => ({ partition, state: "live" as const, applied: 0, end: null }));
}

/** Which partitions the merged answer did not search, and why; null when it searched them all. */
export function partialOf(outcomes: readonly InstanceOutcome<Answered>[], view: ScatterView): KnnPartial | null {
  const live = new Set<number>();
  const loading = new Map<number, { instance: string; progress: PartitionProgress }>();
  for (const o of outcomes) {
    if (!o.result.ok) continue;
    for (const p of answered(o as InstanceOutcome<Answered> & { result: { ok: true } })) {
      if (p.state === "live") live.add(p.partition);
      else loading.set(p.partition, { instance: o.instance, progress: p });
    }
  }
  const missing = new Map<number, PartialReason>();
  const parts: { reason: PartialReason; partitions: number[]; text: string }[] = [];
  // Instances that did not answer: their assigned partitions (all of them when the topic's size is unknown).
  for (const o of outcomes) {
    if (o.result.ok) continue;
    const lost = o.assigned.filter((p) => !live.has(p) && !missing.has(p));
    for (const p of lost) missing.set(p, o.result.kind);
    const what = o.result.kind === "timeout" ? `did not answer within ${count(view.timeoutMs)} ms` : `failed (${o.result.error})`;
    // With the topic's size unknown, every instance that did not answer is named: the answer may lack whatever it holds.
    if (lost.length > 0 || view.topicPartitions === 0) parts.push({ reason: o.result.kind, partitions: lost, text: `indexer ${o.instance} ${what}${lost.length ? ` (${list(lost)})` : ""}` });
  }
  const loadingParts = new Map<string, number[]>();
  const unassigned: number[] = [];
  for (let p = 0; p < view.topicPartitions; p++) {
    if (live.has(p) || missing.has(p)) continue;
    const l = loading.get(p);
    if (l) {
      missing.set(p, "loading");
      loadingParts.set(l.instance, [...(loadingParts.get(l.instance) ?? []), p]);
    } else {
      missing.set(p, "unassigned");
      unassigned.push(p);
    }
  }
  if (unassigned.length > 0) parts.push({ reason: "unassigned", partitions: unassigned, text: `${list(unassigned)} ${unassigned.length === 1 ? "has" : "have"} no indexer yet (the group is rebalancing, or no indexer runs)` });
  for (const [instance, ps] of loadingParts) {
    const progress = ps.map((p) => loading.get(p)!.progress);
    const applied = progress.reduce((a, x) => a + x.applied, 0);
    const ends = progress.every((x) => x.end !== null) ? progress.reduce((a, x) => a + (x.end as number), 0) : null;
    const how = ends === null ? "" : `, at offset ${count(applied)} of ${count(ends)}`;
    parts.push({ reason: "loading", partitions: ps, text: `${list(ps)} still loading on indexer ${instance}${how}` });
  }
  if (parts.length === 0) return null;
  parts.sort((a, b) => REASON_ORDER.indexOf(a.reason) - REASON_ORDER.indexOf(b.reason));
  const partitions = [...missing.keys()].sort((a, b) => a - b);
  const lead = view.topicPartitions > 0 && partitions.length > 0 ? `${count(partitions.length)} of ${count(view.topicPartitions)} partitions not searched: ` : "results may be incomplete: ";
  return { reason: parts[0]!.reason, message: lead + parts.map((p) => p.text).join("; "), partitions };
}

/** How each instance took part, as the answer lists it. */
export function instancesOf(outcomes: readonly InstanceOutcome<Answered>[]): KnnInstance[] {
  return outcomes.map((o) =>
    o.result.ok
      ? { instance: o.result.answer.instance ?? o.instance, url: o.url, partitions: answered(o as InstanceOutcome<Answered> & { result: { ok: true } }).map((p) => p.partition).sort((a, b) => a - b), ok: true, took_ms: o.result.tookMs }
      : { instance: o.instance, url: o.url, partitions: [...o.assigned], ok: false, took_ms: o.result.tookMs, error: o.result.error },
  );
}

/** The merged answer of the instances that answered (at least one did: the caller answers an error otherwise). */
export function mergeAnswers(outcomes: readonly InstanceOutcome[], k: number, view: ScatterView) {
  const ok = outcomes.flatMap((o) => (o.result.ok ? [o.result.answer] : []));
  const modes = new Set(ok.map((a) => a.mode).filter((m): m is string => m !== undefined));
  return {
    neighbors: mergeNeighbors(ok.map((a) => a.neighbors), k),
    count_scored: ok.reduce((a, x) => a + x.count_scored, 0),
    mode: modes.size === 1 ? [...modes][0] : modes.size > 1 ? "mixed" : undefined,
    instances: instancesOf(outcomes),
    partial: partialOf(outcomes, view),
  };
}
