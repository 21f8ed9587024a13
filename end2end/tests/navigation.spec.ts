import { admin, expect, signIn, test } from './fixtures';
import { pathnameIs } from './pages/hydration';

// Links and searches within Gatehouse show the next page in the same document
// (app/src/ui/page_script.js): no reload, the right title, address, focus and
// current link, back and forward, and the islands of the page shown work.
test('links show the next page without reloading the document', async ({ page, shell, usersPage, addUserPage }) => {
  await signIn(page, admin);
  // Gone if the document is ever reloaded.
  await page.evaluate(() => {
    (window as { sameDocument?: boolean }).sameDocument = true;
  });
  const sameDocument = () => page.evaluate(() => (window as { sameDocument?: boolean }).sameDocument === true);
  let documentsLoaded = 0;
  page.on('load', () => documentsLoaded++);
  const current = (link: typeof shell.homeLink) => expect(link).toHaveAttribute('aria-current', 'page');

  // Home (no island, so no wasm yet) → Users (an island).
  await current(shell.homeLink);
  await shell.usersLink.click();
  await usersPage.expectShown();
  expect(await sameDocument(), 'Users is shown in the same document').toBe(true);
  await expect(page).toHaveTitle('Users · Gatehouse');
  await current(shell.usersLink);
  await expect(shell.homeLink, 'the link of the page left is no longer current').not.toHaveAttribute('aria-current');
  // A screen reader starts at the new page's content.
  await expect(page.locator('main')).toBeFocused();

  // The live search of a page that arrived after the first one runs, and its
  // results are shown the same way.
  await usersPage.search.pressSequentially(admin.lastName, { delay: 50 });
  await usersPage.expectSearchedFor(admin.lastName);
  await expect(usersPage.row(admin.username)).toHaveCount(1);
  await expect(usersPage.search, 'the search box keeps the focus after its results arrive').toBeFocused();

  // Add a user, hydrated on arrival now that the wasm is running: the username
  // is made from the names as they are typed.
  await usersPage.addUserLink.click();
  await addUserPage.expectShown();
  await addUserPage.firstName.fill('Navigation');
  await addUserPage.lastName.fill('Tester');
  await expect(addUserPage.username).toHaveValue('navigation.tester');

  // Back and forward show the pages again, in the same document.
  await page.goBack();
  await expect(page).toHaveURL((url) => url.pathname === '/users' && url.searchParams.get('q') === admin.lastName);
  await expect(usersPage.heading).toBeVisible();
  await expect(usersPage.search).toHaveValue(admin.lastName);
  await page.goBack();
  await page.goBack();
  await shell.expectHome(admin);
  await current(shell.homeLink);
  await page.goForward();
  await usersPage.expectShown();
  expect(await sameDocument(), 'back and forward stay in the same document').toBe(true);

  // The skip link stays within the page.
  await shell.homeLink.click();
  await shell.expectHome(admin);
  await page.getByRole('link', { name: 'Skip to main content' }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL((url) => url.pathname === '/' && url.hash === '#main');
  await shell.expectHome(admin);

  expect(await sameDocument(), 'every page was shown in the first document').toBe(true);
  expect(documentsLoaded, 'no document was loaded').toBe(0);

  // Forms that change something still load the page they lead to.
  await shell.signOutButton.click();
  await expect(page).toHaveURL(pathnameIs('/sign-in'));
  expect(await sameDocument(), 'signing out loads the sign-in page').toBe(false);
});

// The island scripts of a page shown in place run with this document's nonce,
// so the page script takes only those the server gave that response's nonce
// (its Content-Security-Policy header): never scripts from a page's content.
test('a page shown in place brings only the island scripts its server nonced', async ({ page, shell, usersPage }) => {
  await signIn(page, admin);
  // The Users page as if its island scripts had not come from the server.
  await page.route(/\/users$/, async (route) => {
    const response = await route.fetch();
    const forged = (await response.text()).replace(
      /(<template id="island-scripts">[\s\S]*?<script[^>]*? nonce=")[^"]+"/,
      '$1forged"',
    );
    expect(forged, 'the page has island scripts to forge').toContain('nonce="forged"');
    await route.fulfill({ response, body: forged });
  });
  const wasm: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('.wasm')) wasm.push(request.url());
  });
  await shell.usersLink.click();
  await expect(usersPage.heading).toBeVisible();
  await page.locator('leptos-island').first().dispatchEvent('pointerdown');
  await usersPage.search.fill('anything');
  await page.waitForTimeout(1_000);
  expect(wasm, 'no island script was loaded').toEqual([]);
  expect(await page.locator('body').getAttribute('data-hydrated')).toBeNull();

  // The same page from the server as it is comes to life.
  await page.unroute(/\/users$/);
  await shell.homeLink.click();
  await shell.expectHome(admin);
  await shell.usersLink.click();
  await usersPage.expectShown();
  expect(wasm.length, 'its wasm loaded').toBeGreaterThan(0);
});

// What is not a page of Gatehouse, and a page of another release, the browser
// loads whole, as without the page script.
test('addresses that are not pages, and pages of another release, load whole', async ({ page, shell, usersPage, addUserPage }) => {
  await signIn(page, admin);
  const requests: string[] = [];
  page.on('request', (request) => requests.push(`${request.resourceType()} ${new URL(request.url()).pathname}`));
  // Gone once the document is replaced.
  const markDocument = () =>
    page.evaluate(() => {
      (window as { marked?: boolean }).marked = true;
    });
  const loadedWhole = (what: string) =>
    expect
      .poll(() => page.evaluate(() => (window as { marked?: boolean }).marked === true), { message: `${what} is loaded whole` })
      .toBe(false);

  // The OpenAPI document is the browser's to load: the script does not fetch it first.
  await page.getByRole('link', { name: 'OpenAPI document (JSON)' }).click();
  await expect(page).toHaveURL(pathnameIs('/api/v1/openapi.json'));
  expect(requests.filter((r) => r.endsWith('/api/v1/openapi.json'))).toEqual(['document /api/v1/openapi.json']);

  const release = (pattern: RegExp) =>
    page.route(/\/users(\/new)?$/, async (route) => {
      const response = await route.fetch();
      const html = await response.text();
      const changed = html.replace(pattern, '$1?release=next"');
      expect(changed, `the page has ${pattern}`).not.toEqual(html);
      await route.fulfill({ response, body: changed });
    });

  // Another release's stylesheet.
  await page.goto('/');
  await markDocument();
  await release(/(<link id="leptos" rel="stylesheet" href="[^"]+)"/);
  await shell.usersLink.click();
  await expect(usersPage.heading).toBeVisible();
  await loadedWhole('Users');
  await page.unrouteAll();

  // Another release's wasm, while this page's was never loaded.
  await page.goto('/users');
  await markDocument();
  await release(/(rel="preload" href="[^"]+\.wasm)"/);
  await usersPage.addUserLink.click();
  await expect(addUserPage.heading).toBeVisible();
  await loadedWhole('Add a user');
});
