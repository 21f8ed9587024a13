import { admin, expect, signIn, signInFailedMessage, test, tomas } from './fixtures';
import { pathnameIs } from './pages/hydration';
import { PasswordLinkPage } from './pages/password-link-pages';
import { SignedInShell } from './pages/signed-in-shell';
import { SignInPage } from './pages/sign-in-page';
import { expectNoAccessibilityViolations } from './support/accessibility';

// Deactivation ends every session of the account at once: a browser that is
// signed in finds itself signed out at its next request, and cannot sign in again.
test('deactivating an account signs it out of an open browser and stops it signing in', async ({
  page,
  addUserPage,
  userPage,
  deactivateUserPage,
  mailbox,
  otherBrowserPage,
}, testInfo) => {
  // The administrator adds Tomás, who activates his account in his own browser.
  await signIn(page, admin);
  await addUserPage.open();
  await addUserPage.fillIn(tomas, { welcomeEmail: true });
  await expect(addUserPage.username).toHaveValue(tomas.username);
  const id = await addUserPage.submit();
  const welcome = await mailbox.waitForEmail(tomas.email);

  const his = {
    activation: new PasswordLinkPage(otherBrowserPage),
    shell: new SignedInShell(otherBrowserPage),
    signIn: new SignInPage(otherBrowserPage),
  };
  await his.activation.open(welcome.link!);
  await his.activation.expectActivationForm(admin.organisation);
  await his.activation.activate(tomas.password);
  await his.shell.expectHome(tomas);

  // The administrator deactivates him, after being told what that does.
  await userPage.open(id);
  await userPage.expectShown(id, tomas.displayName);
  await userPage.expectState('Active');
  await userPage.deactivateLink.click();
  await deactivateUserPage.expectShown(id, tomas.displayName);
  await expect(page.getByText('sign it out everywhere')).toBeVisible();
  await expect(page.getByText('Nothing is deleted.')).toBeVisible();
  await expectNoAccessibilityViolations(page, testInfo, 'the deactivate confirmation page');

  await deactivateUserPage.deactivateButton.click();
  await userPage.expectShown(id, tomas.displayName);
  await expect(userPage.notice).toContainText('The account was deactivated');
  await userPage.expectState('Deactivated');
  await expect(userPage.reactivateButton).toBeVisible();
  await expectNoAccessibilityViolations(page, testInfo, 'the user page of a deactivated account');

  // His open browser is signed out at its next request…
  await his.shell.myProfileLink.click();
  await his.signIn.expectShown();
  await otherBrowserPage.goto('/');
  await his.signIn.expectShown();

  // …and he cannot sign in again; the error says no more than for a wrong password.
  await his.signIn.signIn(tomas.username, tomas.password);
  await expect(his.signIn.error).toContainText(signInFailedMessage);
  await expect(otherBrowserPage).toHaveURL(pathnameIs('/sign-in'));
  await expect(his.shell.signOutButton).toHaveCount(0);
});
