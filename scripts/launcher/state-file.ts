import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { SupervisedProcessState, SupervisorState } from "../../lib/health/supervisor-state";

/**
 * The launcher's published state (lib/health/supervisor-state.ts): one small
 * JSON file, written beside itself and renamed into place on every change, so
 * the console never reads half a file. Its path reaches the children as
 * LAUNCHER_STATE_FILE.
 */
export class StateFile {
  private readonly startedTs = Date.now();

  constructor(
    readonly file: string,
    private readonly crashLoop: { restarts: number; windowMs: number },
    private readonly processes: () => SupervisedProcessState[],
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
  }

  write(): void {
    const state: SupervisorState = {
      launcher_pid: process.pid,
      started_ts: this.startedTs,
      updated_ts: Date.now(),
      crash_loop: { restarts: this.crashLoop.restarts, window_sec: this.crashLoop.windowMs / 1000 },
      processes: this.processes(),
    };
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(state, null, 1)}\n`);
      renameSync(tmp, this.file);
    } catch {
      // The state is for display; a full disk must not take the launcher down.
      rmSync(tmp, { force: true });
    }
  }

  /** Removed when the stack stops: a console started later by hand is not supervised. */
  remove(): void {
    rmSync(this.file, { force: true });
  }
}
