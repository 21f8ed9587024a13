import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests of the release build of Gatehouse.
 *
 * `tests/support/global-setup.ts` starts the real server on a free port with a fresh
 * SQLite database and reads the one-time setup link it prints; the `first-run` project
 * uses that link to create the administrator that every other test signs in as, so it
 * runs first and the tests run one at a time in a single worker.
 *
 * The browser is Debian's Chromium: never `npx playwright install` (see
 * shared/TOOLCHAIN.md).
 */
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  globalSetup: './tests/support/global-setup.ts',
  globalTeardown: './tests/support/global-teardown.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    // The base URL is only known once global setup has started the server: the
    // fixtures in tests/fixtures.ts provide it to every test.
    browserName: 'chromium',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    locale: 'en-GB',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [
    {
      // The setup link works once: this creates the administrator the others use.
      name: 'first-run',
      testMatch: /first-run\.setup\.ts$/,
    },
    {
      name: 'chromium',
      testMatch: /\.spec\.ts$/,
      dependencies: ['first-run'],
    },
    // Timings, reported and never asserted: only when asked for
    // (GATEHOUSE_BENCHMARKS=1 npx playwright test --project=benchmarks).
    ...(process.env.GATEHOUSE_BENCHMARKS
      ? [{ name: 'benchmarks', testDir: './benchmarks', testMatch: /\.bench\.ts$/, dependencies: ['first-run'] }]
      : []),
  ],
});
