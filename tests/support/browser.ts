/** Chromium for the console's browser tests: Debian's, headless, and each page checked the same way. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\` (or npm run test:setup)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
  });
}

const README_SHOT_MAX_HEIGHT = 1_600;

/**
 * Screenshots at 1280 and 390 px into `dir` (the 1280 one also to `keep`, the README's), nothing
 * scrolling sideways at 390 px, and an axe-core run with no serious or critical violations.
 */
export async function checkPage(page: Page, dir: string, name: string, keep?: string) {
  mkdirSync(dir, { recursive: true });
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${dir}/${name}-${width}.png`, fullPage: true });
    if (keep && width === 1280) {
      // The README's copy shows the top of a long page (the program editor runs to 9,000 px), readable at its width.
      const height = Math.min(await page.evaluate<number>('document.documentElement.scrollHeight'), README_SHOT_MAX_HEIGHT);
      await page.screenshot({ path: keep, fullPage: true, clip: { x: 0, y: 0, width, height } });
    }
    const sideways = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(sideways, `${name} scrolls sideways at ${width} px`).toBeLessThanOrEqual(0);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  // Evaluated over the DevTools protocol: the page's CSP (script-src 'self') stays as served.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }).axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact }));
  });
  expect(
    violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    name,
  ).toEqual([]);
}
