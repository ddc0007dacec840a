// When the server goes away the page says so and keeps working: a banner that retries with
// backoff and disappears by itself once the server is back; errors are sentences, never a
// blank page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { launchBrowser, openEditor, outputBadge, outputText, screenshotBoth, selectRuntime, setEditorText, waitForFinalStatus, waitForOutput } from './lib/browser.mjs';

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
    // The stale "Cannot reach the server" went with the banner.
    await page.getByTestId('refusal').waitFor({ state: 'detached' });
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
  });

  it('keeps the last result when a run is refused because the server is down', async () => {
    await openEditor(page, server.baseUrl);
    await selectRuntime(page, 'python:3.11');
    await setEditorText(page, "print('the last result')\n");
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    const executionId = await page.getByTestId('execution-id').textContent();

    await server.halt();
    await page.getByTestId('run').click();
    const refusal = page.getByTestId('refusal');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /Cannot reach the server/);
    assert.match(await outputText(page), /the last result/);
    assert.equal(await outputBadge(page).getAttribute('data-status'), 'completed');
    assert.equal(await page.getByTestId('execution-id').textContent(), executionId);
    await screenshotBoth(page, 'editor-refused');

    await server.resume();
    await refusal.waitFor({ state: 'detached', timeout: 60_000 });
    assert.match(await outputText(page), /the last result/);
  });

  it('says so when the server dies mid-run, polls, and shows the result once it is back', async () => {
    await openEditor(page, server.baseUrl);
    await selectRuntime(page, 'python:3.11');
    await setEditorText(page, "import time\nprint('started', flush=True)\ntime.sleep(3)\nprint('finished')\n");
    await page.getByTestId('run').click();
    await waitForOutput(page, 'started');

    await server.kill();
    // Not "reconnecting…" forever: the stream's failure leads to a poll, which cannot reach
    // the server, which brings the banner and a sentence in the output panel.
    await page.getByTestId('server-banner').waitFor({ timeout: 30_000 });
    await page.getByTestId('stream-lost').waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('stream-lost').textContent(), /Lost the connection/);
    await screenshotBoth(page, 'editor-server-lost');

    // Back: the interrupted run is recovered by the server (run again or marked failed) and
    // the page shows its outcome without a reload.
    await server.resume();
    const status = await waitForFinalStatus(page, 90_000);
    assert.ok(['completed', 'error'].includes(status), `final status ${status}`);
    await page.getByTestId('stream-lost').waitFor({ state: 'detached' });
    await page.getByTestId('server-banner').waitFor({ state: 'detached', timeout: 60_000 });
    if (status === 'completed') await waitForOutput(page, 'finished');
  });

  it('says "offline" when a page cannot be loaded while the browser is offline', async () => {
    await openEditor(page, server.baseUrl);
    await browser.context.setOffline(true);
    try {
      // A client-side route whose code this page has not fetched yet.
      await page.evaluate(() => {
        history.pushState({}, '', '/history');
        dispatchEvent(new PopStateEvent('popstate'));
      });
      const alert = page.getByTestId('chunk-error');
      await alert.waitFor();
      assert.match(await alert.textContent(), /You are offline/);
      assert.doesNotMatch(await alert.textContent(), /updated/);
    } finally {
      await browser.context.setOffline(false);
    }
  });

  it('shows an unknown execution id as a message, not a blank page', async () => {
    await page.goto(`${server.baseUrl}/executions/00000000-0000-4000-8000-000000000000`);
    const alert = page.locator('main [role="alert"]').first();
    await alert.waitFor();
    assert.ok((await alert.textContent()).trim().length > 0);
    await page.getByRole('link', { name: 'Back to history' }).waitFor();
  });
});
