import { NextResponse, type NextRequest } from "next/server";
import { gateRequest } from "@/lib/auth/request-gate";
import { consoleConfig } from "@/lib/config/console";

/**
 * Every request but Next's static assets passes the console's gate
 * (lib/auth/request-gate.ts): Host allow-list, cross-site and JSON-only checks
 * on mutating methods, then the token when CONSOLE_TOKEN is set. The login
 * form and its API are matched too: they skip the token, not the Host and
 * cross-site checks. A null from the gate lets the request through.
 */
export function proxy(request: NextRequest): Response {
  return gateRequest(request, consoleConfig()) ?? NextResponse.next();
}

export const config = {
  matcher: ["/((?!_next/static|_next/image).*)"],
};
