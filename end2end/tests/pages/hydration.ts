import { expect, type Page } from '@playwright/test';

/**
 * Waits until the wasm app has hydrated the server-rendered page: the browser
 * entry point marks <body data-hydrated="true"> when it is done. Only for pages
 * with JavaScript enabled.
 */
export async function waitForHydration(page: Page): Promise<void> {
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
