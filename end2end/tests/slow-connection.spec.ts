import { admin, expect, signIn, test, type Person } from './fixtures';
import { delayWasm, expectHydrated, expectNotHydratedYet } from './support/slow-connection';

// On a slow connection a person starts typing before the page's wasm has arrived
// (it loads when they first use a form). Nothing they type may be lost when the
// form comes to life, and what the form does with typing must still happen.

const nia: Person = {
  firstName: 'Nia',
  lastName: 'Hughes',
  displayName: 'Nia Hughes',
  email: 'nia.hughes@riverside.example',
  username: 'nia.hughes',
  initials: 'NH',
  organisation: admin.organisation,
  password: 'lighthouse marmalade 1987',
};

test('what is typed before Add a user and the activation page come to life is kept and used', async ({
  page,
  shell,
  addUserPage,
  userPage,
  passwordLinkPage,
  mailbox,
}) => {
  await signIn(page, admin);
  await delayWasm(page);

  await page.goto('/users/new');
  await expect(addUserPage.heading).toBeVisible();
  await addUserPage.firstName.pressSequentially(nia.firstName);
  await addUserPage.lastName.pressSequentially(nia.lastName);
  await addUserPage.email.pressSequentially(nia.email);
  await expectNotHydratedYet(page);

  await expectHydrated(page);
  await expect(addUserPage.firstName).toHaveValue(nia.firstName);
  await expect(addUserPage.lastName).toHaveValue(nia.lastName);
  await expect(addUserPage.email).toHaveValue(nia.email);
  // The form worked on what was typed before it came to life.
  await expect(addUserPage.username).toHaveValue(nia.username);
  await expect(addUserPage.initials).toHaveValue(nia.initials);
  await expect(addUserPage.usernameAvailable(nia.username)).toBeVisible();
  const id = await addUserPage.submit();
  await userPage.expectShown(id, nia.displayName);

  const welcome = await mailbox.waitForEmail(nia.email);
  await shell.signOut();
  await passwordLinkPage.open(welcome.link!);
  await expect(passwordLinkPage.welcomeHeading(admin.organisation)).toBeVisible();
  await passwordLinkPage.password.pressSequentially('too short');
  await passwordLinkPage.password.press('Tab');
  await expectNotHydratedYet(page);

  // Once alive, the form checks what was typed without being asked.
  await expectHydrated(page);
  await expect(passwordLinkPage.password).toHaveValue('too short');
  await expect(page.getByText('Password must be at least 12 characters')).toBeVisible();
  await passwordLinkPage.activate(nia.password);
  await shell.expectHome(nia);
});

test('a search typed before the Users page comes to life still runs', async ({ page, usersPage }) => {
  await signIn(page, admin);
  await delayWasm(page);

  await page.goto('/users');
  await expect(usersPage.heading).toBeVisible();
  await usersPage.search.pressSequentially('sian');
  await expectNotHydratedYet(page);

  await usersPage.expectSearchedFor('sian');
  await expect(usersPage.row(admin.username)).toHaveCount(1);
});
