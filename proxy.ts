import { NextResponse, type NextRequest } from "next/server";
import { authorize } from "@/lib/auth/token";
import { consoleConfig } from "@/lib/config/console";

/**
 * With CONSOLE_TOKEN set, every page and API needs it: a session cookie from
 * the login form, or `Authorization: Bearer` for tools. Pages redirect to the
 * login form; APIs answer 401. Unset: the console is open.
 */
export function proxy(request: NextRequest) {
  const token = consoleConfig().consoleToken;
  if (!token || authorize(request.headers, token)) return NextResponse.next();
  const { pathname, search } = request.nextUrl;
  if (pathname.startsWith("/api/")) {
    return NextResponse.json(
      { error: { code: "unauthorized", message: "log in or send Authorization: Bearer <CONSOLE_TOKEN>" } },
      { status: 401, headers: { "www-authenticate": "Bearer", "cache-control": "no-store" } },
    );
  }
  const login = new URL("/login", request.url);
  login.searchParams.set("next", `${pathname}${search}`);
  return NextResponse.redirect(login);
}

export const config = {
  // Everything but the login form, its route, Next's static assets and public files.
  matcher: ["/((?!login|api/auth/login|_next/static|_next/image|robots.txt|favicon.ico).*)"],
};
