export interface Build {
  root: string;
  /** Absolute output directory, the build's own. */
  outDir: string;
  /** Output name (`<name>.mjs`) → its TypeScript entry, relative to root. */
  bundles: Record<string, string>;
}

/** scripts/start.ts into .build/launcher/start.mjs, which `npm start` runs (scripts/bootstrap.mjs). */
export declare function launcherBuild(root: string): Build;

export declare class BuildError extends Error {}

/** Null when the output is current: same options, every output there, every source it read unchanged. Otherwise why not. */
export declare function staleness(b: Build): string | null;

/** Bundle every entry into b.outDir and write the stamp; returns how many source files it read. Throws BuildError. */
export declare function build(b: Build): number;
