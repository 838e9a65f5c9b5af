/**
 * The Monitoring page's embed-worker panel lists each embedding-service
 * instance as the worker's client sees it (react-dom/server, as the page renders it).
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { expect, it } from "vitest";
import { UpstreamsTable } from "@/components/monitoring/upstreams-table";

it("one row per instance: its URL, up or ejected, and its figures", () => {
  const html = renderToStaticMarkup(
    createElement(UpstreamsTable, {
      upstreams: [
        { url: "http://127.0.0.1:9000", state: "up", outstanding: 2, requests: 1234, failures: 0, ejections: 0, p50_ms: 484.1, p99_ms: 1664.6 },
        { url: "http://127.0.0.1:9001", state: "ejected", outstanding: 0, requests: 5, failures: 1, ejections: 1, p50_ms: null, p99_ms: null },
      ],
    }),
  );
  const row = (i: number) => new RegExp(`data-testid="embed-worker-upstream-${i}"[^>]*>(.*?)</tr>`).exec(html)?.[1]?.replace(/<[^>]+>/g, "|").replace(/\|+/g, "|");
  expect(row(0)).toBe("|http://127.0.0.1:9000|up|2|1,234|0|0|484 ms / 1.66 s|");
  expect(row(1)).toBe("|http://127.0.0.1:9001|ejected|0|5|1|1|— / —|");
  expect(html).toMatch(/data-testid="embed-worker-upstream-state-1"[^>]*data-tone="down"/);
});
