// Limits chosen in the UI reach the run (and are remembered per browser); a signed-in owner
// shares a run's permalink, a signed-out second browser opens it and forks it into its
// editor, and the owner takes the link back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import {
  editorText,
  launchBrowser,
  openEditor,
  outputText,
  screenshotBoth,
  selectRuntime,
  setEditorText,
  uniqueName,
  waitForFinalStatus,
} from './lib/browser.mjs';

describe('limits you choose, and sharing', () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer('share-limits');
    browser = await launchBrowser();
    page = await browser.page();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function setLimit(name, value) {
    const input = page.getByTestId(`limit-${name}`);
    await input.fill(String(value));
    await input.press('Enter');
    await input.blur();
  }

  it('sends the limits chosen in the Limits menu, remembers them, and shows them with the result', async () => {
    await openEditor(page, server.baseUrl);
    await selectRuntime(page, 'python:3.11');
    await page.getByTestId('limits-button').click();
    // The maximums from /limits are shown beside each control.
    const limits = await (await fetch(`${server.baseUrl}/api/v1/limits`)).json();
    assert.equal(await page.getByTestId('limit-timeout_ms').getAttribute('max'), String(limits.maximum.timeout_ms / 1000));
    assert.match(await page.locator('#limit-timeout_ms-max').textContent(), new RegExp(`^max ${limits.maximum.timeout_ms / 1000} s$`));
    assert.match(await page.locator('#limit-memory_bytes-max').textContent(), /^max \d/);
    await setLimit('timeout_ms', 2);
    await setLimit('memory_bytes', 64);
    await screenshotBoth(page, 'editor-limits', {
      reopen: async () => {
        const button = page.getByTestId('limits-button');
        if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
      },
    });

    await page.reload();
    await page.locator('[data-testid="runtime-select"]:not([disabled])').waitFor();
    await page.getByTestId('limits-button').click();
    assert.equal(await page.getByTestId('limit-timeout_ms').inputValue(), '2', 'remembered in this browser');
    assert.equal(await page.getByTestId('limit-memory_bytes').inputValue(), '64');
    await page.getByTestId('limits-button').click();

    await setEditorText(page, "import time\nprint('slow start', flush=True)\ntime.sleep(4)\n");
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'timed_out', 'the 2 s limit chosen applied, not the 5 s default');
    const id = (await page.getByTestId('execution-id').textContent()).trim();
    const record = await (await fetch(`${server.baseUrl}/api/v1/executions/${id}`)).json();
    assert.equal(record.limits.timeout_ms, 2000);
    assert.equal(record.limits.memory_bytes, 64 * 1024 * 1024);
    assert.match(await page.getByTestId('run-limits').textContent(), /Limits of this run: 2 s · 64 MiB memory/);

    await page.getByTestId('limits-button').click();
    await page.getByRole('button', { name: 'Reset to defaults' }).click();
    await page.getByTestId('limits-button').click();
    await setEditorText(page, "print('defaults again')\n");
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    assert.match(await page.getByTestId('run-limits').textContent(), /Limits of this run: 5 s · 128 MiB memory/);
  });

  it('shows compile time apart from run time for a compiled language', async () => {
    const runtimes = await (await fetch(`${server.baseUrl}/api/v1/runtimes`)).json();
    const list = Array.isArray(runtimes) ? runtimes : (runtimes.runtimes ?? runtimes.items ?? []);
    const compiled = list.find((r) => r.has_compile && r.available && r.lang === 'c') ?? list.find((r) => r.has_compile && r.available);
    if (!compiled) return; // no compiler on this machine
    await openEditor(page, server.baseUrl);
    await selectRuntime(page, `${compiled.lang}:${compiled.version}`);
    await page.getByRole('button', { name: 'Load example' }).click();
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page, 120_000), 'completed');
    const compile = (await page.getByTestId('compile-time').textContent()).trim();
    assert.match(compile, /^\d+(\.\d+)? (ms|s)$/);
    const run = (await page.getByTestId('wall-time').textContent()).trim();
    console.log(`${compiled.display_name}: compile ${compile}, run ${run}`);
  });

  it('shares a run: a signed-out browser opens the link and forks it; revoking closes the link', async () => {
    const username = uniqueName('share');
    await page.goto(`${server.baseUrl}/register`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Email').fill(`${username}@example.com`);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('current-user').getByText(username).waitFor();

    await openEditor(page, server.baseUrl);
    await selectRuntime(page, 'python:3.11');
    const program = "print('shared output')\n";
    await setEditorText(page, program);
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    await page.getByTestId('execution-id').click();
    await page.getByTestId('share-button').click();
    const permalink = (await page.getByTestId('permalink').textContent()).trim();
    assert.match(permalink, /\/executions\/[0-9a-f-]{36}$/);
    await screenshotBoth(page, 'execution-shared');

    const stranger = await launchBrowser();
    try {
      const other = await stranger.page();
      await other.goto(permalink);
      await other.getByRole('heading', { name: 'Run result' }).waitFor();
      await other.locator('[data-testid="output"]').getByText('shared output').waitFor();
      assert.match(await other.locator('.cm-content').first().textContent(), /shared output/);
      assert.equal(await other.getByTestId('unshare').count(), 0, 'only the owner can revoke');
      await screenshotBoth(other, 'execution-shared-signed-out');
      await other.getByTestId('fork').click();
      await other.locator('[data-testid="runtime-select"]:not([disabled])').waitFor();
      assert.equal(await editorText(other), program);
      await other.getByTestId('run').click();
      assert.equal(await waitForFinalStatus(other), 'completed');
      assert.match(await outputText(other), /shared output/);

      await page.getByTestId('unshare').click();
      await page.getByTestId('share-button').waitFor();
      await other.goto(permalink);
      const alert = other.locator('main [role="alert"]').first();
      await alert.waitFor();
      assert.match(await alert.textContent(), /No execution with id/);
    } finally {
      await stranger.close();
    }
  });
});
