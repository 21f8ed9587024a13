import { expect, type Locator, type Page } from '@playwright/test';
import { pathnameIs } from './hydration';

/** /users/<id>: one account, its state and the actions on it. Server-rendered. */
export class UserPage {
  /** The *Account* panel: state, kind, dates and the actions. */
  readonly account: Locator;
  readonly details: Locator;
  readonly history: Locator;
  readonly deactivateLink: Locator;
  readonly reactivateButton: Locator;
  /** What the last action did ("The account was deactivated…"). */
  readonly notice: Locator;

  constructor(readonly page: Page) {
    this.account = page.getByRole('region', { name: 'Account' });
    this.details = page.getByRole('region', { name: 'Details' });
    this.history = page.getByRole('region', { name: 'History' });
    this.deactivateLink = this.account.getByRole('link', { name: 'Deactivate', exact: true });
    this.reactivateButton = this.account.getByRole('button', { name: 'Reactivate', exact: true });
    this.notice = page.getByRole('status').filter({ hasText: /^The account was|is on its way\.$|were saved\.$/ });
  }

  heading(name: string): Locator {
    return this.page.getByRole('heading', { level: 1, name, exact: true });
  }

  async open(id: number): Promise<void> {
    await this.page.goto(`/users/${id}`);
    await expect(this.account).toBeVisible();
  }

  /** The page of account `id`, whose name is `name`, is showing. */
  async expectShown(id: number, name: string): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs(`/users/${id}`));
    await expect(this.heading(name)).toBeVisible();
  }

  /** The value given for `term` in the Account panel (e.g. "State"): each term and its value share a group. */
  fact(term: string): Locator {
    return this.account
      .locator('div')
      .filter({ has: this.page.getByRole('term').getByText(term, { exact: true }) })
      .getByRole('definition');
  }

  async expectState(state: 'Pending activation' | 'Pending: activation link expired' | 'Active' | 'Deactivated') {
    await expect(this.fact('State')).toHaveText(state);
  }
}

/** /users/<id>/deactivate: asks before deactivating, saying what will happen. */
export class DeactivateUserPage {
  readonly deactivateButton: Locator;
  readonly cancelLink: Locator;

  constructor(readonly page: Page) {
    this.deactivateButton = page.getByRole('button', { name: 'Deactivate', exact: true });
    this.cancelLink = page.getByRole('link', { name: 'Cancel', exact: true });
  }

  heading(name: string): Locator {
    return this.page.getByRole('heading', { level: 1, name: `Deactivate ${name}?`, exact: true });
  }

  async expectShown(id: number, name: string): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs(`/users/${id}/deactivate`));
    await expect(this.heading(name)).toBeVisible();
  }
}
