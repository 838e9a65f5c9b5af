"use client";

import { isLoginRequired, sendToLogin } from "@/lib/auth/login-redirect";
import { HEALTH_PATH } from "@/lib/health/client";
import type { StreamName } from "./use-stream";

export interface HubEvent {
  /** The stream's own event id. */
  id: number;
  data: string;
}

type Connection = "connecting" | "open" | "reconnecting";

interface Subscriber {
  onEvent(e: HubEvent): void;
  onConnection(c: Connection): void;
}

/** Events kept per stream so a chart mounted later starts full without asking the server again. */
const RECENT_MAX = 300;
/** After the browser gives up on a stream (a non-200 answer: 401, 429 too_many_streams, a proxy's 502), reopen after 2 s, doubling to 1 min. */
const REOPEN_FIRST_MS = 2_000;
const REOPEN_MAX_MS = 60_000;

/**
 * One EventSource per page for every stream its components watch
 * (`/api/streams?names=…`): browsers hold at most six HTTP/1.1 connections per
 * host, and one per stream would starve navigation. When the set of streams
 * changes, the connection is reopened with the cursor of what was received, so
 * nothing is replayed twice and nothing is missed.
 *
 * EventSource reconnects by itself after a network error, but gives up for
 * good on a refusal, without saying which. The hub then asks once with a plain
 * fetch: a 401 from the console's gate (session expired, logged out) sends the
 * browser to the login form; anything else is retried with a backoff.
 */
class StreamHub {
  private readonly subscribers = new Map<StreamName, Set<Subscriber>>();
  private readonly recent = new Map<StreamName, HubEvent[]>();
  private source: EventSource | null = null;
  private openNames = "";
  private connection: Connection = "connecting";
  private pending: ReturnType<typeof setTimeout> | undefined;
  private reopenMs = REOPEN_FIRST_MS;
  private reopenTimer: ReturnType<typeof setTimeout> | undefined;

  subscribe(name: StreamName, subscriber: Subscriber): () => void {
    let set = this.subscribers.get(name);
    if (!set) this.subscribers.set(name, (set = new Set()));
    set.add(subscriber);
    for (const e of this.recent.get(name) ?? []) subscriber.onEvent(e);
    subscriber.onConnection(this.connection);
    this.reconcileSoon();
    return () => {
      set.delete(subscriber);
      this.reconcileSoon();
    };
  }

  /** Components of one page mount in the same tick: open one connection for all of them. */
  private reconcileSoon() {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => this.reconcile(), 0);
  }

  private reconcile() {
    const names = [...this.subscribers].filter(([, s]) => s.size > 0).map(([n]) => n).sort();
    const key = names.join(",");
    if (key === this.openNames) return;
    clearTimeout(this.reopenTimer);
    this.source?.close();
    this.source = null;
    this.openNames = key;
    for (const n of [...this.recent.keys()]) if (!names.includes(n)) this.recent.delete(n);
    if (names.length === 0) return;
    const cursor = [...this.recent].flatMap(([n, events]) => (events.length ? [`${n}:${events.at(-1)!.id}`] : [])).join(",");
    const es = new EventSource(`/api/streams?names=${key}${cursor ? `&lastEventId=${encodeURIComponent(cursor)}` : ""}`);
    for (const name of names) es.addEventListener(name, (m) => this.deliver(name, m as MessageEvent<string>));
    es.onopen = () => {
      this.reopenMs = REOPEN_FIRST_MS;
      this.setConnection("open");
    };
    es.onerror = () => {
      this.setConnection("reconnecting");
      if (es.readyState === EventSource.CLOSED) void this.refused(es);
    };
    this.source = es;
  }

  /** The browser closed `es` for good: is it the session? Otherwise open the streams again later. */
  private async refused(es: EventSource) {
    const res = await fetch(HEALTH_PATH, { cache: "no-store", headers: { accept: "application/json" } }).catch(() => undefined);
    if (this.source !== es) return; // the page moved on meanwhile
    res?.body?.cancel().catch(() => {});
    if (res && isLoginRequired(res)) return sendToLogin();
    const delay = this.reopenMs;
    this.reopenMs = Math.min(this.reopenMs * 2, REOPEN_MAX_MS);
    this.reopenTimer = setTimeout(() => {
      this.openNames = ""; // forces reconcile() to open a new connection, with the cursor
      this.reconcile();
    }, delay);
  }

  private deliver(name: StreamName, m: MessageEvent<string>) {
    const id = Number(new RegExp(`(?:^|,)${name}:(\\d+)`).exec(m.lastEventId)?.[1] ?? NaN);
    const events = this.recent.get(name) ?? [];
    if (Number.isFinite(id) && events.length && id <= events.at(-1)!.id) return; // replayed after a reconnect
    const e = { id, data: m.data };
    events.push(e);
    if (events.length > RECENT_MAX) events.splice(0, events.length - RECENT_MAX);
    this.recent.set(name, events);
    for (const s of this.subscribers.get(name) ?? []) s.onEvent(e);
  }

  private setConnection(c: Connection) {
    this.connection = c;
    for (const set of this.subscribers.values()) for (const s of set) s.onConnection(c);
  }
}

export const streamHub = new StreamHub();
