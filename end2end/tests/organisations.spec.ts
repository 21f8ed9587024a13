import { admin, expect, signIn, test } from './fixtures';
import { pathnameIs } from './pages/hydration';
import { PasswordLinkPage } from './pages/password-link-pages';
import { EnrolPage, RecoveryCodesPage } from './pages/two-factor-pages';
import * as OTPAuth from 'otpauth';
import { OrganisationPicker, OrganisationSettingsPage, OrganisationsPage } from './pages/organisations-pages';
import { expectNoAccessibilityViolations } from './support/accessibility';

const northfield = 'Northfield School';
const ada = { firstName: 'Ada', lastName: 'Lovelace', email: 'ada.lovelace@northfield.example' };

// The platform administrator adds an organisation with its first administrator
// (who enrols in 2FA as she activates), works in it (its users, its settings), and switches back from the Users page.
test('a platform administrator adds an organisation, works in it and switches back', async ({
  page,
  shell,
  usersPage,
  mailbox,
  otherBrowserPage,
}, testInfo) => {
  await signIn(page, admin);
  const organisations = new OrganisationsPage(page);
  await organisations.open();
  await expect(organisations.row(admin.organisation)).toContainText('Working here');
  await expectNoAccessibilityViolations(page, testInfo, 'the Organisations page');

  // A form with nothing in it names every field that needs attention.
  await organisations.addButton.click();
  await expect(page.getByRole('link', { name: 'Enter an organisation name' })).toBeVisible();
  await expect(organisations.organisationName).toHaveAttribute('aria-invalid', 'true');

  await organisations.add(northfield, ada);
  await expect(page).toHaveURL(/\/users\/\d+\?created=organisation$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('The organisation was created and you now work in it');
  await expect(page.getByRole('banner')).toContainText(northfield);

  // Ada's welcome email names her organisation, and its link opens her activation.
  const welcome = await mailbox.waitForEmail(ada.email);
  expect(welcome.subject).toContain(northfield);
  const adasPage = new PasswordLinkPage(otherBrowserPage);
  await adasPage.open(welcome.link!);
  await adasPage.expectActivationForm(northfield);
  // As its administrator she must set up two-factor authentication before anything else.
  await adasPage.activate('orchard lantern pebble 73');
  const adasEnrolment = new EnrolPage(otherBrowserPage);
  await adasEnrolment.expectShown();
  const key = (await adasEnrolment.readKey()).replace(/\s+/g, '');
  await adasEnrolment.confirm(
    new OTPAuth.TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(key) }).generate(),
  );
  const adasCodes = new RecoveryCodesPage(otherBrowserPage);
  await adasCodes.expectShown();
  await adasCodes.continueLink.click();
  await expect(otherBrowserPage.getByRole('heading', { level: 1, name: 'Welcome, Ada' })).toBeVisible();
  await expect(otherBrowserPage.getByRole('banner')).toContainText(northfield);

  // Northfield's own settings: a bad lifetime is refused beside its field, a good one saved.
  const settings = new OrganisationSettingsPage(page);
  await settings.open();
  await expect(page.getByRole('heading', { name: `Email links of ${northfield}` })).toBeVisible();
  await expect(settings.welcomeHours).toHaveValue('72');
  await settings.welcomeHours.fill('0');
  await settings.saveButton.click();
  await expect(page.getByRole('link', { name: 'Enter a whole number of hours from 1 to 720' })).toBeVisible();
  await settings.welcomeHours.fill('48');
  await settings.saveButton.click();
  await expect(settings.notice).toContainText('The settings were saved');
  await expect(settings.welcomeHours).toHaveValue('48');
  await expectNoAccessibilityViolations(page, testInfo, 'the Organisation settings page');

  // Northfield's users are Ada alone; the picker on the Users page goes back to Riverside.
  await shell.usersLink.click();
  await usersPage.expectShown();
  await expect(usersPage.names()).toHaveText(['Ada Lovelace']);
  await new OrganisationPicker(page).switchTo(admin.organisation);
  await usersPage.expectShown();
  await expect(page.getByRole('banner')).toContainText(admin.organisation);
  await expect(usersPage.row(admin.username)).toBeVisible();
  await expect(usersPage.row('ada.lovelace')).toHaveCount(0);
  await expectNoAccessibilityViolations(page, testInfo, 'the Users page with the organisation picker');
});

// The audit log shows what was done, filtered by action.
test('the audit log lists what happened, filtered by action', async ({ page }, testInfo) => {
  await signIn(page, admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(pathnameIs('/audit'));
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  await page.getByLabel('Action').selectOption({ label: 'Signed in' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/action=sign_in\.succeeded/);
  const rows = page.getByRole('table', { name: 'Audit log entries, newest first' }).getByRole('row');
  await expect(rows.nth(1)).toContainText('Signed in');
  await expect(rows.nth(1)).toContainText(`${admin.displayName} (${admin.username})`);
  await expectNoAccessibilityViolations(page, testInfo, 'the Audit log page');

  await page.getByLabel('From (day)').fill('2020-01-02');
  await page.getByLabel('To (day)').fill('2020-01-01');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByText('The last day must not be before the first day').first()).toBeVisible();
});
