import { expect, type Locator, type Page } from '@playwright/test';
import { pathnameIs } from './hydration';

/**
 * The *API tokens* section of an API user's page (/users/<id>), for holders of
 * "Can manage API users and tokens". Server-rendered: its forms post without
 * JavaScript and the page comes back with the result.
 */
export class ApiTokensSection {
  readonly section: Locator;
  /** "Copy this token now: it is shown only once." */
  readonly shownOnce: Locator;
  /** The token just made, readonly, shown this once. */
  readonly newToken: Locator;
  readonly copyButton: Locator;
  readonly tokens: Locator;
  readonly tokenName: Locator;
  readonly expiresOn: Locator;
  readonly createButton: Locator;
  /** What the last action did ("The token was created."). */
  readonly notice: Locator;

  constructor(readonly page: Page) {
    this.section = page.getByRole('region', { name: 'API tokens' });
    this.shownOnce = this.section.getByText('Copy this token now: it is shown only once.', { exact: true });
    this.newToken = this.section.getByLabel('New token', { exact: true });
    this.copyButton = this.section.getByRole('button', { name: 'Copy', exact: true });
    this.tokens = this.section.getByRole('table');
    this.tokenName = this.section.getByLabel('Token name', { exact: true });
    this.expiresOn = this.section.getByLabel('Expires on', { exact: true });
    this.createButton = this.section.getByRole('button', { name: 'Create token', exact: true });
    this.notice = this.section.getByRole('status').filter({ hasText: /^The token was/ });
  }

  /** Makes a token; the page comes back showing it. Returns the token. */
  async create(name: string): Promise<string> {
    await this.tokenName.fill(name);
    await this.createButton.click();
    await expect(this.page).toHaveURL((url) => url.searchParams.get('saved') === 'token');
    await expect(this.notice).toHaveText('The token was created.');
    await expect(this.newToken).toHaveValue(/^gat_/);
    return this.newToken.inputValue();
  }

  /** The token's row in the list. */
  row(name: string): Locator {
    return this.tokens.getByRole('row').filter({ has: this.page.getByRole('rowheader', { name, exact: true }) });
  }

  /** "Revoke <token name>". */
  revokeButton(name: string): Locator {
    return this.section.getByRole('button', { name: `Revoke ${name}`, exact: true });
  }
}

/** /api/docs: the REST API explained, then its endpoints and schemas. Public. */
export class ApiDocsPage {
  readonly heading: Locator;
  readonly navigation: Locator;
  readonly openApiLink: Locator;
  readonly gettingStarted: Locator;
  readonly endpoints: Locator;
  readonly schemas: Locator;
  readonly errors: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Gatehouse API' });
    this.navigation = page.getByRole('navigation', { name: 'API reference' });
    this.openApiLink = this.navigation.getByRole('link', { name: 'OpenAPI document (JSON)' });
    this.gettingStarted = page.getByRole('region', { name: 'Getting started', exact: true });
    this.endpoints = page.getByRole('region', { name: 'Endpoints', exact: true });
    this.schemas = page.getByRole('region', { name: 'Schemas', exact: true });
    this.errors = page.getByRole('region', { name: 'Errors', exact: true });
  }

  async open(): Promise<void> {
    await this.page.goto('/api/docs');
    await this.expectShown();
  }

  async expectShown(): Promise<void> {
    await expect(this.page).toHaveURL(pathnameIs('/api/docs'));
    await expect(this.heading).toBeVisible();
  }

  /** An endpoint's entry, e.g. `operation('POST', '/api/v1/users')`. */
  operation(method: string, path: string): Locator {
    return this.endpoints.getByRole('article').filter({
      has: this.page.getByRole('heading', { level: 4, name: new RegExp(`^${method} ${escape(path)}\\s*:`) }),
    });
  }

  /** The heading explaining the problems answered with `status` (its id is the `#problem-…` of their type). */
  problemHeading(status: number): Locator {
    return this.errors.getByRole('heading', { level: 3, name: new RegExp(`^${status} · `) });
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
