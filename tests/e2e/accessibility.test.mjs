// Accessibility of the main pages in both themes, checked with axe-core in the real
// browser (labels, names, roles, contrast, landmarks), plus the keyboard path through the
// editor: reach the runtime picker, the editor and Run without a mouse.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { violations } from './lib/axe.mjs';
import { startServer } from './lib/server.mjs';
import { launchBrowser, openEditor, selectRuntime, waitForFinalStatus } from './lib/browser.mjs';

describe('accessibility', () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer('accessibility');
    browser = await launchBrowser();
    page = await browser.page();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const colorScheme of ['light', 'dark']) {
    it(`has no serious axe violations on the editor with output (${colorScheme})`, async () => {
      await page.emulateMedia({ colorScheme });
      await openEditor(page, server.baseUrl);
      await selectRuntime(page, 'python:3.11');
      await page.getByRole('button', { name: 'Load example' }).click();
      await page.getByTestId('run').click();
      assert.equal(await waitForFinalStatus(page), 'completed');
      const found = await violations(page);
      assert.deepEqual(found, [], JSON.stringify(found, null, 2));
    });

    it(`has no serious axe violations on the log-in and sign-up pages (${colorScheme})`, async () => {
      for (const path of ['/login', '/register']) {
        await page.goto(`${server.baseUrl}${path}`);
        await page.locator('form').waitFor();
        const found = await violations(page);
        assert.deepEqual(found, [], `${path}: ${JSON.stringify(found, null, 2)}`);
      }
    });
  }

  it('can be driven by keyboard alone: picker, editor, run', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await openEditor(page, server.baseUrl);
    // The first Tab reaches the skip link; following it lands in the main content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content');
    const picker = page.getByTestId('runtime-select');
    for (let i = 0; i < 30 && !(await picker.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    assert.ok(await picker.evaluate((el) => el === document.activeElement), 'Tab reaches the runtime picker');
    // Focus is visible: the focused control has an outline.
    const outline = await picker.evaluate((el) => getComputedStyle(el).outlineStyle);
    assert.notEqual(outline, 'none');

    const editor = page.locator('.cm-content');
    for (let i = 0; i < 10 && !(await editor.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    assert.ok(await editor.evaluate((el) => el === document.activeElement), 'Tab reaches the code editor');
    await page.keyboard.press('ControlOrMeta+Enter');
    assert.equal(await waitForFinalStatus(page), 'completed');
    // Escape then Tab leaves the editor (Tab alone indents).
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    assert.ok(!(await editor.evaluate((el) => el === document.activeElement)), 'Escape, Tab leaves the editor');
  });
});
