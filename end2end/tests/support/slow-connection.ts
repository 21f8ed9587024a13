import { expect, type Page } from '@playwright/test';

/**
 * Holds every wasm download back for `delayMs`, as a slow phone connection would,
 * so a test can use a page before its forms come to life.
 */
export async function delayWasm(page: Page, delayMs = 3000): Promise<void> {
  await page.route(/\/pkg\/[^/]+\.wasm$/, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    await route.continue();
  });
}

/**
 * The page's forms are not running in the browser yet: what the test did so far
 * happened before hydration, which is what it means to test.
 */
export async function expectNotHydratedYet(page: Page): Promise<void> {
  expect(await page.locator('body').getAttribute('data-hydrated'), 'the wasm has not arrived yet').toBeNull();
}

/** The forms came to life by themselves (the person's own use loaded the wasm). */
export async function expectHydrated(page: Page): Promise<void> {
  await expect(page.locator('body'), 'the page hydrates (wasm loaded and running)').toHaveAttribute(
    'data-hydrated',
    'true',
  );
}
