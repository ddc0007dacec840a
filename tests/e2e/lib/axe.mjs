// axe-core run in the real browser: the serious and critical violations on the page as it is.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from './paths.mjs';

const axeSource = readFileSync(createRequire(join(repoRoot, 'web', 'package.json')).resolve('axe-core/axe.min.js'), 'utf8');

export async function violations(page) {
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') forbids
  // injected script tags, rightly.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const answer = await axe.run(document, { resultTypes: ['violations'] });
    return answer.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 8).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n')[1] ?? ''}`),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
