// Debian's Chromium driven by playwright-core, headless, with a fresh profile, and the
// page helpers the browser tests share.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playwright, screenshotDir } from './paths.mjs';

export const kChromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const kArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with its own throw-away profile. Close it with close(). */
export async function launchBrowser(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'integr8scode-chromium-'));
  // launchPersistentContext is how playwright takes a --user-data-dir of our choosing.
  const context = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: kChromium,
    headless: true,
    args: kArgs,
    viewport: options.viewport ?? { width: 1280, height: 800 },
    colorScheme: options.colorScheme ?? 'light',
  });
  context.setDefaultTimeout(20_000);
  // Confirmations (discard unsaved changes, delete) are answered "yes" like a user would.
  context.on('page', (page) => page.on('dialog', (dialog) => dialog.accept()));
  for (const page of context.pages()) page.on('dialog', (dialog) => dialog.accept());
  return {
    context,
    async page() {
      return context.pages()[0] ?? (await context.newPage());
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the editor and waits until the runtimes and CodeMirror are in. */
export async function openEditor(page, baseUrl) {
  await page.goto(`${baseUrl}/`);
  await page.locator('[data-testid="runtime-select"]:not([disabled])').waitFor();
  await page.locator('.cm-content').waitFor();
}

export async function selectRuntime(page, key) {
  await page.selectOption('[data-testid="runtime-select"]', key);
}

export async function editorText(page) {
  return page.evaluate(() => [...document.querySelectorAll('.cm-content .cm-line')].map((line) => line.textContent).join('\n'));
}

/** Replaces the editor's text the way a paste does, and checks it arrived unchanged. */
export async function setEditorText(page, text) {
  await page.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  assert.equal(await editorText(page), text, 'the editor holds exactly the typed program');
}

export function outputBadge(page) {
  return page.locator('section.output .badge').first();
}

export async function outputText(page) {
  return (await page.locator('[data-testid="output"]').first().textContent()) ?? '';
}

const kFinal = ['completed', 'failed', 'compile_error', 'timed_out', 'memory_exceeded', 'output_exceeded', 'cancelled', 'error'];

/** Waits until the output panel shows a final status, and returns it. */
export async function waitForFinalStatus(page, timeout = 30_000) {
  await page.waitForFunction(
    (final) => {
      const badge = document.querySelector('section.output .badge');
      return badge && final.includes(badge.getAttribute('data-status'));
    },
    kFinal,
    { timeout },
  );
  return outputBadge(page).getAttribute('data-status');
}

/** Waits until the output panel's text contains `needle`. */
export async function waitForOutput(page, needle, timeout = 30_000) {
  await page.waitForFunction(
    (text) => document.querySelector('[data-testid="output"]')?.textContent?.includes(text),
    needle,
    { timeout },
  );
}

export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/**
 * `name`-1280.png at 1280×800 and `name`-360.png at 360×740; the viewport is restored. The
 * scripts panel, open beside the editor at 1280 px, would cover it at 360 px (as it does when
 * opened on a phone): it is closed first, and `reopen` restores what closing it closed.
 */
export async function screenshotBoth(page, name, { reopen } = {}) {
  const before = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, `${name}-1280`);
  await page.setViewportSize({ width: 360, height: 740 });
  // The scrim (the dimmed page around the panel) closes it; the panel lies over its middle.
  if (await page.locator('button.scrim').count()) {
    await page.evaluate(() => document.querySelector('button.scrim')?.click());
    await page.locator('#scripts-panel').waitFor({ state: 'hidden' });
    await reopen?.();
  }
  await screenshot(page, `${name}-360`);
  await page.setViewportSize(before);
}

export function uniqueName(prefix) {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}
