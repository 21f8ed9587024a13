import { expect, type CDPSession, type Page } from '@playwright/test';

interface Transfer {
  url: string;
  /** Chromium's resource type: Document, Script, Stylesheet, Fetch, Other… */
  type: string;
  /** Bytes received over the network, headers included (0 when served from the cache). */
  bytes: number;
  finished: boolean;
}

/**
 * Counts the bytes a page really downloads, as Chromium itself reports them
 * (DevTools protocol, `Network.loadingFinished.encodedDataLength`): compressed
 * bodies and headers, nothing for what the browser's cache served.
 */
export class Transfers {
  private readonly seen = new Map<string, Transfer>();

  private constructor(private readonly cdp: CDPSession) {
    cdp.on('Network.responseReceived', (event) => {
      this.seen.set(event.requestId, { url: event.response.url, type: event.type, bytes: 0, finished: false });
    });
    cdp.on('Network.loadingFinished', (event) => {
      const transfer = this.seen.get(event.requestId);
      if (transfer) {
        transfer.bytes = event.encodedDataLength;
        transfer.finished = true;
      }
    });
    cdp.on('Network.loadingFailed', (event) => {
      const transfer = this.seen.get(event.requestId);
      if (transfer) transfer.finished = true;
    });
  }

  static async watch(page: Page): Promise<Transfers> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    return new Transfers(cdp);
  }

  /** Empties the browser's HTTP cache, for a first visit. */
  async clearCache(): Promise<void> {
    await this.cdp.send('Network.clearBrowserCache');
  }

  /** Waits until every download that started has finished (or failed). */
  async settled(): Promise<void> {
    await expect
      .poll(() => [...this.seen.values()].filter((t) => !t.finished).map((t) => t.url), {
        message: 'downloads still under way',
      })
      .toEqual([]);
  }

  /** Starts counting afresh. */
  reset(): void {
    this.seen.clear();
  }

  /** Everything downloaded since the last reset. */
  total(): number {
    return [...this.seen.values()].reduce((sum, t) => sum + t.bytes, 0);
  }

  /** Everything but the pages' HTML: scripts, wasm, styles, icons. */
  assets(): number {
    return [...this.seen.values()].filter((t) => t.type !== 'Document').reduce((sum, t) => sum + t.bytes, 0);
  }

  /** One line per download, for the test's report and its failure message. */
  report(): string {
    return [...this.seen.values()].map((t) => `${t.bytes.toString().padStart(8)} B  ${t.type}  ${t.url}`).join('\n');
  }
}
