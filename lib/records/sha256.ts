import { createHash } from "node:crypto";

/** SHA-256 of the string's UTF-8 bytes. */
export function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** SHA-256 of the string's UTF-8 bytes as 64 lowercase hex digits. */
export function sha256Hex(text: string): string {
  return sha256(text).toString("hex");
}
