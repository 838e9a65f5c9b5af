/**
 * npm run tail -- <stream> [--url http://127.0.0.1:3000] [--once] [--token-file path]
 *
 * Prints a console SSE stream's events, one JSON line each (`{id, event, data}`),
 * using eventsource-parser; reconnects with Last-Event-ID after a drop, waiting
 * the `retry:` delay the server sent. Streams: infermesh, vectorizer,
 * embed-worker, spark, indexer, lag, dlq. With CONSOLE_TOKEN on the console it
 * sends `Authorization: Bearer`, the token read from --token-file or else from
 * CONSOLE_TOKEN in the environment (the shell that ran `npm start` has it) —
 * never from the command line, where other users of the machine can read it.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createParser } from "eventsource-parser";
import { parseEnv } from "../lib/config/env";
import { loadOrExit } from "../lib/config/load";

const STREAMS = ["infermesh", "vectorizer", "embed-worker", "spark", "indexer", "lag", "dlq"];

const env = loadOrExit((e) => parseEnv(["CONSOLE_TOKEN", "CONSOLE_PORT"], e));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: "string", default: `http://127.0.0.1:${env.CONSOLE_PORT}` }, once: { type: "boolean", default: false }, "token-file": { type: "string" } },
});
const stream = positionals[0];
if (!stream || !STREAMS.includes(stream)) {
  console.error(`usage: npm run tail -- <${STREAMS.join("|")}> [--url URL] [--once] [--token-file FILE]`);
  process.exit(2);
}
const token = values["token-file"] ? readFileSync(values["token-file"], "utf8").trim() : env.CONSOLE_TOKEN;
const url = `${values.url.replace(/\/+$/, "")}/api/${stream}/stream${values.once ? "?once=1" : ""}`;

const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());

let lastEventId: string | undefined;
let retryMs = 3_000;

async function connectOnce(): Promise<void> {
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (lastEventId) headers["last-event-id"] = lastEventId;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { headers, signal: stop.signal });
  if (res.status === 401) {
    const hint = token ? "the console refused the token" : "the console has a CONSOLE_TOKEN: set it in the environment or pass --token-file FILE";
    throw Object.assign(new Error(`HTTP 401 from ${url}: ${hint}`), { fatal: true });
  }
  // 429: the console holds as many streams as it allows (CONSOLE_SSE_MAX_*); try again when it says.
  const retryAfterSec = Number(res.headers.get("retry-after"));
  if (res.status === 429 && retryAfterSec > 0) retryMs = retryAfterSec * 1000;
  if (!res.ok || !res.body) throw Object.assign(new Error(`HTTP ${res.status} from ${url}`), { fatal: res.status >= 400 && res.status < 500 && res.status !== 429 });
  const parser = createParser({
    onEvent: (e) => {
      if (e.id) lastEventId = e.id;
      let data: unknown = e.data;
      try {
        data = JSON.parse(e.data);
      } catch {
        // Not JSON: print as text.
      }
      process.stdout.write(`${JSON.stringify({ id: e.id, event: e.event, data })}\n`);
    },
    onRetry: (ms) => (retryMs = ms),
  });
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
}

while (!stop.signal.aborted) {
  try {
    await connectOnce();
    if (values.once) break;
    console.error(`tail: stream ended; reconnecting in ${retryMs} ms`);
  } catch (err) {
    if (stop.signal.aborted) break;
    console.error(`tail: ${(err as Error).message}`);
    if ((err as { fatal?: boolean }).fatal) process.exit(1);
  }
  await new Promise((r) => setTimeout(r, retryMs));
}
