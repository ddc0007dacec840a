// Large output against the real server: 1 MiB of short lines, each flushed on its own, keeps
// the page interactive (frames keep coming, Cancel can be clicked, typing gets through) and
// the end shows with the result; a flood can be cancelled; the output toolbar works.
// Timings are printed, not asserted: the machine is shared.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { launchBrowser, openEditor, screenshotBoth, selectRuntime, setEditorText, waitForFinalStatus, waitForOutput } from './lib/browser.mjs';
import { installFrameProbe, readFrameProbe, summarise } from './lib/frames.mjs';

// 87,000 lines of 12 bytes: 1,044,000 bytes, just under the 1 MiB output limit, one write
// and flush per line (tens of thousands of tiny chunks for the server to stream), with a
// millisecond's pause every 25 lines so the stream lasts a few seconds: long enough to try
// the page while it arrives (the run gets a 30 s time limit, chosen the way a user would).
const kLines = 87_000;
const kBigProgram = `import sys, time
for i in range(${kLines}):
    sys.stdout.write("line %06d\\n" % i)
    sys.stdout.flush()
    if i % 25 == 0:
        time.sleep(0.001)
`;
const kLastLine = `line ${String(kLines - 1).padStart(6, '0')}`;

describe('large output', () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer('output');
    browser = await launchBrowser();
    page = await browser.page();
    await openEditor(page, server.baseUrl);
    await page.evaluate(() => localStorage.setItem('integr8scode-limits', JSON.stringify({ timeout_ms: 30_000 })));
    await openEditor(page, server.baseUrl);
    await selectRuntime(page, 'python:3.11');
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('prints 1 MiB of short lines while the page stays interactive, and shows the end with the result', async () => {
    await setEditorText(page, kBigProgram);
    await installFrameProbe(page, kLastLine);
    const clickedAt = Date.now();
    await page.getByTestId('run').click();
    await waitForOutput(page, 'line 0', 30_000);
    const firstOutputAt = Date.now();

    // While lines stream in: Cancel passes every actionability check (visible, enabled,
    // stable, receives the pointer), and keys typed into the input box arrive.
    const cancel = page.getByTestId('cancel');
    const cancelAt = Date.now();
    await cancel.click({ trial: true, timeout: 5_000 });
    const cancelMs = Date.now() - cancelAt;
    assert.equal(await page.getByTestId('output').evaluate(() => document.querySelector('section.output .badge')?.getAttribute('data-status')), 'running', 'still streaming when Cancel was tried');
    await page.getByRole('button', { name: /Input \(stdin\)/ }).click();
    const stdin = page.locator('#stdin');
    const typedAt = Date.now();
    await stdin.pressSequentially('abc');
    const typedMs = Date.now() - typedAt;
    assert.equal(await stdin.inputValue(), 'abc');

    assert.equal(await waitForFinalStatus(page, 120_000), 'completed');
    const probe = await readFrameProbe(page);
    // Frames kept coming between the first line on screen and the result: the main thread
    // was never blocked for the whole stream.
    assert.ok(probe.framesDuringStream >= 3, `frames while streaming: ${probe.framesDuringStream}`);
    // The last line was on screen no later than one frame after the result.
    assert.ok(probe.endShownAt !== null, 'the last line is shown');
    const text = (await page.getByTestId('output').textContent()) ?? '';
    assert.ok(text.includes(kLastLine), 'the end of the output is in the live view');
    // …and on screen: the view followed the end.
    const gap = await page.getByTestId('output').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    assert.ok(gap < 24, `the view is scrolled to the end (${gap} px short)`);
    assert.ok(!text.includes('line 000000\n'), 'the live view is capped; the start is not in the DOM');
    const more = page.getByTestId('more-lines');
    assert.match(await more.textContent(), /more lines above — open the full output/);
    // The full output is one click away, all of it.
    const [full] = await Promise.all([browser.context.waitForEvent('page'), more.getByRole('button', { name: 'open the full output' }).click()]);
    await full.waitForLoadState();
    const fullText = (await full.locator('body').textContent()) ?? '';
    assert.ok(fullText.startsWith('line 000000\n'), 'the full output starts at the first line');
    assert.ok(fullText.includes(`${kLastLine}\n`), 'and ends at the last');
    assert.equal(fullText.split('\n').filter(Boolean).length, kLines);
    await full.close();
    const nodes = await page.evaluate(() => document.querySelectorAll('[data-testid="output"] *').length);
    const stats = summarise(probe.frames);
    console.log(
      `1 MiB / ${kLines} lines: first output ${firstOutputAt - clickedAt} ms after Run; ` +
        `${probe.framesDuringStream} frames while streaming, longest ${stats.max.toFixed(0)} ms, p95 ${stats.p95.toFixed(0)} ms; ` +
        `end shown ${(probe.endShownAt - probe.resultAt).toFixed(0)} ms after the result; ` +
        `Cancel actionable in ${cancelMs} ms; 3 keys typed in ${typedMs} ms; ${nodes} elements in the output`,
    );
    await screenshotBoth(page, 'editor-large-output');
  });

  it('cancels a program flooding the output', async () => {
    await setEditorText(page, 'import time\nwhile True:\n    print("flood " * 4, flush=True)\n    time.sleep(0.0002)\n');
    await page.getByTestId('run').click();
    await waitForOutput(page, 'flood flood');
    await page.getByTestId('cancel').click();
    assert.equal(await waitForFinalStatus(page), 'cancelled');
  });

  it('copies, downloads, wraps and clears the output; stderr is marked apart', async () => {
    await setEditorText(page, 'import sys\nprint("to stdout")\nprint("to stderr", file=sys.stderr)\n');
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    assert.equal((await page.locator('[data-testid="output"] [data-stream="stderr"]').textContent()).trim(), 'to stderr');
    await page.getByText('standard error', { exact: true }).waitFor();

    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    await page.getByTestId('output-copy').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'to stdout\nto stderr\n');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('output-download').click()]);
    assert.match(download.suggestedFilename(), /^output-[0-9a-f-]{36}\.txt$/);

    const wrap = page.getByTestId('output-wrap');
    assert.equal(await wrap.getAttribute('aria-pressed'), 'false');
    assert.equal(await page.getByTestId('output').evaluate((el) => getComputedStyle(el).whiteSpace), 'pre');
    await wrap.click();
    assert.equal(await page.getByTestId('output').evaluate((el) => getComputedStyle(el).whiteSpace), 'pre-wrap');
    await page.reload();
    await page.locator('[data-testid="runtime-select"]:not([disabled])').waitFor();
    assert.equal(await page.getByTestId('output-wrap').getAttribute('aria-pressed'), 'true', 'the choice is remembered');
    await page.getByTestId('output-wrap').click();

    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    await page.getByTestId('output-clear').click();
    assert.doesNotMatch((await page.getByTestId('output').textContent()) ?? '', /to stdout/);
  });

  it('on a phone, Run scrolls the output into view', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    try {
      // The scripts panel (open at 1280 px) now covers the editor; Escape closes it.
      const panel = page.locator('#scripts-panel');
      if (await panel.isVisible()) {
        await page.locator('body').press('Escape');
        await panel.waitFor({ state: 'hidden' });
      }
      await setEditorText(page, "print('on a phone')\n");
      await page.evaluate(() => window.scrollTo(0, 0));
      const top = () => page.evaluate(() => document.querySelector('section.output').getBoundingClientRect().top);
      const before = await top();
      assert.ok(before > 200, `the output starts below the editor (top ${before})`);
      await page.getByTestId('run').click();
      // Scrolled up to the output (as far as the page can scroll).
      await page.waitForFunction(
        (start) => {
          const now = document.querySelector('section.output').getBoundingClientRect().top;
          return now < 60 || (window.scrollY > 0 && now <= start - window.scrollY + 1 && now < start - 100);
        },
        before,
      );
      assert.equal(await waitForFinalStatus(page), 'completed');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('shows the text of an OSC 8 hyperlink and makes no link', async () => {
    await setEditorText(page, 'print("before \\x1b]8;;https://example.invalid/\\x1b\\\\the hidden text\\x1b]8;;\\x1b\\\\ after")\n');
    await page.getByTestId('run').click();
    assert.equal(await waitForFinalStatus(page), 'completed');
    await waitForOutput(page, 'before the hidden text after');
    assert.equal(await page.locator('[data-testid="output"] a').count(), 0);
  });
});
