import { admin, expect, priya, secondSian, signIn, test } from './fixtures';
import { expectNoAccessibilityViolations } from './support/accessibility';

// The Users page searches as the administrator types, ignoring accents and case.
test('the Users page lists the accounts and narrows them as the administrator types', async ({
  page,
  shell,
  usersPage,
  addUserPage,
}, testInfo) => {
  await signIn(page, admin);

  // The journey needs two Siân O’Briens and someone else. The second Siân is added by
  // add-user-with-welcome-email.spec.ts when that runs first; otherwise here.
  await usersPage.open(secondSian.email);
  if ((await usersPage.rows.count()) === 0) {
    await addUserPage.open();
    await addUserPage.fillIn(secondSian, { welcomeEmail: false });
    await addUserPage.submit();
  }
  await addUserPage.open();
  await addUserPage.fillIn(priya, { welcomeEmail: false });
  await addUserPage.submit();

  await shell.homeLink.click();
  await shell.usersLink.click();
  await usersPage.expectShown();
  await expect(usersPage.names()).toContainText([admin.displayName, priya.displayName]);
  const everyone = await usersPage.count();
  expect(everyone).toBeGreaterThanOrEqual(3);
  await expect(usersPage.rows).toHaveCount(everyone);
  await expectNoAccessibilityViolations(page, testInfo, 'Users');

  // Typing is enough: the search runs once typing pauses.
  await usersPage.search.pressSequentially('sian', { delay: 50 });
  await usersPage.expectSearchedFor('sian');
  await expect(usersPage.resultCount).toHaveText('2 accounts');
  await expect(usersPage.names()).toHaveText([admin.displayName, secondSian.displayName]);
  await expect(usersPage.row(admin.username)).toHaveCount(1);
  await expect(usersPage.row(secondSian.username)).toHaveCount(1);
  await expectNoAccessibilityViolations(page, testInfo, 'Users, searching');

  // Accents and capitals make no difference.
  await usersPage.search.fill('Siân');
  await usersPage.expectSearchedFor('Siân');
  await expect(usersPage.resultCount).toHaveText('2 accounts');
  await expect(usersPage.names()).toHaveText([admin.displayName, secondSian.displayName]);

  // Emptying the box lists everyone again.
  await usersPage.search.fill('');
  await usersPage.expectSearchedFor('');
  await expect(usersPage.rows).toHaveCount(everyone);
});
