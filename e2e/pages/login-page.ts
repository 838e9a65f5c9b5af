import { expect, type Locator, type Page } from "@playwright/test";
import { ConsolePage } from "./console-page";

/** The login form (`/login`), shown when CONSOLE_TOKEN is set. */
export class LoginPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/login", "login-form");
  }

  /** Where the browser is: /login, with the page it asked for in `next`. */
  async expectAt(next: string) {
    await expect(this.page.getByTestId(this.testId)).toBeVisible();
    const url = new URL(this.page.url());
    expect(url.pathname).toBe("/login");
    expect(url.searchParams.get("next")).toBe(next);
  }

  async logIn(token: string) {
    await this.page.getByTestId("login-token").fill(token);
    // Enabled once the page is hydrated: before that a click would post a form body.
    await expect(this.page.getByTestId("login-submit")).toBeEnabled();
    await this.page.getByTestId("login-submit").click();
  }

  get error(): Locator {
    return this.page.getByTestId("login-error");
  }
}
