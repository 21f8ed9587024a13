import type { Locator, Page } from '@playwright/test';
import { admin, signIn, test } from '../tests/fixtures';

// The time from a click to the next page, shown, on the administrator's common
// path (docs/benchmarks.md, "Time from a click to the next page"). The page
// script shows it in the same document and changes the address as it does;
// a page loaded whole would count until its `load` event. A benchmark, not a test:
// it reports and checks nothing about time. Run it with
//   GATEHOUSE_BENCHMARKS=1 npx playwright test --project=benchmarks
const ROUNDS = 20;

interface Step {
  name: string;
  link: (page: Page) => Locator;
  lands: RegExp;
}

const steps: Step[] = [
  {
    name: 'Home → Users',
    link: (page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users', exact: true }),
    lands: /\/users$/,
  },
  {
    name: 'Users → an account',
    // The first account's name (the header row's links sort the table).
    link: (page) =>
      page
        .getByRole('table', { name: 'Accounts' })
        .getByRole('row')
        .filter({ has: page.getByRole('cell') })
        .first()
        .getByRole('link'),
    lands: /\/users\/\d+$/,
  },
  {
    name: 'account → Users',
    link: (page) => page.getByRole('link', { name: 'Back to users', exact: true }),
    lands: /\/users$/,
  },
  {
    name: 'Users → Add a user',
    link: (page) => page.getByRole('link', { name: 'Add a user', exact: true }),
    lands: /\/users\/new$/,
  },
  {
    name: 'Add a user → Home',
    link: (page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home', exact: true }),
    lands: /\/$/,
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((sorted.length * p) / 100) - 1)];
}

test('time from a click to the next page on the administrator’s common path', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  await signIn(page, admin);
  // Each step both ways, in alternate rounds: the page shown in this document,
  // and loaded whole, as every click was before the page script (the same
  // click, on a link the script leaves alone, until the `load` event).
  const inPlace = new Map(steps.map((step) => [step.name, [] as number[]]));
  const whole = new Map(steps.map((step) => [step.name, [] as number[]]));
  for (let round = 0; round < 2 * ROUNDS; round++) {
    for (const step of steps) {
      const link = step.link(page);
      await link.waitFor();
      const loadWhole = round % 2 === 1;
      // The page script leaves links with a target to the browser.
      if (loadWhole) await link.evaluate((a) => a.setAttribute('target', '_self'));
      const started = performance.now();
      await link.click();
      await page.waitForURL(step.lands, { waitUntil: 'load' });
      (loadWhole ? whole : inPlace).get(step.name)!.push(performance.now() - started);
    }
  }
  const times = (measured: number[]) => {
    const sorted = [...measured].sort((a, b) => a - b);
    return `${percentile(sorted, 50).toFixed(0)} ms | ${percentile(sorted, 95).toFixed(0)} ms`;
  };
  const lines = ['| step | shown in place p50 | p95 | loaded whole p50 | p95 |', '|---|---|---|---|---|'];
  for (const step of steps) {
    lines.push(`| ${step.name} | ${times(inPlace.get(step.name)!)} | ${times(whole.get(step.name)!)} |`);
  }
  const report = `click to next page, ${ROUNDS} rounds each way\n${lines.join('\n')}`;
  await testInfo.attach('navigation times', { body: report, contentType: 'text/plain' });
  console.log(report);
});
