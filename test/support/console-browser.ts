import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** What the page.evaluate callbacks below touch: they run in Chromium, where these exist. */
interface PageElement {
  dataset: Record<string, string | undefined>;
  outerHTML: string;
  blur(): void;
}
declare const document: {
  querySelectorAll(selector: string): Iterable<PageElement> & ArrayLike<PageElement>;
  activeElement: PageElement | null;
};

/** Where the console's browser tests write a screenshot of every page they visit (gitignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../../.data/console-screenshots/', import.meta.url));

/** Headless Chromium with a fresh profile, as the Swagger console test runs it. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the console tests need it (apt-get install -y chromium; .ci/run installs it)`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'trailsight-console-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Everything that went wrong on a page: console errors, uncaught exceptions, failed requests and
 * answers of 400 or more. `allow` lists the statuses a test provokes on purpose.
 */
export function watchProblems(page: Page, allow: number[] = []): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`exception: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A poll cut short by leaving the page is not a failure of the page.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`failed: ${request.url()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !allow.includes(response.status()))
      problems.push(`${response.status()}: ${response.url()}`);
  });
  return problems;
}

/** Signs in through the form and waits for the console's navigation. */
export async function signIn(page: Page, origin: string, key: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.locator('input[name=apiKey]').fill(key);
  await page.locator('button[type=submit]').click();
  await page.locator('nav[aria-label=Main]').waitFor();
}

/**
 * Presses Tab until focus comes back round and returns the actions it never reached: every link,
 * enabled button and form field on the page must be reachable from the keyboard.
 */
export async function unreachableByKeyboard(page: Page): Promise<string[]> {
  const count = await page.evaluate(() => {
    const actions = [...document.querySelectorAll('a[href], button:not([disabled]), input, select, textarea')];
    actions.forEach((element, index) => (element.dataset.action = String(index)));
    return actions.length;
  });
  await page.evaluate(() => document.activeElement?.blur());
  const reached = new Set<string>();
  // Date-time fields take a Tab per part, so allow several presses per action; stop once all are reached.
  for (let i = 0; i < count * 3 + 10 && reached.size < count; i++) {
    await page.keyboard.press('Tab');
    const index = await page.evaluate(() => document.activeElement?.dataset.action);
    if (index !== undefined) reached.add(index);
  }
  return page.evaluate(
    (seen) =>
      [...document.querySelectorAll('[data-action]')]
        .filter((element) => !seen.includes(element.dataset.action!))
        .map((element) => element.outerHTML.slice(0, 120)),
    [...reached],
  );
}
