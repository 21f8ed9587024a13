import { expect, type Locator, type Page } from '@playwright/test';
import { pathnameIs, waitForHydration } from './hydration';

/** The password policy, shown as the Password field's hint. */
export const PASSWORD_POLICY_HINT = /^Use 12 to 128 characters\./;

/**
 * /activate/<token> and /set-password/<token>, the pages that emailed links open:
 * choose a password (activating a pending account), or, when the link no longer
 * works, ask for a new one.
 */
export class PasswordLinkPage {
  readonly password: Locator;
  readonly activateButton: Locator;
  readonly setPasswordButton: Locator;
  readonly errorSummary: Locator;
  /** Shown instead of the form when the link has expired or was used. */
  readonly expiredHeading: Locator;
  readonly usernameOrEmail: Locator;
  readonly emailMeALink: Locator;

  constructor(readonly page: Page) {
    this.password = page.getByLabel('Password', { exact: true });
    this.activateButton = page.getByRole('button', { name: 'Activate account', exact: true });
    this.setPasswordButton = page.getByRole('button', { name: 'Set password', exact: true });
    this.errorSummary = page.getByRole('alert').filter({ hasText: 'There is a problem' });
    this.expiredHeading = page.getByRole('heading', {
      level: 1,
      name: 'This link has expired or has already been used',
    });
    this.usernameOrEmail = page.getByLabel('Username or email', { exact: true });
    this.emailMeALink = page.getByRole('button', { name: 'Email me a link', exact: true });
  }

  /** "Welcome to <organisation>": the heading of a working welcome link. */
  welcomeHeading(organisation: string): Locator {
    return this.page.getByRole('heading', { level: 1, name: `Welcome to ${organisation}`, exact: true });
  }

  /** Opens a link from an email: only the path is used, on the test server. */
  async open(link: string): Promise<void> {
    const url = new URL(link);
    await this.page.goto(url.pathname + url.search);
  }

  /** The link works: the password form is showing and checks the policy as it is typed. */
  async expectActivationForm(organisation: string): Promise<void> {
    await expect(this.page).toHaveURL((url) => url.pathname.startsWith('/activate/'));
    await expect(this.welcomeHeading(organisation)).toBeVisible();
    await waitForHydration(this.page);
  }

  async expectExpired(): Promise<void> {
    await expect(this.expiredHeading).toBeVisible();
    await expect(this.usernameOrEmail).toBeVisible();
    await expect(this.emailMeALink).toBeVisible();
  }

  async activate(password: string): Promise<void> {
    await this.password.fill(password);
    await this.activateButton.click();
  }

  /** On the expired-link page: asks for a fresh link. */
  async askForNewLink(login: string): Promise<void> {
    await this.usernameOrEmail.fill(login);
    await this.emailMeALink.click();
  }
}

/** /forgotten-password */
export class ForgottenPasswordPage {
  readonly heading: Locator;
  readonly usernameOrEmail: Locator;
  readonly emailMeALink: Locator;
  /** The same answer whether or not an account matched. */
  readonly sentNotice: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Forgotten password' });
    this.usernameOrEmail = page.getByLabel('Username or email', { exact: true });
    this.emailMeALink = page.getByRole('button', { name: 'Email me a link', exact: true });
    this.sentNotice = page.getByRole('status').filter({
      hasText: 'If an account uses that username or email address, we have sent it an email',
    });
  }

  async open(): Promise<void> {
    await this.page.goto('/forgotten-password');
    await expect(this.heading).toBeVisible();
  }

  async expectSent(): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs('/forgotten-password'));
    await expect(this.heading).toBeVisible();
    await expect(this.sentNotice).toBeVisible();
  }
}
