// A rate-limited request is shown as a readable message, with the wait from Retry-After, beside
// the last result, which stays.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { launchBrowser, openEditor, outputBadge, outputText, selectRuntime, setEditorText, waitForFinalStatus } from './lib/browser.mjs';

describe('rate limits', () => {
  let server;
  let browser;
  let page;

  before(async () => {
    // This page runs anonymously, so the per-address limit is the one that bites; the
    // per-user one is lowered too so the case holds for a signed-in page as well.
    server = await startServer('rate-limit', {
      INTEGR8SCODE_RATE_LIMITS_EXECUTE_PER_MINUTE: '2',
      INTEGR8SCODE_RATE_LIMITS_ANONYMOUS_EXECUTE_PER_MINUTE: '2',
    });
    browser = await launchBrowser();
    page = await browser.page();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('says "try again in N s" when the server answers 429', { skip: !!process.env.INTEGR8SCODE_E2E_URL && 'needs its own server' }, async () => {
    await openEditor(page, server.baseUrl);
    await selectRuntime(page, 'python:3.11');
    for (let i = 0; i < 2; i++) {
      await setEditorText(page, `print('result ${i}')\n`);
      await page.getByTestId('run').click();
      assert.equal(await waitForFinalStatus(page), 'completed');
    }
    const executionId = await page.getByTestId('execution-id').textContent();
    await page.getByTestId('run').click();
    const alert = page.getByTestId('refusal');
    await alert.waitFor();
    assert.equal(await alert.getAttribute('role'), 'alert');
    assert.match(await alert.textContent(), /Too many requests — try again in \d+ s/);
    assert.match(await alert.textContent(), /The last result stays below/);
    // The refused run wiped nothing: the last result, its badge and its id are still shown.
    assert.match(await outputText(page), /result 1/);
    assert.equal(await outputBadge(page).getAttribute('data-status'), 'completed');
    assert.equal(await page.getByTestId('execution-id').textContent(), executionId);
    // The page stays usable: the editor and the Run button are still there.
    assert.equal(await page.getByTestId('run').isEnabled(), true);
  });
});
