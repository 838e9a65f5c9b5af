import "server-only";
import fs from "node:fs/promises";
import { supervisorStateSchema, type SupervisionReport } from "./supervisor-state";

const NOT_SUPERVISED = "not supervised by npm start";

/** True when a process with this id exists (signal 0 checks, sends nothing). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * What the launcher of `npm start` says about the processes it supervises,
 * read from the file it publishes (LAUNCHER_STATE_FILE). Without that variable
 * the console was started some other way (docker-compose, `next dev`), and the
 * report says so instead of inventing figures; a file that is missing,
 * unreadable or left by a launcher that is gone is reported the same way, with
 * the reason.
 */
export async function readSupervision(stateFile: string | undefined): Promise<SupervisionReport> {
  if (!stateFile) return { supervised: false, reason: NOT_SUPERVISED };
  let text: string;
  try {
    text = await fs.readFile(stateFile, "utf8");
  } catch {
    return { supervised: false, reason: `${NOT_SUPERVISED}: the launcher's state file is gone (the launcher stopped?)` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = supervisorStateSchema.safeParse(json);
  if (!parsed.success) return { supervised: false, reason: `${NOT_SUPERVISED}: the launcher's state file is unreadable` };
  if (!alive(parsed.data.launcher_pid)) return { supervised: false, reason: `${NOT_SUPERVISED}: its launcher (pid ${parsed.data.launcher_pid}) is gone` };
  return { supervised: true, state: parsed.data };
}
