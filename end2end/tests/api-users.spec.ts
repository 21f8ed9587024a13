import { admin, expect, signIn, test } from './fixtures';
import { ApiDocsPage, ApiTokensSection } from './pages/api-pages';
import { pathnameIs } from './pages/hydration';
import { PasswordLinkPage } from './pages/password-link-pages';
import { SignedInShell } from './pages/signed-in-shell';
import { expectNoAccessibilityViolations } from './support/accessibility';
import { emailedLink } from './support/email-text';

/** The API user a student-records system provisions accounts with. */
const recordsSync = {
  firstName: 'Records',
  lastName: 'Sync',
  displayName: 'Records Sync',
  email: 'records.sync@riverside.example',
  initials: 'RSY',
};

/** The person the program adds through the API; she activates from her welcome email. */
const grace = {
  firstName: 'Grace',
  lastName: 'Hopper',
  displayName: 'Grace Hopper',
  email: 'grace.hopper@riverside.example',
  username: 'grace.hopper',
  initials: 'GH',
  organisation: admin.organisation,
  password: 'compiler lighthouse marmalade 52',
};

const tokenName = 'Nightly import';

/** What a program does: one HTTP request to the API with the token, as `curl` or any client would. */
async function callApi(baseURL: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(new URL(path, baseURL), {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

// An administrator adds an API user, lets it manage accounts through a role and
// makes it a token, shown once. A program adds a person with that token; her
// welcome email arrives and activates her account. Once the token is revoked,
// the program's next request is refused with a problem report, whose type
// points at its explanation on the API page.
test('an API user’s token lets a program add a person until it is revoked', async ({
  page,
  addUserPage,
  userPage,
  mailbox,
  otherBrowserPage,
  baseURL,
}, testInfo) => {
  await signIn(page, admin);
  await addUserPage.open();
  await addUserPage.fillIn(recordsSync, { welcomeEmail: false });
  await addUserPage.apiUser.check();
  const id = await addUserPage.submit();
  await userPage.expectShown(id, recordsSync.displayName);
  await expect(userPage.fact('Kind')).toHaveText('API user');

  // Its permissions come from its roles, as for people.
  const access = page.getByRole('region', { name: 'Roles and profiles' });
  await access.getByRole('group', { name: 'Roles' }).getByLabel(/^User administrator/).check();
  await access.getByRole('button', { name: 'Save roles and profiles' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The roles and profiles were saved.' })).toBeVisible();

  // A token, shown once, with a Copy button (there is JavaScript here).
  const tokens = new ApiTokensSection(page);
  await expect(tokens.section).toBeVisible();
  await expect(tokens.newToken).toHaveCount(0);
  await expect(tokens.expiresOn).toHaveAttribute('type', 'date');
  await expect(tokens.expiresOn).toHaveAccessibleDescription('Leave empty for a token that does not expire');
  // A token needs a name: the error is beside its field, and in the summary.
  await tokens.createButton.click();
  await expect(tokens.tokenName).toHaveAttribute('aria-invalid', 'true');
  await expect(tokens.tokenName).toHaveAccessibleDescription(/Enter a token name$/);
  await expect(tokens.section.getByRole('alert').getByRole('link', { name: 'Enter a token name' })).toHaveAttribute(
    'href',
    '#name',
  );
  await expectNoAccessibilityViolations(page, testInfo, 'an API user’s page showing a token form error');

  const token = await tokens.create(tokenName);
  await expect(page).toHaveURL((url) => url.hash === '#api-tokens');
  await expect(tokens.shownOnce).toBeVisible();
  await expect(tokens.newToken).not.toBeEditable();
  await expect(tokens.row(tokenName)).toContainText(token.slice(0, 12));
  await expect(tokens.row(tokenName)).toContainText('Active');
  await expect(tokens.revokeButton(tokenName)).toBeVisible();
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await tokens.copyButton.click();
  await expect(tokens.section.getByRole('status').filter({ hasText: 'Copied.' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  await expectNoAccessibilityViolations(page, testInfo, 'an API user’s page showing its new token');

  // Shown only that once.
  await page.reload();
  await expect(tokens.row(tokenName)).toBeVisible();
  await expect(tokens.newToken).toHaveCount(0);
  await expect(tokens.shownOnce).toHaveCount(0);
  await expect(page.getByText(token)).toHaveCount(0);

  // The program adds a person and asks for her welcome email.
  const created = await callApi(baseURL!, token, 'POST', '/api/v1/users', {
    first_name: grace.firstName,
    last_name: grace.lastName,
    email: grace.email,
    send_welcome_email: true,
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  expect(created.json).toMatchObject({
    kind: 'person',
    state: 'pending',
    first_name: grace.firstName,
    last_name: grace.lastName,
    email: grace.email,
    username: grace.username,
  });
  expect(created.headers.get('location')).toBe(`/api/v1/users/${created.json.id}`);

  // Her welcome email arrives and its link activates her account.
  const welcome = await mailbox.waitForEmail(grace.email);
  expect(welcome.link, 'the welcome email’s link').toMatch(emailedLink(baseURL!, 'activate'));
  const activation = new PasswordLinkPage(otherBrowserPage);
  await activation.open(welcome.link!);
  await activation.expectActivationForm(admin.organisation);
  await activation.activate(grace.password);
  await new SignedInShell(otherBrowserPage).expectHome(grace);

  // The administrator revokes the token…
  await userPage.open(id);
  await tokens.revokeButton(tokenName).click();
  await expect(tokens.notice).toHaveText(
    'The token was revoked: programs using it are refused from their next request.',
  );
  await expect(tokens.row(tokenName)).toContainText('Revoked');
  await expect(tokens.revokeButton(tokenName)).toHaveCount(0);

  // …and the program's next request is refused, as a problem report.
  const refused = await callApi(baseURL!, token, 'GET', '/api/v1/whoami');
  expect(refused.status).toBe(401);
  expect(refused.headers.get('content-type')).toBe('application/problem+json');
  expect(refused.json).toMatchObject({ status: 401, type: '/api/docs#problem-unauthorized' });

  // The problem's type is explained on the API page, which anyone can read.
  const docs = new ApiDocsPage(otherBrowserPage);
  await new SignedInShell(otherBrowserPage).signOut();
  await otherBrowserPage.goto(refused.json.type);
  await docs.expectShown();
  await expect(docs.problemHeading(401)).toHaveAttribute('id', 'problem-unauthorized');
  await expect(docs.problemHeading(401)).toBeInViewport();
});

// The API page: reached from the signed-in pages' footer, public, made from the
// OpenAPI document, readable on a phone and in the dark scheme.
test('the API page explains the API and lists every endpoint and schema', async ({ page, baseURL }, testInfo) => {
  await signIn(page, admin);
  await page.getByRole('contentinfo').getByRole('link', { name: 'API', exact: true }).click();
  const docs = new ApiDocsPage(page);
  await docs.expectShown();
  await expect(docs.gettingStarted.getByText('Authorization: Bearer gat_…', { exact: true })).toBeVisible();
  await expect(docs.gettingStarted).toContainText('Can manage API users and tokens');

  const create = docs.operation('POST', '/api/v1/users');
  await expect(create).toContainText('Can add, delete and manage users');
  await expect(create.getByRole('link', { name: 'NewUser', exact: true })).toHaveAttribute('href', '#schema-NewUser');
  await expect(create.getByRole('table', { name: 'Responses' }).getByRole('rowheader', { name: '201' })).toBeVisible();
  await expect(docs.operation('GET', '/api/v1/users').getByRole('table', { name: 'Parameters' })).toContainText(
    'cursor',
  );
  await expect(docs.schemas.getByRole('heading', { level: 3, name: 'UserList', exact: true })).toBeVisible();
  await expect(docs.schemas.getByRole('region', { name: 'UserList' })).toContainText('next_cursor');
  for (const [status, code] of [
    [422, 'validation'],
    [400, 'bad-request'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'not-found'],
    [409, 'conflict'],
    [429, 'rate-limited'],
    [500, 'internal'],
  ] as const) {
    await expect(docs.problemHeading(status)).toHaveAttribute('id', `problem-${code}`);
  }
  await expectNoAccessibilityViolations(page, testInfo, 'the API page');

  // Every operation in the OpenAPI document is on the page.
  await expect(docs.openApiLink).toHaveAttribute('href', '/api/v1/openapi.json');
  const openApi = (await (await fetch(new URL('/api/v1/openapi.json', baseURL))).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  for (const [path, item] of Object.entries(openApi.paths)) {
    for (const method of Object.keys(item).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))) {
      await expect(docs.operation(method.toUpperCase(), path), `${method} ${path}`).toHaveCount(1);
    }
  }

  // On a phone nothing is wider than the screen; in the dark scheme it still passes.
  await page.setViewportSize({ width: 375, height: 740 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await page.emulateMedia({ colorScheme: 'dark' });
  await expectNoAccessibilityViolations(page, testInfo, 'the API page on a phone, dark scheme');
  await expect(page).toHaveURL(pathnameIs('/api/docs'));
});
