import { expect, type Page } from '@playwright/test';

/**
 * Brings the page's forms to life and waits until they are: the wasm loads
 * when a person first uses one of them (app/src/ui/page_script.js),
 * so this presses on the first one as they would, then waits for the island to
 * mark <body data-hydrated="true">. Only for pages with JavaScript enabled.
 */
export async function waitForHydration(page: Page): Promise<void> {
  await page.locator('leptos-island').first().dispatchEvent('pointerdown');
  await expect(page.locator('body'), 'the page hydrates (wasm loaded and running)').toHaveAttribute(
    'data-hydrated',
    'true',
  );
}

/** The page may or may not run JavaScript; pages without it never hydrate. */
export interface PageOptions {
  javaScript?: boolean;
}

export function pathnameIs(pathname: string): (url: URL) => boolean {
  return (url) => url.pathname === pathname;
}
