import os from "node:os";
import path from "node:path";

/**
 * The model cache: where the bundled models' ONNX weights and tokenizers are
 * extracted from their Maven jars. Outside the repo, like ~/.m2, so clones and
 * CI runs on one machine download and extract each model once.
 */
export function modelCacheDir(configured: string | undefined): string {
  return path.resolve(configured ?? path.join(os.homedir(), ".cache", "embedline", "models"));
}
