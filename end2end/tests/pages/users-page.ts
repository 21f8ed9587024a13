import { expect, type Locator, type Page } from '@playwright/test';
import { pathnameIs, waitForHydration } from './hydration';

/** /users: the accounts of the administrator's organisation, with a live search. */
export class UsersPage {
  readonly heading: Locator;
  /** The search box; it submits its form by itself once typing pauses. */
  readonly search: Locator;
  /** "N accounts": how many match. */
  readonly resultCount: Locator;
  readonly table: Locator;
  /** The table's body rows (the header row has column headers, not cells). */
  readonly rows: Locator;
  readonly addUserLink: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Users' });
    this.search = page.getByRole('searchbox', { name: 'Search' });
    this.resultCount = page.getByRole('status').filter({ hasText: /^\s*[\d,]+\+? accounts?\s*$/ });
    this.table = page.getByRole('table', { name: 'Accounts' });
    this.rows = this.table.getByRole('row').filter({ has: page.getByRole('cell') });
    this.addUserLink = page.getByRole('link', { name: 'Add a user', exact: true });
  }

  async open(query?: string): Promise<void> {
    await this.page.goto(query === undefined ? '/users' : `/users?q=${encodeURIComponent(query)}`);
    await this.expectShown();
  }

  /** The page is showing and its live search is running in the browser. */
  async expectShown(): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs('/users'));
    await expect(this.heading).toBeVisible();
    await waitForHydration(this.page);
  }

  /** The row of the account with this username. */
  row(username: string): Locator {
    return this.rows.filter({ has: this.page.getByRole('cell', { name: username, exact: true }) });
  }

  /** The names in the list, in order. */
  names(): Locator {
    return this.rows.getByRole('link');
  }

  /** The number of accounts the page says match (parsed from "N accounts"). */
  async count(): Promise<number> {
    const text = (await this.resultCount.textContent()) ?? '';
    return Number(text.replace(/[^\d]/g, ''));
  }

  /** The address's search term, once the page shows the results for `query`. */
  async expectSearchedFor(query: string): Promise<void> {
    await expect(this.page).toHaveURL((url) => url.pathname === '/users' && url.searchParams.get('q') === query);
    await expect(this.search).toHaveValue(query);
    await waitForHydration(this.page);
  }
}
