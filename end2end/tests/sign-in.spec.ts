import { admin, expect, signInFailedMessage, test, wrongPassword } from './fixtures';
import { pathnameIs } from './pages/hydration';
import { expectNoAccessibilityViolations } from './support/accessibility';
import { nextCode } from './support/authenticator';

test.describe('signing in', () => {
  test('the administrator signs in with their username and a code and sees who is signed in', async ({
    page,
    signInPage,
    codeStepPage,
    shell,
  }, testInfo) => {
    await signInPage.open();
    await expectNoAccessibilityViolations(page, testInfo, 'the sign-in page');

    await signInPage.signIn(admin.username, admin.password);
    await codeStepPage.expectShown();
    await expectNoAccessibilityViolations(page, testInfo, 'the authentication code step');
    await codeStepPage.enter(nextCode());
    await shell.expectHome(admin);
    await expectNoAccessibilityViolations(page, testInfo, 'Home');

    await shell.openMyProfile();
    await shell.expectSignedInAs(admin);
    await shell.expectMyDetails(admin);
    await expectNoAccessibilityViolations(page, testInfo, 'My profile');

    await shell.homeLink.click();
    await shell.expectHome(admin);

    await shell.signOut();
    await signInPage.expectShown();
    // The session has ended: Home sends the visitor back to sign in.
    await page.goto('/');
    await signInPage.expectShown();
  });

  test('the administrator signs in with their email address', async ({ signInPage, codeStepPage, shell }) => {
    await signInPage.open();
    await signInPage.signIn(admin.email, admin.password);
    await codeStepPage.enter(nextCode());
    await shell.expectHome(admin);
  });

  test('a wrong authentication code is refused beside its field', async ({
    page,
    signInPage,
    codeStepPage,
    shell,
  }, testInfo) => {
    await signInPage.open();
    await signInPage.signIn(admin.username, admin.password);
    await codeStepPage.enter('000000');
    await expect(codeStepPage.error).toContainText('That code did not work');
    await expect(codeStepPage.code).toHaveAttribute('aria-invalid', 'true');
    await expectNoAccessibilityViolations(page, testInfo, 'the authentication code step showing an error');
    await codeStepPage.enter(nextCode());
    await shell.expectHome(admin);
  });

  test('a wrong password shows the generic error and stays on the sign-in page', async ({
    page,
    signInPage,
    shell,
  }, testInfo) => {
    await signInPage.open();
    await signInPage.signIn(admin.username, wrongPassword);

    await expect(signInPage.error).toContainText(signInFailedMessage);
    await expect(page).toHaveURL(pathnameIs('/sign-in'));
    await expect(signInPage.heading).toBeVisible();
    await expect(shell.signOutButton).toHaveCount(0);
    await expectNoAccessibilityViolations(page, testInfo, 'the sign-in page showing an error');
  });

  test('a visitor who is not signed in is sent from Home to sign in', async ({ page, signInPage }) => {
    await page.goto('/');
    await signInPage.expectShown();
  });
});
