import { admin, expect, signIn, test, type Person } from './fixtures';
import { waitForHydration } from './pages/hydration';
import { Transfers } from './support/transfers';

// What a browser downloads, measured by Chromium itself (docs/benchmarks.md keeps the
// figures): the sign-in and activation pages are small on a first visit, the heaviest
// page stays within budget with its wasm, and a repeat visit downloads no assets.
const KB = 1024;
const FIRST_VISIT_BUDGET = 30 * KB;
const HEAVIEST_PAGE_BUDGET = 200 * KB;

const owain: Person = {
  firstName: 'Owain',
  lastName: 'Price',
  displayName: 'Owain Price',
  email: 'owain.price@riverside.example',
  username: 'owain.price',
  initials: 'OP',
  organisation: admin.organisation,
  password: 'quarry bluebell anchor 55',
};

test('first visits stay small and a repeat visit downloads no assets', async ({
  browser,
  baseURL,
  locale,
  page,
  addUserPage,
  mailbox,
}, testInfo) => {
  const figures: string[] = [];
  const measure = async (label: string, transfers: Transfers, budget?: number) => {
    await transfers.settled();
    const total = transfers.total();
    figures.push(`${label}: ${total} B (assets ${transfers.assets()} B)\n${transfers.report()}`);
    if (budget !== undefined) expect(total, `${label}\n${transfers.report()}`).toBeLessThanOrEqual(budget);
    return total;
  };
  const firstVisit = async (label: string, path: string) => {
    const context = await browser.newContext({ baseURL, locale });
    const stranger = await context.newPage();
    const transfers = await Transfers.watch(stranger);
    await stranger.goto(path);
    await stranger.waitForLoadState('networkidle');
    await measure(label, transfers, FIRST_VISIT_BUDGET);
    return { context, stranger, transfers };
  };

  const signInVisit = await firstVisit('sign-in page, first visit', '/sign-in');
  await signInVisit.context.close();

  await signIn(page, admin);
  await addUserPage.open();
  await addUserPage.fillIn(owain, { welcomeEmail: true });
  await addUserPage.submit();
  const welcome = await mailbox.waitForEmail(owain.email);
  const activation = await firstVisit('activation page, first visit', new URL(welcome.link!).pathname);
  // Starting to type brings the wasm for the live password checks.
  activation.transfers.reset();
  await activation.stranger.getByLabel('Password', { exact: true }).focus();
  await waitForHydration(activation.stranger);
  await activation.stranger.waitForLoadState('networkidle');
  await measure('activation page, once typing starts', activation.transfers, HEAVIEST_PAGE_BUDGET);
  await activation.context.close();

  // The signed-in pages with forms that run in the browser, from an empty cache.
  const transfers = await Transfers.watch(page);
  for (const path of ['/users', '/users/new']) {
    await transfers.clearCache();
    transfers.reset();
    await page.goto(path);
    await waitForHydration(page);
    await page.waitForLoadState('networkidle');
    await measure(`${path}, first visit with its wasm`, transfers, HEAVIEST_PAGE_BUDGET);
  }

  // A repeat visit takes every asset from the cache: only the page itself comes.
  transfers.reset();
  await page.goto('/users');
  await waitForHydration(page);
  await page.waitForLoadState('networkidle');
  await measure('/users, repeat visit', transfers);
  expect(transfers.assets(), `assets downloaded on a repeat visit\n${transfers.report()}`).toBe(0);

  await testInfo.attach('transfer sizes', { body: figures.join('\n\n'), contentType: 'text/plain' });
  console.log(figures.join('\n\n'));
});
