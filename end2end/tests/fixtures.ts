import { test as base, expect, type Page } from '@playwright/test';
import { SetupPage } from './pages/setup-page';
import { SignInPage } from './pages/sign-in-page';
import { SignedInShell } from './pages/signed-in-shell';
import { serverInfo } from './support/server';

/** The first administrator, created by the first-run journey and used by every other test. */
export const admin = {
  organisation: 'Riverside College',
  firstName: 'Siân',
  lastName: 'O’Brien',
  displayName: 'Siân O’Brien',
  email: 'sian.obrien@riverside.example',
  /** What "Create username from name and surname" makes of the names. */
  username: 'sian.obrien',
  /** What the form suggests from the names. */
  initials: 'SO',
  password: 'correct horse battery staple 42',
} as const;

/**
 * A wrong password for the administrator. Five failures for one login from one
 * client lock it for 15 minutes, so the whole suite stays well below that.
 */
export const wrongPassword = 'not my password at all 17';

/** The error for any failed sign-in, which never says which part was wrong. */
export const signInFailedMessage = 'The username, email or password is incorrect';

interface Fixtures {
  /** The one-time link the server printed on its first start. */
  setupLink: string;
  setupPage: SetupPage;
  signInPage: SignInPage;
  shell: SignedInShell;
  /** A page in a separate browser context with JavaScript disabled (no wasm at all). */
  noScriptPage: Page;
}

export const test = base.extend<Fixtures>({
  baseURL: async ({}, use) => {
    await use(serverInfo().baseURL);
  },
  setupLink: async ({}, use) => {
    await use(serverInfo().setupLink);
  },
  setupPage: async ({ page }, use) => {
    await use(new SetupPage(page));
  },
  signInPage: async ({ page }, use) => {
    await use(new SignInPage(page));
  },
  shell: async ({ page }, use) => {
    await use(new SignedInShell(page));
  },
  noScriptPage: async ({ browser, baseURL, locale }, use) => {
    const context = await browser.newContext({ javaScriptEnabled: false, baseURL, locale });
    await use(await context.newPage());
    await context.close();
  },
});

export { expect };
