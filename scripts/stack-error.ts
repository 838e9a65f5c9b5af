/**
 * A failure of the stack's own machinery (missing Java, a taken port, a broker that
 * would not start) that an operator can act on. `message` is one line saying what
 * is wrong and how to fix it; `hint` carries supporting detail, such as the last
 * lines a process printed, for the launcher to show beneath it.
 */
export class StackError extends Error {
  override name = "StackError";
  readonly hint?: string;

  constructor(message: string, hint?: string) {
    super(message.replace(/\s*\n\s*/g, " "));
    if (hint !== undefined && hint.trim() !== "") this.hint = hint;
  }
}
