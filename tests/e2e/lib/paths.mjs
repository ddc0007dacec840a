import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const outputDir = join(repoRoot, 'test-output');
export const screenshotDir = join(outputDir, 'screenshots');
export const logDir = join(outputDir, 'e2e');

// playwright-core is a devDependency of web/ (one lockfile for all the front end's tools).
const requireFromWeb = createRequire(join(repoRoot, 'web', 'package.json'));
export const playwright = requireFromWeb('playwright-core');
