import { admin, expect, secondSian, signIn, test } from './fixtures';
import { pathnameIs } from './pages/hydration';
import { PASSWORD_POLICY_HINT } from './pages/password-link-pages';
import { expectNoAccessibilityViolations } from './support/accessibility';
import { emailedLink, isAbout, linkExpiry } from './support/email-text';

// The administrator adds a second Siân O’Brien: the username the form makes of her
// names is taken (the administrator's own), so it offers free alternatives. She gets
// a welcome email over real SMTP, activates her account from its link and signs in.
test('the administrator adds a person with a welcome email; she activates the account and signs in', async ({
  page,
  shell,
  usersPage,
  addUserPage,
  userPage,
  passwordLinkPage,
  signInPage,
  mailbox,
  baseURL,
}, testInfo) => {
  await signIn(page, admin);
  await shell.usersLink.click();
  await usersPage.expectShown();
  await usersPage.addUserLink.click();
  await addUserPage.expectShown();
  await expectNoAccessibilityViolations(page, testInfo, 'Add a user');

  // The username from the names is taken: the form says so and offers others.
  await expect(addUserPage.createUsernameFromNames).toBeChecked();
  await addUserPage.enter(addUserPage.firstName, secondSian.firstName);
  await addUserPage.enter(addUserPage.lastName, secondSian.lastName);
  await expect(addUserPage.username).toHaveValue(admin.username);
  await expect(addUserPage.usernameTaken(admin.username)).toBeVisible();
  await expect(addUserPage.useAlternative(secondSian.username)).toBeVisible();
  await expectNoAccessibilityViolations(page, testInfo, 'Add a user, showing that the username is taken');

  await addUserPage.useAlternative(secondSian.username).click();
  await expect(addUserPage.createUsernameFromNames).not.toBeChecked();
  await expect(addUserPage.username).toHaveValue(secondSian.username);
  await expect(addUserPage.username).toBeEditable();
  await expect(addUserPage.usernameAvailable(secondSian.username)).toBeVisible();

  await addUserPage.enter(addUserPage.email, secondSian.email);
  // Her suggested initials (SO) are the administrator's.
  await addUserPage.enter(addUserPage.initials, secondSian.initials);
  await expect(addUserPage.sendWelcomeEmail).toBeChecked();
  const id = await addUserPage.submit();

  await userPage.expectShown(id, secondSian.displayName);
  await userPage.expectState('Pending activation');
  await expectNoAccessibilityViolations(page, testInfo, 'the new user’s page');

  // The welcome email arrives over SMTP, with the link and when it stops working.
  const welcome = await mailbox.waitForEmail(secondSian.email);
  expect(welcome.subject).toContain(admin.organisation);
  expect(welcome.text).toContain(secondSian.displayName);
  expect(welcome.link, 'the welcome email’s link').toMatch(emailedLink(baseURL!, 'activate'));
  expect(welcome.html).toContain(welcome.link!);
  const expires = linkExpiry(welcome.text);
  expect(expires, `the link's expiry in "${welcome.text}"`).toBeDefined();
  expect(isAbout(expires, welcome.receivedAt, 72), `the link works for 72 hours (until ${expires?.toISOString()})`).toBe(
    true,
  );

  await shell.signOut();

  // She opens the link: the page checks her password against the policy as she types.
  await passwordLinkPage.open(welcome.link!);
  await passwordLinkPage.expectActivationForm(admin.organisation);
  await expect(page.getByText(secondSian.username, { exact: true })).toBeVisible();
  await expect(passwordLinkPage.password).toHaveAccessibleDescription(PASSWORD_POLICY_HINT);
  await expectNoAccessibilityViolations(page, testInfo, 'the activation page');

  await passwordLinkPage.password.fill('too short');
  await expect(page.getByText('Password must be at least 12 characters')).toBeVisible();
  await expect(passwordLinkPage.password).toHaveAttribute('aria-invalid', 'true');
  await expect(passwordLinkPage.password).toHaveAccessibleDescription(/Password must be at least 12 characters/);
  await expectNoAccessibilityViolations(page, testInfo, 'the activation page showing a password error');

  await passwordLinkPage.activate(secondSian.password);
  await shell.expectHome(secondSian);

  // Her account works from now on, with her new username and password.
  await shell.signOut();
  await signInPage.signIn(secondSian.username, secondSian.password);
  await shell.expectHome(secondSian);

  // The link worked once.
  await passwordLinkPage.open(welcome.link!);
  await passwordLinkPage.expectExpired();
  await expect(page).toHaveURL(pathnameIs(new URL(welcome.link!).pathname));
});
