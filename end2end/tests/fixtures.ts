import { test as base, expect, type Page } from '@playwright/test';
import { AddUserPage } from './pages/add-user-page';
import { ForgottenPasswordPage, PasswordLinkPage } from './pages/password-link-pages';
import { SetupPage } from './pages/setup-page';
import { SignInPage } from './pages/sign-in-page';
import { CodeStepPage, EnrolPage, RecoveryCodesPage } from './pages/two-factor-pages';
import { SignedInShell, type SignedInPerson } from './pages/signed-in-shell';
import { DeactivateUserPage, UserPage } from './pages/user-page';
import { UsersPage } from './pages/users-page';
import { nextCode } from './support/authenticator';
import { Mailbox } from './support/mailbox';
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
  /** An administrator: signing in also takes a code from her authenticator app. */
  twoFactor: true,
} as const;

/** A person the administrator adds, who activates the account from the welcome email. */
export interface Person extends SignedInPerson {
  password: string;
}

function person(details: Omit<Person, 'displayName' | 'organisation'>): Person {
  return {
    ...details,
    displayName: `${details.firstName} ${details.lastName}`,
    organisation: admin.organisation,
  };
}

/**
 * A second Siân O’Brien (a pupil): the username the form makes of her names is the
 * administrator's, so she gets an alternative; her initials are taken too.
 */
export const secondSian = person({
  firstName: 'Siân',
  lastName: 'O’Brien',
  email: 'sian.obrien@pupils.riverside.example',
  username: 'sian.obrien2',
  initials: 'SO2',
  password: 'kingfisher meadow lantern 81',
});

/** Added with a welcome email that expires before she uses it (expired-link journey). */
export const zoe = person({
  firstName: 'Zoë',
  lastName: 'Ståle',
  email: 'zoe.stale@riverside.example',
  username: 'zoe.stale',
  initials: 'ZS',
  password: 'harbour pebble violin 2027',
});

/** Signed in in a browser of his own when the administrator deactivates him. */
export const tomas = person({
  firstName: 'Tomás',
  lastName: 'Ruiz',
  email: 'tomas.ruiz@riverside.example',
  username: 'tomas.ruiz',
  initials: 'TR',
  password: 'copper kettle orchard 39',
});

/** Someone whose name has nothing of "Siân" (users-list journey). */
export const priya = person({
  firstName: 'Priya',
  lastName: 'Shah',
  email: 'priya.shah@riverside.example',
  username: 'priya.shah',
  initials: 'PS',
  password: 'saffron bicycle thunder 64',
});

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
  codeStepPage: CodeStepPage;
  enrolPage: EnrolPage;
  recoveryCodesPage: RecoveryCodesPage;
  shell: SignedInShell;
  usersPage: UsersPage;
  addUserPage: AddUserPage;
  userPage: UserPage;
  deactivateUserPage: DeactivateUserPage;
  passwordLinkPage: PasswordLinkPage;
  forgottenPasswordPage: ForgottenPasswordPage;
  /** The messages the server sent, as maildev received them over SMTP. */
  mailbox: Mailbox;
  /** A page in a separate browser context with JavaScript disabled (no wasm at all). */
  noScriptPage: Page;
  /** A page in a separate browser context (another person's browser), JavaScript on. */
  otherBrowserPage: Page;
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
  codeStepPage: async ({ page }, use) => {
    await use(new CodeStepPage(page));
  },
  enrolPage: async ({ page }, use) => {
    await use(new EnrolPage(page));
  },
  recoveryCodesPage: async ({ page }, use) => {
    await use(new RecoveryCodesPage(page));
  },
  shell: async ({ page }, use) => {
    await use(new SignedInShell(page));
  },
  usersPage: async ({ page }, use) => {
    await use(new UsersPage(page));
  },
  addUserPage: async ({ page }, use) => {
    await use(new AddUserPage(page));
  },
  userPage: async ({ page }, use) => {
    await use(new UserPage(page));
  },
  deactivateUserPage: async ({ page }, use) => {
    await use(new DeactivateUserPage(page));
  },
  passwordLinkPage: async ({ page }, use) => {
    await use(new PasswordLinkPage(page));
  },
  forgottenPasswordPage: async ({ page }, use) => {
    await use(new ForgottenPasswordPage(page));
  },
  mailbox: async ({}, use) => {
    await use(new Mailbox(serverInfo().mailURL));
  },
  noScriptPage: async ({ browser, baseURL, locale }, use) => {
    const context = await browser.newContext({ javaScriptEnabled: false, baseURL, locale });
    await use(await context.newPage());
    await context.close();
  },
  otherBrowserPage: async ({ browser, baseURL, locale }, use) => {
    const context = await browser.newContext({ baseURL, locale });
    await use(await context.newPage());
    await context.close();
  },
});

/**
 * Signs `who` in on `page` from the sign-in page (with a code from the
 * authenticator app when they use two-factor authentication) and waits for Home.
 */
export async function signIn(
  page: Page,
  who: SignedInPerson & { password: string; twoFactor?: boolean },
  login = who.username,
) {
  const signInPage = new SignInPage(page);
  await signInPage.open();
  await signInPage.signIn(login, who.password);
  if (who.twoFactor) {
    await new CodeStepPage(page).enter(nextCode());
  }
  await new SignedInShell(page).expectHome(who);
}

export { expect };
