#!/usr/bin/env node
// Frame times of the web UI while a program prints many short lines, each flushed on its
// own: a real `integr8scode serve` (build/ci, or INTEGR8SCODE_BIN), Debian's Chromium driven
// by playwright-core. Prints figures; asserts nothing.
//   node bench/web/output-frames.mjs [lines ...]      default: 2000 20000 87000
//   OUTPUT_BENCH_WEB_ROOT=<dist>   serve another build of the UI (to compare versions)
import { startServer } from '../../tests/e2e/lib/server.mjs';
import { launchBrowser, openEditor, selectRuntime, setEditorText, waitForFinalStatus } from '../../tests/e2e/lib/browser.mjs';
import { installFrameProbe, readFrameProbe, summarise } from '../../tests/e2e/lib/frames.mjs';

const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
if (counts.length === 0) counts.push(2000, 20000, 87000);

const server = await startServer(
  'bench-output',
  process.env.OUTPUT_BENCH_WEB_ROOT ? { INTEGR8SCODE_SERVER_WEB_ROOT: process.env.OUTPUT_BENCH_WEB_ROOT } : {},
);
const browser = await launchBrowser();
try {
  const page = await browser.page();
  await openEditor(page, server.baseUrl);
  await selectRuntime(page, 'python:3.11');
  console.log('lines   bytes      status     run→result  frames  mean  p50  p95  max (ms)  end shown after result');
  for (const lines of counts) {
    const last = `line ${String(lines - 1).padStart(6, '0')}`;
    await setEditorText(page, `import sys\nfor i in range(${lines}):\n    sys.stdout.write("line %06d\\n" % i)\n    sys.stdout.flush()\n`);
    await installFrameProbe(page, last);
    const started = Date.now();
    await page.getByTestId('run').click();
    const status = await waitForFinalStatus(page, 180_000);
    const took = Date.now() - started;
    const probe = await readFrameProbe(page);
    const s = summarise(probe.frames);
    const end = probe.endShownAt === null ? 'never' : `${Math.max(0, probe.endShownAt - probe.resultAt).toFixed(0)} ms`;
    console.log(
      `${String(lines).padEnd(7)} ${String(lines * 12).padEnd(10)} ${status.padEnd(10)} ${String(took).padStart(6)} ms  ` +
        `${String(s.count).padStart(6)} ${s.mean.toFixed(1).padStart(5)} ${s.p50.toFixed(0).padStart(4)} ${s.p95.toFixed(0).padStart(4)} ${s.max.toFixed(0).padStart(4)}       ${end}`,
    );
  }
} finally {
  await browser.close();
  await server.stop();
}
