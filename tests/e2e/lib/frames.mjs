// An in-page probe for rendering responsiveness: records every animation frame's duration,
// when the first output appeared, when the run reached a final status, and when `needle`
// (the last line) showed in the output. Shared by the browser test and bench/web.

/** Starts recording in the page; call before pressing Run. */
export async function installFrameProbe(page, needle) {
  await page.evaluate((lastLine) => {
    const probe = { frames: [], firstOutputAt: null, resultAt: null, endShownAt: null, running: true };
    window.__frameProbe = probe;
    const final = ['completed', 'failed', 'compile_error', 'timed_out', 'memory_exceeded', 'output_exceeded', 'cancelled', 'error'];
    let last = performance.now();
    function frame(now) {
      probe.frames.push({ at: now, ms: now - last });
      last = now;
      if (probe.firstOutputAt === null && document.querySelector('[data-testid="output"] [data-stream]')) probe.firstOutputAt = now;
      if (probe.resultAt !== null && probe.endShownAt === null && endShown()) probe.endShownAt = now;
      if (probe.running) requestAnimationFrame(frame);
    }
    requestAnimationFrame(frame);
    // The output's text is read only once the result is in (reading it costs a walk of the
    // DOM, which would slow the page it measures).
    const endShown = () => {
      const output = document.querySelector('[data-testid="output"]');
      const last = output?.querySelector('.pieces')?.lastElementChild ?? output?.lastElementChild;
      return (last?.textContent ?? '').includes(lastLine);
    };
    // Status changes are seen as they happen, not at the next frame.
    const observer = new MutationObserver(() => {
      const badge = document.querySelector('section.output .badge');
      const now = performance.now();
      if (probe.resultAt === null && badge && final.includes(badge.getAttribute('data-status'))) probe.resultAt = now;
      if (probe.resultAt !== null && probe.endShownAt === null && endShown()) probe.endShownAt = now;
    });
    observer.observe(document.querySelector('main') ?? document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    probe.stop = () => {
      probe.running = false;
      observer.disconnect();
    };
  }, needle);
}

/** Stops the probe and returns what it saw. */
export async function readFrameProbe(page) {
  return page.evaluate(() => {
    const probe = window.__frameProbe;
    probe.stop();
    const from = probe.firstOutputAt ?? Infinity;
    const to = probe.resultAt ?? -Infinity;
    const during = probe.frames.filter((f) => f.at >= from && f.at <= to);
    return {
      frames: during.map((f) => f.ms),
      framesDuringStream: during.length,
      firstOutputAt: probe.firstOutputAt,
      resultAt: probe.resultAt,
      endShownAt: probe.endShownAt,
    };
  });
}

export function summarise(values) {
  if (values.length === 0) return { count: 0, max: 0, p50: 0, p95: 0, mean: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    count: values.length,
    max: sorted.at(-1),
    p50: at(0.5),
    p95: at(0.95),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}
