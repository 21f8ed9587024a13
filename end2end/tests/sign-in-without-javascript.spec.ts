import { admin, expect, signInFailedMessage, test, wrongPassword } from './fixtures';
import { pathnameIs } from './pages/hydration';
import { SignedInShell } from './pages/signed-in-shell';
import { SignInPage } from './pages/sign-in-page';
import { CodeStepPage } from './pages/two-factor-pages';
import { nextCode } from './support/authenticator';

// Forms are plain HTML forms first: everything here works with no wasm at all.
// (axe-core needs JavaScript in the page, so the accessibility checks of these same
// pages run in sign-in.spec.ts and first-run.setup.ts.)
test.describe('signing in without JavaScript', () => {
  test('the administrator signs in with a code, sees who is signed in and signs out', async ({
    noScriptPage: page,
  }) => {
    const signInPage = new SignInPage(page, { javaScript: false });
    const shell = new SignedInShell(page);

    await page.goto('/');
    await signInPage.expectShown();
    await expect(page.locator('body'), 'JavaScript is off, so nothing hydrates').not.toHaveAttribute(
      'data-hydrated',
      'true',
    );

    await signInPage.signIn(admin.username, admin.password);
    await new CodeStepPage(page).enter(nextCode());
    await shell.expectHome(admin);

    await shell.openMyProfile();
    await shell.expectMyDetails(admin);

    await shell.signOut();
    await signInPage.expectShown();
    await page.goto('/profile');
    await signInPage.expectShown();
  });

  test('a wrong password shows the generic error and stays on the sign-in page', async ({
    noScriptPage: page,
  }) => {
    const signInPage = new SignInPage(page, { javaScript: false });

    await signInPage.open();
    await signInPage.signIn(admin.email, wrongPassword);

    await expect(signInPage.error).toContainText(signInFailedMessage);
    await expect(page).toHaveURL(pathnameIs('/sign-in'));
    await expect(signInPage.heading).toBeVisible();
  });
});
