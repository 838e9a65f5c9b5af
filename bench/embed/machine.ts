/**
 * What the machine was doing while a bench part ran. The 2 cores are shared
 * (other engineers' tests, the broker), so each part records the load average
 * and — on Linux — how many cores other processes kept busy: all busy CPU time
 * from /proc/stat minus the CPU time of the bench's own processes.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import path from "node:path";

/** Jiffies per second: USER_HZ, 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Busy CPU time of the whole machine so far (all cores), in ms; undefined off Linux. */
function machineBusyMs(): number | undefined {
  const line = readText("/proc/stat")?.split("\n")[0];
  if (!line?.startsWith("cpu ")) return undefined;
  // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * (1000 / USER_HZ);
}

/** CPU time (user + system) of another process so far, in ms; undefined off Linux or once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields after the command name (which may hold spaces, so split after its ')'): utime is the 14th field, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * (1000 / USER_HZ);
}

/** Peak RSS (VmHWM) of another process so far, in MB; undefined off Linux. */
export function processPeakRssMb(pid: number): number | undefined {
  const m = /VmHWM:\s+(\d+) kB/.exec(readText(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) / 1024 : undefined;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export interface LoadReport {
  seconds: number;
  load_avg_1m: { start: number; mean: number; max: number };
  /** Cores other processes kept busy on average (machine busy time − the bench's own), when measurable. */
  other_processes_cores?: number;
  note: string;
}

/** Start watching; `stop(ownCpuMs)` takes the CPU time the bench's processes used meanwhile. */
export function watchLoad(): { stop(ownCpuMs: number): LoadReport } {
  const started = performance.now();
  const busy0 = machineBusyMs();
  const own0 = process.cpuUsage();
  const samples = [loadavg()[0] ?? 0];
  // Every 5 s: the 1-minute load average moves slowly, more often adds nothing.
  const timer = setInterval(() => samples.push(loadavg()[0] ?? 0), 5000);
  timer.unref();
  return {
    stop(childrenCpuMs) {
      clearInterval(timer);
      samples.push(loadavg()[0] ?? 0);
      const wallMs = performance.now() - started;
      const self = process.cpuUsage(own0);
      const busy1 = machineBusyMs();
      const others = busy0 !== undefined && busy1 !== undefined ? (busy1 - busy0 - childrenCpuMs - (self.user + self.system) / 1000) / wallMs : undefined;
      return {
        seconds: Math.round(wallMs / 1000),
        load_avg_1m: { start: r2(samples[0]!), mean: r2(samples.reduce((a, b) => a + b, 0) / samples.length), max: r2(Math.max(...samples)) },
        ...(others !== undefined ? { other_processes_cores: r2(Math.max(0, others)) } : {}),
        note: "the load average includes the bench itself (about 1 busy core); other_processes_cores excludes it",
      };
    },
  };
}

function packageVersion(root: string, name: string): string {
  const text = readText(path.join(root, "node_modules", name, "package.json"));
  return text ? ((JSON.parse(text) as { version?: string }).version ?? "?") : "not installed";
}

export function machineInfo(root: string) {
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    total_mem_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    onnxruntime_node: packageVersion(root, "onnxruntime-node"),
    tokenizers: packageVersion(root, "tokenizers"),
    date: new Date().toISOString(),
  };
}
