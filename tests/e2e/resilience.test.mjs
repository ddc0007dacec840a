// When the server goes away the page says so and keeps working: a banner that retries with
// backoff and disappears by itself once the server is back; errors are sentences, never a
// blank page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { launchBrowser, openEditor, selectRuntime, setEditorText, waitForFinalStatus } from './lib/browser.mjs';

describe('server outage', { skip: !!process.env.INTEGR8SCODE_E2E_URL && 'needs a server it can stop' }, () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer('resilience');
    browser = await launchBrowser();
    page = await browser.page();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows a retrying banner while the server is down and hides it when it is back', async () => {
    await openEditor(page, server.baseUrl);
    await selectRuntime(page, 'python:3.11');
    await setEditorText(page, "print('still here')\n");

    await server.halt();
    await page.getByTestId('run').click();
    const banner = page.getByTestId('server-banner');
    await banner.waitFor();
    assert.match(await banner.textContent(), /cannot be reached/i);
    const alert = page.locator('section.output [role="alert"]');
    assert.match(await alert.textContent(), /Cannot reach the server/);
    // The editor is intact.
    assert.match(await page.locator('.cm-content').textContent(), /still here/);

    await server.resume();
    await banner.waitFor({ state: 'detached', timeout: 60_000 });
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
  });

  it('shows an unknown execution id as a message, not a blank page', async () => {
    await page.goto(`${server.baseUrl}/executions/00000000-0000-4000-8000-000000000000`);
    const alert = page.locator('main [role="alert"]').first();
    await alert.waitFor();
    assert.ok((await alert.textContent()).trim().length > 0);
    await page.getByRole('link', { name: 'Back to history' }).waitFor();
  });
});
