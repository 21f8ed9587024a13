import { expect, type Locator, type Page } from '@playwright/test';
import { pathnameIs, type PageOptions } from './hydration';

/** /sign-in */
export class SignInPage {
  readonly heading: Locator;
  readonly usernameOrEmail: Locator;
  readonly password: Locator;
  readonly signInButton: Locator;
  /** The summary of what went wrong with the last attempt. */
  readonly error: Locator;

  constructor(
    readonly page: Page,
    _options: PageOptions = {},
  ) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Sign in' });
    this.usernameOrEmail = page.getByLabel('Username or email', { exact: true });
    this.password = page.getByLabel('Password', { exact: true });
    this.signInButton = page.getByRole('button', { name: 'Sign in', exact: true });
    this.error = page.getByRole('alert');
  }

  async open(): Promise<void> {
    await this.page.goto('/sign-in');
    await this.expectShown();
  }

  /**
   * The sign-in page is showing. Its form is server-rendered (no island), so
   * with or without JavaScript there is nothing to wait for.
   */
  async expectShown(): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs('/sign-in'));
    await expect(this.heading).toBeVisible();
  }

  async signIn(login: string, password: string): Promise<void> {
    await this.usernameOrEmail.fill(login);
    await this.password.fill(password);
    await this.signInButton.click();
  }
}
