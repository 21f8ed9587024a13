import * as OTPAuth from 'otpauth';
import { admin, expect, signIn, test, type Person } from './fixtures';
import { SignedInShell } from './pages/signed-in-shell';
import { SignInPage } from './pages/sign-in-page';
import { PasswordLinkPage } from './pages/password-link-pages';
import { CodeStepPage, EnrolPage, RecoveryCodesPage } from './pages/two-factor-pages';
import { expectNoAccessibilityViolations } from './support/accessibility';

const nia: Person = {
  firstName: 'Nia',
  lastName: 'Jones',
  displayName: 'Nia Jones',
  email: 'nia.jones@riverside.example',
  username: 'nia.jones',
  initials: 'NJ',
  organisation: admin.organisation,
  password: 'lighthouse marmalade cello 58',
};

/** Nia's authenticator app, set up from the key on her enrolment page. */
function authenticator(key: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: OTPAuth.Secret.fromBase32(key.replace(/\s+/g, '')),
  });
}

// An administrator gives Nia a role whose permissions need two-factor
// authentication: her open browser is sent to enrolment at its next request;
// from then on she signs in with a code, which works once; a recovery code
// works too; and when the administrator resets her 2FA she enrols again.
test('a role that needs 2FA sends its holder to enrolment; codes work once; recovery codes and reset work', async ({
  page,
  addUserPage,
  userPage,
  mailbox,
  otherBrowserPage,
}, testInfo) => {
  test.setTimeout(90_000);
  await signIn(page, admin);
  await addUserPage.open();
  await addUserPage.fillIn(nia, { welcomeEmail: true });
  const id = await addUserPage.submit();
  const welcome = await mailbox.waitForEmail(nia.email);

  const her = {
    activation: new PasswordLinkPage(otherBrowserPage),
    shell: new SignedInShell(otherBrowserPage),
    signIn: new SignInPage(otherBrowserPage),
    codeStep: new CodeStepPage(otherBrowserPage),
    enrol: new EnrolPage(otherBrowserPage),
    recoveryCodes: new RecoveryCodesPage(otherBrowserPage),
  };
  // With no roles she needs no second factor.
  await her.activation.open(welcome.link!);
  await her.activation.activate(nia.password);
  await her.shell.expectHome(nia);

  // The administrator gives her User administrator, marked as needing 2FA.
  await userPage.open(id);
  const access = page.getByRole('region', { name: 'Roles and profiles' });
  const userAdministrator = access.getByRole('group', { name: 'Roles' }).getByLabel(/^User administrator/);
  await expect(userAdministrator).toHaveAccessibleName(/two-factor/i);
  await expectNoAccessibilityViolations(page, testInfo, 'the user page with roles, profiles and 2FA');
  await userAdministrator.check();
  await access.getByRole('button', { name: 'Save roles and profiles' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The roles and profiles were saved' })).toBeVisible();
  await expect(access).toContainText('Can add, delete and manage users');

  // Her next request takes her to enrolment, and nothing else is open.
  await her.shell.myProfileLink.click();
  await her.enrol.expectShown();
  const app = authenticator(await her.enrol.readKey());
  await her.enrol.confirm(app.generate());
  await her.recoveryCodes.expectShown();
  const recoveryCodes = await her.recoveryCodes.list();
  expect(recoveryCodes).toHaveLength(10);
  await her.recoveryCodes.continueLink.click();
  await her.shell.expectHome(nia);

  // Signing in now takes a code after the password…
  await her.shell.signOut();
  await her.signIn.signIn(nia.username, nia.password);
  await her.codeStep.expectShown();
  // …one from the step after the one enrolment used, so it has not been used yet.
  const code = app.generate({ timestamp: Date.now() + 30_000 });
  await her.codeStep.enter(code);
  await her.shell.expectHome(nia);

  // The same code a second time is refused.
  await her.shell.signOut();
  await her.signIn.signIn(nia.username, nia.password);
  await her.codeStep.enter(code);
  await expect(her.codeStep.error).toBeVisible();
  await her.codeStep.expectShown();

  // A recovery code signs her in, once.
  await her.codeStep.enter(recoveryCodes[0]);
  await her.shell.expectHome(nia);
  await her.shell.signOut();
  await her.signIn.signIn(nia.username, nia.password);
  await her.codeStep.enter(recoveryCodes[0]);
  await expect(her.codeStep.error).toBeVisible();

  // The administrator resets her 2FA: her sessions end, and she enrols again.
  await userPage.open(id);
  const security = page.getByRole('region', { name: 'Two-factor authentication and sessions' });
  await expect(security).toContainText('Set up since');
  await security.getByRole('button', { name: 'Reset two-factor authentication' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Two-factor authentication was reset' })).toBeVisible();
  await expect(security).toContainText('Not set up: required by their permissions');

  await otherBrowserPage.goto('/');
  await her.signIn.expectShown();
  await her.signIn.signIn(nia.username, nia.password);
  await her.enrol.expectShown();
});
