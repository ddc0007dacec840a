// The editor against a real server and the real sandbox: the original's sample on two
// Python versions, live output, cancel, and screenshots of the editor for review.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import {
  launchBrowser,
  openEditor,
  outputBadge,
  outputText,
  screenshot,
  selectRuntime,
  setEditorText,
  waitForFinalStatus,
  waitForOutput,
} from './lib/browser.mjs';

const kMatchLines = ['An integer greater than 10', 'A string: hello', 'Something else'];

describe('editor', () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer('editor');
    browser = await launchBrowser();
    page = await browser.page();
    await openEditor(page, server.baseUrl);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lists runtimes by display name and starts with the match-statement example', async () => {
    await openEditor(page, server.baseUrl);
    const options = await page.locator('[data-testid="runtime-select"] option').allTextContents();
    assert.ok(options.some((o) => o.trim() === 'Python 3.11'), `Python 3.11 listed in ${options}`);
    assert.ok(options.some((o) => o.trim().startsWith('Python 3.9 (PyPy)')), `Python 3.9 (PyPy) listed in ${options}`);
    await selectRuntime(page, 'python:3.11');
    await page.getByRole('button', { name: 'Load example' }).click();
    const text = await page.locator('.cm-content').textContent();
    assert.match(text, /match data:/);
  });

  it('runs the match-statement sample on Python 3.11 and prints its three lines', async () => {
    await selectRuntime(page, 'python:3.11');
    await page.getByRole('button', { name: 'Load example' }).click();
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    const output = await outputText(page);
    for (const line of kMatchLines) assert.ok(output.includes(line), `"${line}" in output:\n${output}`);
    assert.equal((await page.getByTestId('exit-code').textContent()).trim(), '0');
    assert.match(await page.getByTestId('execution-id').textContent(), /^[0-9a-f-]{36}$/);
  });

  it('runs the same code on Python 3.9 and shows the SyntaxError', async () => {
    // Same language: switching the version keeps the code, as in the original's demo.
    await selectRuntime(page, 'python:3.9');
    assert.match(await page.locator('.cm-content').textContent(), /match data:/);
    await page.keyboard.press('ControlOrMeta+Enter');
    assert.equal(await waitForFinalStatus(page), 'failed');
    const output = await outputText(page);
    assert.match(output, /SyntaxError/);
    assert.ok(!output.includes('An integer greater than 10'));
    // stderr is shown in its own (warning) colour.
    assert.ok((await page.locator('[data-testid="output"] [data-stream="stderr"]').count()) > 0);
  });

  it('streams output live: the first line is on screen before the second is printed', async () => {
    await selectRuntime(page, 'python:3.11');
    await setEditorText(page, "import time\nprint('first line', flush=True)\ntime.sleep(1)\nprint('second line')\n");
    await page.getByTestId('run').click();
    await waitForOutput(page, 'first line');
    const early = await outputText(page);
    assert.ok(!early.includes('second line'), `the second line came with the first:\n${early}`);
    assert.equal(await outputBadge(page).getAttribute('data-status'), 'running');
    assert.equal(await waitForFinalStatus(page), 'completed');
    assert.match(await outputText(page), /first line\s+second line/);
  });

  it('renders ANSI colours, escapes HTML and shows stderr apart', async () => {
    await setEditorText(
      page,
      "import sys\nprint('\\x1b[32mgreen\\x1b[0m <b>not bold</b>')\nprint('careful', file=sys.stderr)\n",
    );
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    const output = page.getByTestId('output');
    assert.equal((await output.locator('.ansi-green-fg').textContent()).trim(), 'green');
    assert.equal(await output.locator('b').count(), 0, 'program output is never parsed as HTML');
    assert.match(await output.textContent(), /<b>not bold<\/b>/);
    assert.match(await output.locator('[data-stream="stderr"]').textContent(), /careful/);
  });

  it('passes the stdin box to the program', async () => {
    await setEditorText(page, "name = input()\nprint(f'hello, {name}!')\n");
    await page.getByRole('button', { name: 'Input (stdin)' }).click();
    await page.getByLabel('Standard input for the program').fill('Ada');
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    assert.match(await outputText(page), /hello, Ada!/);
    await page.getByLabel('Standard input for the program').fill('');
  });

  it('cancels a running program', async () => {
    await setEditorText(page, "import time\nprint('started', flush=True)\ntime.sleep(30)\nprint('never')\n");
    await page.getByTestId('run').click();
    await waitForOutput(page, 'started');
    await page.getByTestId('cancel').click();
    assert.equal(await waitForFinalStatus(page), 'cancelled');
    assert.match(await page.getByTestId('outcome').textContent(), /Cancelled/);
    assert.ok(!(await outputText(page)).includes('never'));
    assert.equal(await page.getByTestId('run').isEnabled(), true);
  });

  it('takes screenshots of the editor, light and dark, desktop and 360 px', async () => {
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      for (const [label, viewport] of [
        ['1280', { width: 1280, height: 800 }],
        ['360', { width: 360, height: 780 }],
      ]) {
        await page.setViewportSize(viewport);
        await openEditor(page, server.baseUrl);
        await selectRuntime(page, 'python:3.11');
        await page.getByRole('button', { name: 'Load example' }).click();
        await page.getByTestId('run').click();
        assert.equal(await waitForFinalStatus(page), 'completed');
        const theme = await page.evaluate(() => document.documentElement.dataset.theme);
        assert.equal(theme, colorScheme, 'the page follows the system theme');
        // Nothing may stick out sideways at 360 px.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `page is ${overflow}px wider than the ${viewport.width}px viewport`);
        // On a phone the output is below the editor: take the whole page.
        await screenshot(page, `editor-${colorScheme}-${label}`, { fullPage: viewport.width < 600 });
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('switches theme by hand and remembers it across a reload', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await openEditor(page, server.baseUrl);
    const toggle = page.getByTestId('theme-toggle');
    await toggle.click(); // system → light
    await toggle.click(); // light → dark
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.reload();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.evaluate(() => localStorage.removeItem('integr8scode-theme'));
  });

  it('serves client-side routes and the API reference page', async () => {
    await page.goto(`${server.baseUrl}/no/such/page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    // Everything the reference page loads comes from this server (no CDN logo).
    const remote = [];
    const onRequest = (request) => {
      const url = request.url();
      if (!url.startsWith(server.baseUrl) && !url.startsWith('data:') && !url.startsWith('blob:')) remote.push(url);
    };
    page.on('request', onRequest);
    await page.goto(`${server.baseUrl}/docs`);
    // Redoc renders the server's own OpenAPI document (its completeness is the API's test).
    const spec = await (await fetch(`${server.baseUrl}/api/v1/openapi.json`)).json();
    await page.locator('#redoc h1, #redoc h2').first().waitFor();
    const text = await page.locator('#redoc').textContent();
    assert.doesNotMatch(text, /something went wrong|could not load|did not load/i);
    assert.ok(text.includes(spec.info.title), `the page shows "${spec.info.title}"`);
    const [firstPath] = Object.keys(spec.paths ?? {});
    if (firstPath) assert.ok(text.includes(firstPath), `the page shows ${firstPath}`);
    await page.waitForLoadState('networkidle');
    page.off('request', onRequest);
    assert.deepEqual(remote, [], 'no request leaves this server');
    await page.getByRole('link', { name: /Back to the Integr8sCode editor/ }).click();
    await page.locator('[data-testid="runtime-select"]').waitFor();
  });
});
