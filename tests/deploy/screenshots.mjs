// Screenshots of the dashboards' queries graphed by Prometheus' own UI (Grafana is not in
// Debian), one page per dashboard, in Debian's Chromium. monitoring_test.py calls it while
// its Prometheus holds the test's traffic, when INTEGR8SCODE_MONITORING_SCREENSHOTS names a
// folder. Usage: node screenshots.mjs PROMETHEUS_URL OUT_DIR
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../e2e/lib/browser.mjs';

const [prometheus, outDir] = process.argv.slice(2);
const dashboards = join(import.meta.dirname, '..', '..', 'deploy', 'monitoring', 'grafana', 'dashboards');
const variables = { '$__rate_interval': '1m', '$__interval': '15s', '$__range': '5m' };

const browser = await launchBrowser({ viewport: { width: 1400, height: 900 } });
try {
  const page = await browser.page();
  for (const file of readdirSync(dashboards).filter((f) => f.endsWith('.json')).sort()) {
    const dashboard = JSON.parse(readFileSync(join(dashboards, file), 'utf8'));
    const params = new URLSearchParams();
    let index = 0;
    for (const panel of dashboard.panels) {
      if (panel.type !== 'timeseries') continue;
      let expr = panel.targets[0].expr;
      for (const [name, value] of Object.entries(variables)) expr = expr.replaceAll(name, value);
      params.set(`g${index}.expr`, expr);
      params.set(`g${index}.tab`, '0');
      params.set(`g${index}.range_input`, '1m');
      index += 1;
    }
    await page.goto(`${prometheus}/graph?${params}`, { waitUntil: 'networkidle' });
    await page.waitForTimeout(500); // the charts draw after their data arrives
    const out = join(outDir, `monitoring-${dashboard.uid.replace('integr8scode-', '')}.png`);
    await page.screenshot({ path: out, fullPage: true });
    console.log(`screenshot: ${out}`);
  }
} finally {
  await browser.close();
}
