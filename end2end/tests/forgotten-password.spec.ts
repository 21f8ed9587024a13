import { expect, test } from './fixtures';
import { pathnameIs } from './pages/hydration';
import { expectNoAccessibilityViolations } from './support/accessibility';

// The answer never says whether an account uses the address.
test('the forgotten-password page answers the same for an address no account uses', async ({
  page,
  forgottenPasswordPage,
}, testInfo) => {
  await forgottenPasswordPage.open();
  await expectNoAccessibilityViolations(page, testInfo, 'the forgotten-password page');
  await forgottenPasswordPage.usernameOrEmail.fill('nobody@riverside.example');
  await forgottenPasswordPage.emailMeALink.click();
  await forgottenPasswordPage.expectSent();
  await expect(page).toHaveURL(pathnameIs('/forgotten-password'));
});
