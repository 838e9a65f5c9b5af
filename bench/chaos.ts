/**
 * `npm run chaos`: start the stack as `npm start` does (free ports, a throwaway
 * DATA_DIR under data/test/), feed agent.results steadily, kill -9 each process
 * in turn (parse worker, embed-worker, indexer, embedding service, broker,
 * console), wait for each to come back by itself, and check that every record
 * is exactly once in Kafka `embeddings` (read_committed), in Parquet and in the
 * index. Prints the time to recover per process and writes them to
 * bench/results/chaos.json. Exits 1 when a record was lost or duplicated, a
 * process did not come back, or the stack did not stop cleanly.
 *
 *   npm run chaos [-- --rate=5]        (records produced per second)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { repoRoot } from "../scripts/launcher";
import { recoveryTable, runChaos } from "../tests/harness/chaos";

async function main(): Promise<number> {
  const rateArg = process.argv.slice(2).find((a) => a.startsWith("--rate="));
  const ratePerSec = rateArg ? Number(rateArg.slice("--rate=".length)) : 5;
  if (!Number.isFinite(ratePerSec) || ratePerSec <= 0) {
    process.stderr.write("embedline: --rate= takes a positive number of records per second\n");
    return 2;
  }
  const report = await runChaos({ ratePerSec });
  const out = path.join(repoRoot, "bench", "results", "chaos.json");
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ ...report, load_avg_1m: loadavg()[0] }, null, 2)}\n`);

  const e = report.exactly_once;
  process.stdout.write(`\n${recoveryTable(report)}\n\n`);
  process.stdout.write(
    `${report.records} records · embeddings ${e.embeddings.records} (${e.embeddings.missing} missing, ${e.embeddings.duplicated} duplicated) · ` +
      `parquet ${e.parquet.rows} (${e.parquet.missing} missing, ${e.parquet.duplicated} duplicated) · index ${e.index.total_ids}/${e.index.expected} · ` +
      `DLQ ${e.dlq.parse}+${e.dlq.embed} · stack start ${report.stack_start_sec.toFixed(0)} s · total ${report.duration_sec.toFixed(0)} s\n`,
  );
  process.stdout.write(`exactly once: ${e.ok ? "yes" : "NO"} · clean stop: ${report.clean_stop ? "yes" : "NO"} · written to ${path.relative(repoRoot, out)}\n`);
  return e.ok && report.clean_stop ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`embedline: chaos run failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
