/**
 * Chaos under a running `npm start` (the same run as `npm run chaos`): steady
 * input while every process is killed with SIGKILL in turn; each comes back by
 * itself, and every record ends up exactly once in Kafka `embeddings`, Parquet
 * and the index. A few hundred records; about three minutes on 2 cores.
 */
import { expect, it } from "vitest";
import { chaosTargets, recoveryTable, runChaos } from "../harness/chaos";

it("kill -9 of each process under steady input: each comes back by itself, every record exactly once", { timeout: 600_000 }, async () => {
  const report = await runChaos({ ratePerSec: 5, say: (line) => process.stdout.write(`chaos: ${line}\n`) });
  process.stdout.write(`${recoveryTable(report)}\n`);

  expect(report.recoveries.map((r) => r.process)).toEqual([...chaosTargets]);
  for (const r of report.recoveries) {
    expect(r.new_pid).not.toBe(r.killed_pid);
    expect(report.restarts[r.process]).toBeGreaterThanOrEqual(1);
  }
  expect(report.records).toBeGreaterThan(100);
  const e = report.exactly_once;
  expect(e.embeddings).toMatchObject({ missing: 0, duplicated: 0, records: report.records });
  expect(e.parquet).toMatchObject({ missing: 0, duplicated: 0, rows: report.records });
  expect(e.index.total_ids).toBe(e.index.expected);
  expect(e.dlq).toEqual({ parse: 0, embed: 0 });
  expect(report.clean_stop).toBe(true);
});
