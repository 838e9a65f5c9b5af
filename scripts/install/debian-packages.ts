import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { inheritedEnv } from "../../lib/config/load";
import { StackError } from "../stack-error";

export interface DebianPackage {
  /** Debian package name, installed with apt-get. */
  name: string;
  /** The file whose presence means the package is installed. */
  binary: string;
  /** What it is needed for, for the message when it cannot be installed. */
  neededFor: string;
}

const onPath = (bin: string) => (bin.startsWith("/") ? existsSync(bin) : spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0);

/**
 * Install the missing packages with apt-get (as root, or through sudo when it
 * needs no password). One clear line when that cannot be done here.
 */
export function ensureDebianPackages(packages: DebianPackage[], say: (line: string) => void): void {
  const missing = packages.filter((p) => !onPath(p.binary));
  if (missing.length === 0) return;
  const names = missing.map((p) => p.name);
  const manual = `apt-get install -y ${names.join(" ")}`;
  if (!onPath("apt-get")) {
    throw new StackError(`${names.join(", ")} missing (needed for ${missing.map((p) => p.neededFor).join(", ")}) and no apt-get here: install ${names.join(" ")} with your package manager`);
  }
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : spawnSync("sudo", ["-n", "true"]).status === 0 ? ["sudo", "-n"] : undefined;
  if (!sudo) throw new StackError(`${names.join(", ")} missing (needed for ${missing.map((p) => p.neededFor).join(", ")}): run \`sudo ${manual}\``);
  say(`installing Debian packages: ${names.join(" ")}`);
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args];
    return spawnSync(cmd!, rest, { stdio: "inherit", env: { ...inheritedEnv(), DEBIAN_FRONTEND: "noninteractive" } });
  };
  run(["apt-get", "update", "-q"]);
  const result = run(["apt-get", "install", "-y", "-q", ...names]);
  const still = missing.filter((p) => !onPath(p.binary));
  if (result.status !== 0 || still.length > 0) {
    throw new StackError(`could not install ${still.map((p) => p.name).join(", ") || names.join(", ")} with apt-get (see above): run \`${manual}\` by hand`);
  }
}
