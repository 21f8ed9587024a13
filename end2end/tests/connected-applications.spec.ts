import type { Page } from '@playwright/test';
import { admin, expect, signIn, test } from './fixtures';
import { PasswordLinkPage } from './pages/password-link-pages';
import { SignedInShell } from './pages/signed-in-shell';
import { SignInPage } from './pages/sign-in-page';
import { expectNoAccessibilityViolations } from './support/accessibility';
import { RelyingParty } from './support/relying-party';
import { serverInfo } from './support/server';

/** Signs in to two applications and is deactivated while signed in to them. */
const ffion = {
  firstName: 'Ffion',
  lastName: 'Jones',
  displayName: 'Ffion Jones',
  email: 'ffion.jones@riverside.example',
  username: 'ffion.jones',
  initials: 'FJ',
  password: 'lighthouse tandem quartz 58',
  organisation: admin.organisation,
};

/**
 * Registers `app` on the Applications pages as the administrator signed in
 * on `page`, and connects it with the client id and secret the page shows.
 */
async function register(page: Page, app: RelyingParty): Promise<void> {
  await page.goto('/applications');
  await page.getByRole('link', { name: 'Register an application' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Register an application' })).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill(app.title);
  await page.getByLabel('Redirect addresses').fill(app.redirectUri);
  await page.getByLabel('Back-channel logout address').fill(app.backchannelLogoutUri);
  await page.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByRole('heading', { level: 1, name: app.title })).toBeVisible();
  await expect(page.getByText('The application was registered.')).toBeVisible();
  const clientId = (await page.getByTestId('client-id').textContent())!.trim();
  const secret = (await page.getByTestId('client-secret').textContent())!.trim();
  expect(secret).toMatch(/^gcs_[0-9a-f]{64}$/);
  await app.connect(serverInfo().baseURL, clientId, secret);
}

test('a person signs in to two applications with one Gatehouse sign-in, and deactivation signs them out of both', async ({
  page,
  addUserPage,
  userPage,
  deactivateUserPage,
  mailbox,
  otherBrowserPage,
}, testInfo) => {
  const wiki = new RelyingParty('Staff wiki');
  const timetable = new RelyingParty('Timetable');
  await wiki.listen();
  await timetable.listen();
  try {
    // The administrator registers both applications and adds Ffion.
    await signIn(page, admin);
    await register(page, wiki);
    await expectNoAccessibilityViolations(page, testInfo, 'a newly registered application');
    await register(page, timetable);
    await page.goto('/applications');
    await expect(page.getByRole('link', { name: 'Staff wiki' })).toBeVisible();
    await expectNoAccessibilityViolations(page, testInfo, 'the Applications page');
    await addUserPage.open();
    await addUserPage.fillIn(ffion, { welcomeEmail: true });
    const id = await addUserPage.submit();
    const welcome = await mailbox.waitForEmail(ffion.email);

    // Ffion activates her account, then signs out of Gatehouse.
    const her = {
      activation: new PasswordLinkPage(otherBrowserPage),
      shell: new SignedInShell(otherBrowserPage),
      signIn: new SignInPage(otherBrowserPage),
    };
    await her.activation.open(welcome.link!);
    await her.activation.activate(ffion.password);
    await her.shell.expectHome(ffion);
    await her.shell.signOutButton.click();
    await her.signIn.expectShown();

    // The wiki sends her to Gatehouse, which asks for her password once…
    await otherBrowserPage.goto(`${wiki.origin}/login`);
    await her.signIn.expectShown();
    await her.signIn.signIn(ffion.username, ffion.password);
    await expect(otherBrowserPage).toHaveURL(`${wiki.origin}/`);
    await expect(otherBrowserPage.locator('#status')).toHaveText('Signed in as Ffion Jones');

    // …and the timetable signs her in without it.
    await otherBrowserPage.goto(`${timetable.origin}/login`);
    await expect(otherBrowserPage).toHaveURL(`${timetable.origin}/`);
    await expect(otherBrowserPage.locator('#status')).toHaveText('Signed in as Ffion Jones');

    // Her user page lists both applications.
    await userPage.open(id);
    await expect(page.getByRole('region', { name: 'Applications' }).getByText('Staff wiki')).toBeVisible();
    await expect(page.getByRole('region', { name: 'Applications' }).getByText('Timetable')).toBeVisible();

    // The administrator deactivates her: both applications are told, and
    // their sessions end without her doing anything.
    await userPage.deactivateLink.click();
    await deactivateUserPage.deactivateButton.click();
    await userPage.expectState('Deactivated');
    for (const app of [wiki, timetable]) {
      await expect
        .poll(async () => {
          await otherBrowserPage.goto(`${app.origin}/`);
          return otherBrowserPage.locator('#status').textContent();
        }, { timeout: 15_000 })
        .toBe('Not signed in');
      expect(app.logouts).toHaveLength(1);
    }
  } finally {
    await wiki.close();
    await timetable.close();
  }
});
