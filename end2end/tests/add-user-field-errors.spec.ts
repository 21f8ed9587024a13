import { admin, expect, signIn, test } from './fixtures';
import { expectNoAccessibilityViolations } from './support/accessibility';

const EMAIL_FORMAT_ERROR = /Enter an email address in the correct format/;
const FIRST_NAME_ERROR = /First name can only contain letters, spaces, apostrophes, hyphens and full stops/;

test('the Add a user form shows field errors in the browser before anything is submitted', async ({
  page,
  addUserPage,
}, testInfo) => {
  await signIn(page, admin);
  await addUserPage.open();

  // Typing asks the server for hints (is the username free? similar accounts?),
  // but nothing may be added.
  const submitted: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/fn/add_user') {
      submitted.push(request.url());
    }
  });

  await addUserPage.enter(addUserPage.firstName, 'Zo3');
  await expect(addUserPage.firstName).toHaveAttribute('aria-invalid', 'true');
  await expect(addUserPage.firstName).toHaveAccessibleDescription(FIRST_NAME_ERROR);
  await expect(page.getByText(FIRST_NAME_ERROR)).toBeVisible();

  await addUserPage.enter(addUserPage.email, 'zoe at riverside');
  await expect(addUserPage.email).toHaveAttribute('aria-invalid', 'true');
  await expect(addUserPage.email).toHaveAccessibleDescription(EMAIL_FORMAT_ERROR);
  await expect(page.getByText(EMAIL_FORMAT_ERROR)).toBeVisible();

  // Tab went through Last name, which is required: leaving it empty is an error too.
  await expect(addUserPage.lastName).toHaveAttribute('aria-invalid', 'true');
  await expect(addUserPage.lastName).toHaveAccessibleDescription(/Enter a last name/);
  // A field not visited yet shows nothing.
  await expect(addUserPage.initials).toHaveAttribute('aria-invalid', 'false');
  await expectNoAccessibilityViolations(page, testInfo, 'Add a user, showing field errors');

  // Correcting a field clears its error.
  await addUserPage.enter(addUserPage.firstName, 'Zoë');
  await expect(addUserPage.firstName).toHaveAttribute('aria-invalid', 'false');
  await expect(page.getByText(FIRST_NAME_ERROR)).toBeHidden();
  await expect(addUserPage.email).toHaveAttribute('aria-invalid', 'true');

  expect(submitted, 'Add a user submissions').toEqual([]);
  await expect(addUserPage.errorSummary).toHaveCount(0);
});
