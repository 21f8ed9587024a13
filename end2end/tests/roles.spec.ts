import { admin, expect, signIn, test } from './fixtures';
import { pathnameIs } from './pages/hydration';
import { expectNoAccessibilityViolations } from './support/accessibility';

// An administrator adds a role with some permissions, then a profile made of
// it and a starter role; both pages list what they give, and a duplicate name
// is refused beside its field.
test('an administrator adds a role and a profile and sees what they give', async ({ page }, testInfo) => {
  await signIn(page, admin);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Roles', exact: true }).click();
  await expect(page).toHaveURL(pathnameIs('/roles'));
  await expect(page.getByRole('heading', { level: 1, name: 'Roles' })).toBeVisible();
  const roles = page.getByRole('table', { name: 'Roles of the organisation' });
  await expect(roles.getByRole('rowheader', { name: 'Administrator', exact: true })).toBeVisible();
  await expectNoAccessibilityViolations(page, testInfo, 'the Roles page');

  // A name already used, in another case, is refused beside its field.
  const add = page.getByRole('region', { name: 'Add a role' });
  await add.getByLabel(/name/i).first().fill('teacher');
  await add.getByRole('button', { name: 'Add a role' }).click();
  await expect(page.getByRole('link', { name: /already/ })).toBeVisible();

  await page.getByRole('region', { name: 'Add a role' }).getByLabel(/name/i).first().fill('Exams officer');
  await page.getByRole('region', { name: 'Add a role' }).getByRole('button', { name: 'Add a role' }).click();
  await expect(page).toHaveURL(/\/roles\/\d+\?saved=created$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Exams officer' })).toBeVisible();
  await page.getByLabel(/^Can view reports/).check();
  await page.getByLabel(/^Can view pupil-level data/).check();
  await expect(page.getByLabel(/^Can view pupil-level data/)).toHaveAccessibleName(/two-factor/i);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The role was saved.' })).toBeVisible();
  await expect(page.getByLabel(/^Can view reports/)).toBeChecked();
  await expectNoAccessibilityViolations(page, testInfo, 'a role page');

  await nav.getByRole('link', { name: 'Profiles', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Profiles' })).toBeVisible();
  await expectNoAccessibilityViolations(page, testInfo, 'the Profiles page');
  const addProfile = page.getByRole('region', { name: 'Add a profile' });
  await addProfile.getByLabel(/name/i).first().fill('Exams team');
  await addProfile.getByRole('button', { name: 'Add a profile' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Exams team' })).toBeVisible();
  const profileRoles = page.getByRole('group', { name: 'Roles' });
  await profileRoles.getByLabel(/^Exams officer/).check();
  await profileRoles.getByLabel(/^Office staff/).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The profile was saved.' })).toBeVisible();
  await expect(profileRoles.getByLabel(/^Exams officer/)).toBeChecked();
  await expectNoAccessibilityViolations(page, testInfo, 'a profile page');
});
