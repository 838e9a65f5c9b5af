import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { redactUrl } from "@/lib/config/redact";
import { ApiError } from "@/lib/http/api-error";
import { knnAnswerSchema, type KnnAnswer } from "@/lib/knn/answer";
import type { KnnQuery } from "@/lib/knn/query";
import { mergeAnswers } from "@/lib/knn/scatter";
import { toApiError } from "./errors";
import { UpstreamError } from "./http";
import { callIndexer, failureText, indexerSet, outcomesOf, type Call, type IndexerSet } from "./indexers";

/**
 * A kNN query over every emb-indexer of the group: resolve the query to one
 * vector once (a text is embedded once, a doc_id found on whichever instance
 * holds it), ask every instance with that vector under KNN_SCATTER_TIMEOUT_MS,
 * merge the top-k (lib/knn/scatter.ts). An instance that does not answer
 * costs the answer its partitions, named in `partial`; only when none answers
 * is the query an error.
 */

/** A 4xx about the query itself (the same for every instance): the user's to fix, answered as is. 429 is the instance's load, not the query. */
const isQueryError = (call: Call<unknown>) => call.err instanceof UpstreamError && call.err.kind === "http" && (call.err.status ?? 0) >= 400 && (call.err.status ?? 0) < 500 && call.err.status !== 429;
const status = (call: Call<unknown>) => (call.err instanceof UpstreamError ? call.err.status : undefined);
const errorCode = (call: Call<unknown>) => ((call.err as UpstreamError | undefined)?.body as { error?: { code?: unknown } } | null | undefined)?.error?.code;

interface Resolved {
  vector: number[];
}

/** The text's or doc_id's unit vector from the indexers' POST /knn/resolve. */
async function resolve(set: IndexerSet, q: KnnQuery, timeoutMs: number, signal: AbortSignal): Promise<Resolved> {
  const { instances } = set;
  if (q.doc_id !== undefined) {
    // A doc_id is held by one instance: ask all at once, the first that has it answers.
    const calls = instances.map((t) => callIndexer<Resolved>(t, "/knn/resolve", { method: "POST", body: { doc_id: q.doc_id } }, timeoutMs, signal));
    const found = await firstOk(calls);
    if (found) return found;
    const done = await Promise.all(calls);
    const refused = done.find((c) => isQueryError(c) && errorCode(c) !== "unknown_doc_id");
    if (refused) throw toApiError(refused.err, "indexer");
    const silent = done.flatMap((c, i) => (errorCode(c) === "unknown_doc_id" ? [] : [`${redactUrl(instances[i]!.instance)} ${failureText(c)}`]));
    if (silent.length === 0) throw new ApiError("unknown_doc_id", `no indexer holds a document with doc_id ${JSON.stringify(q.doc_id)}`);
    throw new ApiError("upstream_unreachable", `no indexer that answered holds doc_id ${JSON.stringify(q.doc_id)}, and the one holding it may be among those that did not: ${silent.join("; ")}`);
  }
  // A text is embedded once: one instance at a time, the next when one fails. Start at a rotating instance to spread the embedding work.
  const start = rotation++ % instances.length;
  const failures: string[] = [];
  for (let i = 0; i < instances.length; i++) {
    const t = instances[(start + i) % instances.length]!;
    const call = await callIndexer<Resolved>(t, "/knn/resolve", { method: "POST", body: { text: q.text } }, Math.max(timeoutMs, consoleConfig().upstreamTimeoutMs), signal);
    if (call.ok && isVector(call.body)) return { vector: call.body.vector };
    if (signal.aborted) break;
    // The text's own problems (too long for the model, a dimension the index does not hold) are the same everywhere.
    if (isQueryError(call) && status(call) !== 404) throw toApiError(call.err, "indexer");
    failures.push(`${redactUrl(t.instance)} ${failureText(call)}`);
  }
  const last = failures.at(-1) ?? "no indexer";
  throw new ApiError("upstream_unreachable", `no indexer could embed the text (${failures.length > 1 ? failures.join("; ") : last})`);
}
let rotation = 0;

const isVector = (b: unknown): b is Resolved => Array.isArray((b as Resolved | null)?.vector) && (b as Resolved).vector.every((x) => typeof x === "number");

/** The first call that succeeds with a vector, or null once all are done without one. */
function firstOk(calls: Promise<Call<Resolved>>[]): Promise<Resolved | null> {
  return new Promise((done) => {
    let left = calls.length;
    if (left === 0) done(null);
    for (const c of calls) {
      void c.then((call) => {
        if (call.ok && isVector(call.body)) done({ vector: call.body.vector });
        else if (--left === 0) done(null);
      });
    }
  });
}

/** The body each instance gets: the query with its vector in place of a doc_id or text. */
function vectorQuery(q: KnnQuery, vector: number[]) {
  const { doc_id, text: _text, ...rest } = q;
  void _text;
  const exclude = doc_id !== undefined && !q.include_self ? doc_id : q.exclude_doc_id;
  return { ...rest, vector, ...(exclude !== undefined ? { exclude_doc_id: exclude } : {}) };
}

/** The console's answer to a kNN query: every instance asked, the answers merged, what is missing named. */
export async function scatterKnnQuery(q: KnnQuery, signal: AbortSignal): Promise<KnnAnswer> {
  const started = performance.now();
  const timeoutMs = consoleConfig().knnScatterTimeoutMs;
  const set = await indexerSet();
  const vector = q.vector ?? (await resolve(set, q, timeoutMs, signal)).vector;
  const body = vectorQuery(q, vector);
  const calls = await Promise.all(set.instances.map((t) => callIndexer<unknown>(t, "/knn/query", { method: "POST", body }, timeoutMs, signal)));
  const outcomes = outcomesOf(set, calls, knnAnswerSchema);
  if (signal.aborted) throw new ApiError("client_closed", "the client went away");
  if (!outcomes.some((o) => o.result.ok)) throw noAnswer(calls, set);
  const merged = mergeAnswers(outcomes, q.k, { topicPartitions: set.topicPartitions, timeoutMs });
  return { ...merged, took_ms: Math.round((performance.now() - started) * 1000) / 1000 };
}

/** The error when no instance answered: the query's own 4xx if that is why, else which instances failed how. */
function noAnswer(calls: Call<unknown>[], set: IndexerSet): ApiError {
  const refused = calls.find(isQueryError);
  if (refused) return toApiError(refused.err, "indexer") as ApiError;
  const busy = calls.find((c) => status(c) === 429);
  if (busy && calls.every((c) => status(c) === 429)) return toApiError(busy.err, "indexer") as ApiError;
  // One instance (INDEXER_URL, or a group of one): its own error, as before the group.
  if (calls.length === 1 && !calls[0]!.timedOut && calls[0]!.err instanceof UpstreamError) return toApiError(calls[0]!.err, "indexer") as ApiError;
  const what = calls.map((c, i) => `${redactUrl(set.instances[i]!.instance)} ${failureText(c)}`).join("; ");
  if (calls.every((c) => c.timedOut)) return new ApiError("upstream_timeout", `no indexer answered within ${consoleConfig().knnScatterTimeoutMs} ms (${what})`);
  return new ApiError(calls.some((c) => c.ok || (c.err instanceof UpstreamError && c.err.kind === "http")) ? "upstream_failed" : "upstream_unreachable", `no indexer answered (${what})`);
}
