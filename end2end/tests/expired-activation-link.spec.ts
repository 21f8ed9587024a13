import { admin, expect, signIn, test, zoe } from './fixtures';
import { expectNoAccessibilityViolations } from './support/accessibility';
import { expireWelcomeLinks } from './support/database';
import { emailedLink, isAbout, linkExpiry } from './support/email-text';

// A welcome link that has expired offers the forgotten-password form, which sends a
// fresh link; the account was never activated, so that is an activation link again.
test('an expired welcome link offers a new one by email, which activates the account', async ({
  page,
  shell,
  addUserPage,
  userPage,
  passwordLinkPage,
  forgottenPasswordPage,
  signInPage,
  mailbox,
  baseURL,
}, testInfo) => {
  await signIn(page, admin);
  await addUserPage.open();
  await addUserPage.fillIn(zoe, { welcomeEmail: true });
  await expect(addUserPage.username).toHaveValue(zoe.username);
  await expect(addUserPage.initials).toHaveValue(zoe.initials);
  const id = await addUserPage.submit();
  await userPage.expectShown(id, zoe.displayName);
  await userPage.expectState('Pending activation');

  const welcome = await mailbox.waitForEmail(zoe.email);
  expect(welcome.link).toMatch(emailedLink(baseURL!, 'activate'));

  // The server's clock cannot be moved: the link is made to have expired in its database.
  expect(expireWelcomeLinks(zoe.email), 'welcome links expired in the database').toBe(1);
  await userPage.open(id);
  await userPage.expectState('Pending: activation link expired');
  await shell.signOut();

  await passwordLinkPage.open(welcome.link!);
  await passwordLinkPage.expectExpired();
  await expect(passwordLinkPage.password).toHaveCount(0);
  await expectNoAccessibilityViolations(page, testInfo, 'the expired-link page');

  await passwordLinkPage.askForNewLink(zoe.email);
  await forgottenPasswordPage.expectSent();
  await expectNoAccessibilityViolations(page, testInfo, 'the forgotten-password page, having sent a link');

  const fresh = await mailbox.waitForEmail(zoe.email, { except: [welcome] });
  expect(fresh.link, 'the new email’s link').toMatch(emailedLink(baseURL!, 'activate'));
  expect(fresh.link).not.toBe(welcome.link);
  // The page promised a link that works for an hour (SPEC, *Email links*: a fresh
  // 1-hour link, also for a pending account), and the email must say the same.
  const expires = linkExpiry(fresh.text);
  expect(isAbout(expires, fresh.receivedAt, 1), `the new link works for an hour: "${fresh.text}"`).toBe(true);

  await passwordLinkPage.open(fresh.link!);
  await passwordLinkPage.expectActivationForm(admin.organisation);
  await passwordLinkPage.activate(zoe.password);
  await shell.expectHome(zoe);

  await shell.signOut();
  await signInPage.signIn(zoe.username, zoe.password);
  await shell.expectHome(zoe);
});
