import { admin, expect, test } from './fixtures';
import { expectNoAccessibilityViolations } from './support/accessibility';
import { enrolAuthenticator } from './support/authenticator';
import { delayWasm, expectHydrated, expectNotHydratedYet } from './support/slow-connection';

const EMAIL_FORMAT_ERROR = /Enter an email address in the correct format/;

// The setup link works once: these run in order, and the second creates the
// administrator every other test signs in as (the `chromium` project depends on this one).
test.describe.serial('first run', () => {
  test('on a slow connection, what is typed before the setup form comes to life is kept', async ({
    page,
    setupPage,
    setupLink,
  }) => {
    await delayWasm(page);
    await page.goto(setupLink);
    await expect(setupPage.heading).toBeVisible();
    await setupPage.organisationName.pressSequentially(admin.organisation);
    await setupPage.firstName.pressSequentially(admin.firstName);
    await setupPage.lastName.pressSequentially(admin.lastName);
    await expectNotHydratedYet(page);

    await expectHydrated(page);
    await expect(setupPage.organisationName).toHaveValue(admin.organisation);
    await expect(setupPage.firstName).toHaveValue(admin.firstName);
    await expect(setupPage.lastName).toHaveValue(admin.lastName);
    await expect(setupPage.username).toHaveValue(admin.username);
    await expect(setupPage.initials).toHaveValue(admin.initials);
  });

  test('the setup form shows a field error in the browser before anything is submitted', async ({
    page,
    setupPage,
    setupLink,
  }, testInfo) => {
    await setupPage.open(setupLink);
    await expectNoAccessibilityViolations(page, testInfo, 'the setup page');

    const sent: string[] = [];
    page.on('request', (request) => {
      if (request.method() !== 'GET') sent.push(`${request.method()} ${request.url()}`);
    });

    await setupPage.enter(setupPage.email, 'not-an-email');
    await expect(setupPage.email).toHaveAttribute('aria-invalid', 'true');
    await expect(setupPage.email).toHaveAccessibleDescription(EMAIL_FORMAT_ERROR);
    await expect(page.getByText(EMAIL_FORMAT_ERROR)).toBeVisible();
    await expectNoAccessibilityViolations(page, testInfo, 'the setup page showing a field error');

    await setupPage.enter(setupPage.email, admin.email);
    await expect(setupPage.email).toHaveAttribute('aria-invalid', 'false');
    await expect(page.getByText(EMAIL_FORMAT_ERROR)).toBeHidden();

    // The check ran in the browser (the domain rules compiled to wasm), not on the server.
    expect(sent, 'requests sent while checking the field').toEqual([]);
  });

  test('first-run setup creates the organisation and its administrator, who enrols in two-factor authentication and is signed in', async ({
    page,
    setupPage,
    setupLink,
    enrolPage,
    recoveryCodesPage,
    shell,
    signInPage,
  }, testInfo) => {
    await setupPage.open(setupLink);
    await expect(setupPage.createUsernameFromNames).toBeChecked();
    await setupPage.fillIn(admin);
    await expect(setupPage.username).toHaveValue(admin.username);
    await expect(setupPage.username).not.toBeEditable();
    await expect(setupPage.initials).toHaveValue(admin.initials);

    await setupPage.createOrganisation.click();

    // An administrator must use two-factor authentication: enrolment comes first,
    // and nothing else is open until it is done.
    await enrolPage.expectShown();
    await expectNoAccessibilityViolations(page, testInfo, 'the enrolment page');
    await page.goto('/users');
    await enrolPage.expectShown();

    // The app is set up from the key written on the page; a wrong code is refused.
    const key = await enrolPage.readKey();
    await enrolPage.confirm('000000');
    await expect(enrolPage.errorSummary).toBeVisible();
    await expect(enrolPage.code).toHaveAttribute('aria-invalid', 'true');
    await expectNoAccessibilityViolations(page, testInfo, 'the enrolment page showing an error');
    await enrolPage.confirm(enrolAuthenticator(admin.username, key));

    // Ten recovery codes, shown once, to copy or download.
    await recoveryCodesPage.expectShown();
    expect(await recoveryCodesPage.list()).toHaveLength(10);
    await expect(recoveryCodesPage.download).toHaveAttribute('download', 'gatehouse-recovery-codes.txt');
    await expect(recoveryCodesPage.copyButton).toBeVisible();
    await expectNoAccessibilityViolations(page, testInfo, 'the recovery codes page');
    await recoveryCodesPage.continueLink.click();

    await shell.expectHome(admin);
    await expectNoAccessibilityViolations(page, testInfo, 'Home');

    await shell.signOut();
    await signInPage.expectShown();
  });
});
