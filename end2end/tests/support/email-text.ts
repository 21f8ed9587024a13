/**
 * Reads "until 26 November 2026 at 09:00 UTC" (how Gatehouse's emails say when a
 * link stops working) back into a time.
 */
const EXPIRY = /until (\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|December) (\d{4}) at (\d{2}):(\d{2}) UTC/;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export function linkExpiry(text: string): Date | undefined {
  const match = EXPIRY.exec(text);
  if (!match) return undefined;
  const [, day, month, year, hour, minute] = match;
  return new Date(Date.UTC(Number(year), MONTHS.indexOf(month), Number(day), Number(hour), Number(minute)));
}

/** Whether `time` is `hours` from `from`, give or take a few minutes. */
export function isAbout(time: Date | undefined, from: Date, hours: number, toleranceMinutes = 5): boolean {
  if (!time) return false;
  return Math.abs(time.getTime() - (from.getTime() + hours * 3_600_000)) <= toleranceMinutes * 60_000;
}

/** An emailed link on the test server: `<baseURL>/<path>/<64 hex>` (256 random bits). */
export function emailedLink(baseURL: string, path: 'activate' | 'set-password'): RegExp {
  const escaped = baseURL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}/${path}/[0-9a-f]{64}$`);
}
