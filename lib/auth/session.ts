import "server-only";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ConsoleConfig } from "@/lib/config/console";
import { consoleLog } from "@/lib/upstreams/log";
import { processShared } from "./shared-state";

/**
 * Login sessions of the console.
 *
 * The cookie is `v1.<sid>.<issuedAt>.<expiresAt>.<mac>`: a random session id,
 * issue and expiry times in epoch seconds, and an HMAC-SHA256 over the rest
 * under a key derived from CONSOLE_TOKEN. It never holds the token; changing the
 * token changes the key and so ends every session. Logout adds the session id
 * to a revocation list kept in memory (shared by proxy and routes) and in
 * `<stateDir>/revoked-sessions.json`, so a restart does not bring it back; an
 * entry is dropped once its session would have expired anyway, which bounds
 * the list by the logins of one session lifetime.
 */
export const SESSION_COOKIE = "embedline_session";

export interface SessionClaims {
  sid: string;
  /** Epoch seconds. */
  issuedAt: number;
  /** Epoch seconds; the session is valid strictly before it. */
  expiresAt: number;
}

type SessionConfig = Pick<ConsoleConfig, "consoleToken" | "access">;

/** A clock ahead of ours by up to this much still issues usable sessions (one process signs and checks, so this is slack only). */
const CLOCK_SKEW_SEC = 60;
const SID = /^[A-Za-z0-9_-]{22}$/;
const FORMAT = /^v1\.([A-Za-z0-9_-]{22})\.(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

const keys = new Map<string, Buffer>();
function sessionKey(token: string): Buffer {
  let key = keys.get(token);
  if (!key) {
    key = createHmac("sha256", token).update("embedline console session key v1").digest();
    keys.clear(); // one token per process; a changed one replaces the old key
    keys.set(token, key);
  }
  return key;
}

function mac(token: string, payload: string): string {
  return createHmac("sha256", sessionKey(token)).update(payload).digest("base64url");
}

/** A new session of `ttlSec` seconds and its cookie value. */
export function issueSession(token: string, ttlSec: number, nowMs = Date.now()): { value: string; claims: SessionClaims } {
  const sid = randomBytes(16).toString("base64url");
  const issuedAt = Math.floor(nowMs / 1000);
  const claims = { sid, issuedAt, expiresAt: issuedAt + ttlSec };
  const payload = `v1.${sid}.${claims.issuedAt}.${claims.expiresAt}`;
  return { value: `${payload}.${mac(token, payload)}`, claims };
}

/**
 * The claims of a cookie value signed under `token` and not expired, or null.
 * The MAC is compared in constant time. A session signed with a longer lifetime
 * than today's CONSOLE_SESSION_TTL ends at issue time + today's TTL.
 * Does not look at revocations (see `verifySession`).
 */
export function readSession(value: string, token: string, ttlSec: number, nowMs = Date.now()): SessionClaims | null {
  const m = FORMAT.exec(value);
  if (!m) return null;
  const [, sid, iat, exp, sent] = m as unknown as [string, string, string, string, string];
  const want = mac(token, `v1.${sid}.${iat}.${exp}`);
  if (!timingSafeEqual(Buffer.from(sent), Buffer.from(want))) return null;
  const now = Math.floor(nowMs / 1000);
  const issuedAt = Number(iat);
  const expiresAt = Math.min(Number(exp), issuedAt + ttlSec);
  if (issuedAt > now + CLOCK_SKEW_SEC || now >= expiresAt) return null;
  return { sid, issuedAt, expiresAt };
}

/** A signed, unexpired session that was not logged out. */
export function verifySession(value: string, cfg: SessionConfig, nowMs = Date.now()): SessionClaims | null {
  if (!cfg.consoleToken) return null;
  const claims = readSession(value, cfg.consoleToken, cfg.access.sessionTtlSec, nowMs);
  if (!claims || revocations(cfg.access.stateDir).isRevoked(claims.sid, nowMs)) return null;
  return claims;
}

export const REVOCATIONS_FILE = "revoked-sessions.json";

interface RevocationsFile {
  version: 1;
  /** Session id → the epoch second its session would have expired. */
  revoked: Record<string, number>;
}

/**
 * Logged-out sessions of one state directory. Loaded from its file on first use
 * (synchronously: the proxy decides without awaiting); a missing file is an
 * empty list, a corrupt one too, with one warning. Written with a temporary
 * file and a rename, so a crash mid-write leaves the old list whole.
 */
export class RevocationStore {
  readonly file: string;
  private revoked: Map<string, number> | undefined;

  constructor(
    readonly stateDir: string,
    private readonly warn: (fields: Record<string, unknown>, msg: string) => void = (f, m) => consoleLog("auth")().warn(f, m),
  ) {
    this.file = path.join(stateDir, REVOCATIONS_FILE);
  }

  private load(): Map<string, number> {
    if (this.revoked) return this.revoked;
    const map = new Map<string, number>();
    let text: string | undefined;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.warn({ file: this.file, err: String(err) }, "revoked sessions file unreadable; starting with none revoked");
    }
    if (text !== undefined) {
      try {
        const parsed = JSON.parse(text) as Partial<RevocationsFile>;
        if (parsed.version !== 1 || typeof parsed.revoked !== "object" || parsed.revoked === null) throw new Error("not a version 1 revocation list");
        const now = Math.floor(Date.now() / 1000);
        for (const [sid, exp] of Object.entries(parsed.revoked)) {
          if (SID.test(sid) && typeof exp === "number" && exp > now) map.set(sid, exp);
        }
      } catch (err) {
        this.warn({ file: this.file, err: String(err) }, "revoked sessions file is corrupt; starting with none revoked");
      }
    }
    this.revoked = map;
    return map;
  }

  isRevoked(sid: string, nowMs = Date.now()): boolean {
    const exp = this.load().get(sid);
    return exp !== undefined && exp > Math.floor(nowMs / 1000);
  }

  /** Revoke a session until it would have expired; persists the list (throws when the file cannot be written; memory is updated first). */
  revoke(claims: SessionClaims, nowMs = Date.now()): void {
    const map = this.load();
    const now = Math.floor(nowMs / 1000);
    for (const [sid, exp] of map) if (exp <= now) map.delete(sid);
    if (claims.expiresAt > now) map.set(claims.sid, claims.expiresAt);
    const body: RevocationsFile = { version: 1, revoked: Object.fromEntries(map) };
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(body), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  get size(): number {
    return this.load().size;
  }
}

/** The process's store for `stateDir`, the same object in the proxy's bundle and the routes'. */
export function revocations(stateDir: string): RevocationStore {
  const stores = processShared("revocations", () => new Map<string, RevocationStore>());
  let store = stores.get(stateDir);
  if (!store) stores.set(stateDir, (store = new RevocationStore(stateDir)));
  return store;
}

/** The Set-Cookie value of a new session. `Secure` when the browser reached the console over TLS. */
export function sessionCookie(value: string, maxAgeSec: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${secure ? "; Secure" : ""}`;
}

/** The Set-Cookie value that removes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}
