import AxeBuilder from '@axe-core/playwright';
import { test, expect } from './fixtures';
test('axe really runs', async ({ page, noScriptPage }) => {
  await page.goto('/sign-in');
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  console.log('axe passes', r.passes.length, 'violations', r.violations.length, 'incomplete', r.incomplete.map(i => i.id));
  await page.evaluate(() => { const i = document.createElement('input'); document.body.append(i); });
  const r2 = await new AxeBuilder({ page }).withTags(['wcag2a']).analyze();
  expect(r2.violations.map(v => v.id)).toContain('label');
  await noScriptPage.goto('/sign-in');
  console.log('noscript evaluate:', await noScriptPage.evaluate(() => 1).catch(e => 'fails: ' + e.message.split('\n')[0]));
  const wasmRequests: string[] = [];
  noScriptPage.on('request', r => wasmRequests.push(r.url()));
  await noScriptPage.reload();
  console.log('noscript requests', wasmRequests);
});
