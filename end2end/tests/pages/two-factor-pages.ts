import { expect, type Locator, type Page } from '@playwright/test';
import { pathnameIs } from './hydration';

/** /two-factor/enrol: the QR code, the key as text, and the first code to confirm. */
export class EnrolPage {
  readonly heading: Locator;
  readonly qrCode: Locator;
  /** The key to type into an app, in groups of four base32 characters. */
  readonly key: Locator;
  readonly code: Locator;
  readonly turnOnButton: Locator;
  readonly errorSummary: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Set up two-factor authentication' });
    this.qrCode = page.getByRole('img', { name: /QR code/ });
    this.key = page.getByText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    this.code = page.getByLabel('Authentication code', { exact: true });
    this.turnOnButton = page.getByRole('button', { name: 'Turn on two-factor authentication' });
    this.errorSummary = page.getByRole('alert').filter({ hasText: 'There is a problem' });
  }

  async expectShown(): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs('/two-factor/enrol'));
    await expect(this.heading).toBeVisible();
    await expect(this.qrCode).toBeVisible();
  }

  async readKey(): Promise<string> {
    return (await this.key.textContent()) ?? '';
  }

  async confirm(code: string): Promise<void> {
    await this.code.fill(code);
    await this.turnOnButton.click();
  }
}

/** /two-factor/recovery-codes: ten codes, shown once. */
export class RecoveryCodesPage {
  readonly heading: Locator;
  readonly codes: Locator;
  readonly download: Locator;
  readonly copyButton: Locator;
  readonly continueLink: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Save your recovery codes' });
    this.codes = page.getByLabel('Your recovery codes', { exact: true });
    this.download = page.getByRole('link', { name: 'Download' });
    this.copyButton = page.getByRole('button', { name: 'Copy' });
    this.continueLink = page.getByRole('link', { name: /continue$/ });
  }

  async expectShown(): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs('/two-factor/recovery-codes'));
    await expect(this.heading).toBeVisible();
  }

  async list(): Promise<string[]> {
    return (await this.codes.inputValue()).split('\n');
  }
}

/** /sign-in/code: the second step of signing in. */
export class CodeStepPage {
  readonly heading: Locator;
  readonly code: Locator;
  readonly signInButton: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Enter your authentication code' });
    this.code = page.getByLabel('Authentication code', { exact: true });
    this.signInButton = page.getByRole('button', { name: 'Sign in', exact: true });
    this.error = page.getByRole('alert');
  }

  async expectShown(): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs('/sign-in/code'));
    await expect(this.heading).toBeVisible();
  }

  async enter(code: string): Promise<void> {
    await this.expectShown();
    await this.code.fill(code);
    await this.signInButton.click();
  }
}
