import { admin, expect, signIn, test, type Person } from './fixtures';
import { pathnameIs } from './pages/hydration';
import { expectNoAccessibilityViolations } from './support/accessibility';

/** Activates her account, then asks to move it to another address. */
const mei: Person = {
  firstName: 'Mei',
  lastName: 'Chen',
  email: 'mei.chen@riverside.example',
  username: 'mei.chen',
  initials: 'MC',
  password: 'lighthouse marmalade quartz 58',
  displayName: 'Mei Chen',
  organisation: admin.organisation,
};
const elsewhere = 'mei.chen@elsewhere.example';

// Changing the email address takes the current password; the old address is
// told, and its link keeps the address, signs the account out everywhere and
// makes the confirmation link useless.
test('an email change is confirmed with the password and undone from the old address', async ({
  page,
  shell,
  addUserPage,
  passwordLinkPage,
  mailbox,
}, testInfo) => {
  await signIn(page, admin);
  await addUserPage.open();
  await addUserPage.fillIn(mei, { welcomeEmail: true });
  await addUserPage.submit();
  await shell.signOut();
  const welcome = await mailbox.waitForEmail(mei.email);
  await passwordLinkPage.open(welcome.link!);
  await passwordLinkPage.activate(mei.password);
  await shell.expectHome(mei);

  await shell.openMyProfile();
  const emailPanel = page.getByRole('region', { name: 'Email address' });
  await emailPanel.getByLabel('New email address').fill(elsewhere);
  await emailPanel.getByRole('button', { name: 'Send a confirmation link' }).click();
  await expect(emailPanel.getByText('Your password is not right').first()).toBeVisible();
  await emailPanel.getByLabel('New email address').fill(elsewhere);
  await emailPanel.getByLabel('Current password').fill(mei.password);
  await emailPanel.getByRole('button', { name: 'Send a confirmation link' }).click();
  await expect(page.getByRole('status')).toContainText('We sent a link to your new address');

  const confirmation = await mailbox.waitForEmail(elsewhere);
  const notice = await mailbox.waitForEmail(mei.email, { subject: /is being changed/ });
  expect(notice.text).toContain(elsewhere);
  expect(notice.link).toContain('/undo-email-change/');

  await page.goto(notice.link!);
  await expect(page.getByRole('heading', { name: 'Keep your email address' })).toBeVisible();
  await expect(page.getByText(`instead of ${elsewhere}`)).toBeVisible();
  await expectNoAccessibilityViolations(page, testInfo, 'the undo-email-change page');
  await page.getByRole('button', { name: 'Keep this address' }).click();
  await expect(page).toHaveURL(pathnameIs('/sign-in'));
  await expect(page.getByRole('status')).toContainText('Your email address is kept');

  await page.goto(confirmation.link!);
  await expect(
    page.getByRole('heading', { name: 'This link has expired or has already been used' }),
  ).toBeVisible();

  await signIn(page, mei);
  await shell.openMyProfile();
  await expect(page.getByRole('region', { name: 'Email address' })).toContainText(mei.email);
});
