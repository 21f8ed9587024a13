import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, type TestInfo } from '@playwright/test';

/** The WCAG 2.1 AA rules Gatehouse must meet on every page. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

type AxeResults = Awaited<ReturnType<AxeBuilder['analyze']>>;
type Violation = AxeResults['violations'][number];

/**
 * Runs axe-core on the page as it is now and fails with a readable list of what
 * is wrong. `what` names the page state in the message and the attached report.
 */
export async function expectNoAccessibilityViolations(page: Page, testInfo: TestInfo, what: string) {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  if (results.violations.length > 0) {
    await testInfo.attach(`axe violations: ${what}`, {
      body: JSON.stringify(results.violations, null, 2),
      contentType: 'application/json',
    });
  }
  expect(
    results.violations.map(describe),
    `accessibility violations on ${what} (${page.url()})`,
  ).toEqual([]);
}

function describe(violation: Violation): string {
  const nodes = violation.nodes
    .map((node) => `    - ${node.target.join(' ')}\n      ${node.failureSummary?.replace(/\n/g, '\n      ') ?? ''}`)
    .join('\n');
  return `[${violation.impact ?? 'unknown'}] ${violation.id}: ${violation.help}\n    ${violation.helpUrl}\n${nodes}`;
}
