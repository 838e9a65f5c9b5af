import { BadEmbeddingResponseError, EmbeddingRejectedError, EmbeddingUnavailableError, type EmbeddingClient } from "../../lib/embedding";
import type { Logger } from "../../lib/log";
import { Backoff } from "./backoff";
import type { Health } from "./health";
import type { WorkerStats } from "./stats";

/** The fate of one text: a vector to emit, or the DLQ reason it cannot have one. */
export type EmbedOutcome =
  | { ok: true; vector: number[]; /** The vector's JSON text from the upstream, when it is emitted unchanged. */ vectorJson?: string; model: string }
  | { ok: false; reason: "provider_rejected" | "bad_vector" | "unprocessable"; error: string; attempts: number; model: string };

/** Tries of a batch that fails for an unknown reason (not an outage, not a rejection) before it is split, and of a single text before it is dead-lettered. */
const UNKNOWN_FAILURE_TRIES = 3;

export interface ResilientEmbedOptions {
  normalize: boolean;
  /** Dimension every vector must have; learnt from the first answer when undefined. */
  expectedDim?: number;
  signal: AbortSignal;
}

/**
 * Embed texts so that every one ends with a vector or a DLQ reason — never an
 * empty vector, never a record dead-lettered because of an outage:
 *  - unavailable (connection refused, timeouts, 429/5xx after the client's own
 *    retries) and configuration rejections (401/403/404: no input is at fault)
 *    are waited out with capped backoff while /health says `degraded`;
 *  - a rejected input (400/422), an oversized request (413) or a bad response
 *    (NaN, wrong count) is narrowed down by splitting the batch in halves, so
 *    only the culprit goes to the DLQ and its neighbours are embedded;
 *  - any other failure (a bug, an answer no rule covers) is tried a few times
 *    with backoff, then narrowed down the same way: the text that keeps
 *    failing alone goes to the DLQ as `unprocessable`.
 * Only aborting `signal` (shutdown) ends it early, by rejecting.
 */
export class ResilientEmbedder {
  private readonly backoff = new Backoff();
  private expectedDim: number | undefined;

  constructor(
    private readonly client: EmbeddingClient,
    private readonly health: Health,
    private readonly stats: WorkerStats,
    private readonly log: Logger,
    private readonly opts: ResilientEmbedOptions,
  ) {
    this.expectedDim = opts.expectedDim;
  }

  async embed(texts: string[]): Promise<EmbedOutcome[]> {
    let unknownFailures = 0;
    for (;;) {
      this.opts.signal.throwIfAborted();
      try {
        const res = await this.client.embed(texts, this.opts.signal);
        if (res.attempts > 0) this.stats.recordCall(res.rttMs);
        this.health.recover("embedding");
        this.backoff.reset();
        return res.vectors.map((v, i) => this.check(v, res.vectorsJson?.[i], res.model));
      } catch (err) {
        if (this.opts.signal.aborted) throw this.opts.signal.reason;
        this.stats.failures++;
        if (err instanceof EmbeddingUnavailableError || (err instanceof EmbeddingRejectedError && err.kind === "config")) {
          this.health.degrade("embedding", err.message);
          this.log.warn({ err: { message: err.message }, count: texts.length }, "embedding service unavailable; waiting");
          await this.backoff.wait(this.opts.signal);
          continue;
        }
        if (err instanceof EmbeddingRejectedError || err instanceof BadEmbeddingResponseError) {
          this.health.recover("embedding");
          if (texts.length === 1) return [this.failure(err)];
          const half = Math.ceil(texts.length / 2);
          return [...(await this.embed(texts.slice(0, half))), ...(await this.embed(texts.slice(half)))];
        }
        const message = oneLine(err instanceof Error ? err.message : String(err));
        if (++unknownFailures < UNKNOWN_FAILURE_TRIES) {
          this.log.warn({ err: { message }, count: texts.length, attempt: unknownFailures }, "embedding failed for an unknown reason; trying again");
          await this.backoff.wait(this.opts.signal);
          continue;
        }
        if (texts.length === 1) return [{ ok: false, reason: "unprocessable", error: message, attempts: unknownFailures, model: this.client.model }];
        const half = Math.ceil(texts.length / 2);
        return [...(await this.embed(texts.slice(0, half))), ...(await this.embed(texts.slice(half)))];
      }
    }
  }

  private failure(err: EmbeddingRejectedError | BadEmbeddingResponseError): EmbedOutcome {
    return { ok: false, reason: err.reason, error: oneLine(err.message), attempts: 1, model: this.client.model };
  }

  /** The vector as it will be emitted, or why it cannot be. */
  private check(vector: number[], vectorJson: string | undefined, model: string): EmbedOutcome {
    this.expectedDim ??= vector.length;
    if (vector.length !== this.expectedDim) {
      return { ok: false, reason: "bad_vector", error: `vector has ${vector.length} dimensions, expected ${this.expectedDim}`, attempts: 1, model };
    }
    if (!this.opts.normalize) return { ok: true, vector, vectorJson, model };
    const norm = Math.hypot(...vector);
    if (!(norm > 0) || !Number.isFinite(norm)) {
      return { ok: false, reason: "bad_vector", error: "vector has zero length and cannot be normalised", attempts: 1, model };
    }
    return { ok: true, vector: vector.map((x) => x / norm), model };
  }
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim().slice(0, 500);
