/**
 * The second console e2e/global-setup.ts starts beside the stack's own: same
 * build, same stack, CONSOLE_TOKEN set. Its address and token reach the test
 * workers through these variables (workers inherit the setup's environment).
 */
export const TOKEN_CONSOLE = { urlVariable: "E2E_TOKEN_CONSOLE_URL", tokenVariable: "E2E_CONSOLE_TOKEN" } as const;

export function tokenConsole(): { url: string; token: string } {
  const url = process.env[TOKEN_CONSOLE.urlVariable];
  const token = process.env[TOKEN_CONSOLE.tokenVariable];
  if (!url || !token) throw new Error(`no token console: ${TOKEN_CONSOLE.urlVariable} and ${TOKEN_CONSOLE.tokenVariable} are set by e2e/global-setup.ts`);
  return { url, token };
}

/** The open console (the stack's own). */
export const openConsoleUrl = () => process.env.CONSOLE_URL ?? "http://127.0.0.1:3000";
