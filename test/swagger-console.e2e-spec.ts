import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type BrowserContext } from 'playwright-core';
import { KeySpace } from '@trailsight/core';
import { FindingsRepository } from '@trailsight/findings';
import { startApp, type AppProcess } from './support/app-process.js';
import { MINUTE_MS } from '@trailsight/domain';
import { seedFinding } from './support/findings-seed.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';

/**
 * The Swagger console in headless Chromium, as a user would: open /docs, Authorize with an API
 * key, "Try it out" on GET /v1/findings, Execute, and see a 200 with findings.
 */
const CHROMIUM = '/usr/bin/chromium';
const KEY = 'browser-read-key-0123456789abcdef';
const TIMEOUT_MS = 90_000;

let redis: ThrowawayRedis;
let client: Redis;
let api: AppProcess;
let browser: BrowserContext | undefined;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  redis = await startRedis();
  client = new Redis(redis.url);
  const repo = new FindingsRepository(client, new KeySpace('browser'));
  const now = Date.now();
  for (let i = 0; i < 3; i++)
    await seedFinding(repo, { index: i, startMinute: now - (now % MINUTE_MS) - (10 - i) * MINUTE_MS });
  api = startApp('api', {
    PORT: String(await freePort()),
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'browser',
    API_KEYS: `${KEY}:read`,
  });
  await api.healthy();
  profile = mkdtempSync(join(tmpdir(), 'trailsight-chromium-'));
}, TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await client?.quit();
  await redis?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

it(
  'Authorize, then Try it out on GET /v1/findings in /docs answers 200 with findings',
  async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: the Swagger console test needs it (apt-get install -y chromium; .ci/run installs it)`,
      );
    }
    // A fresh profile directory (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
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
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${api.port}/docs`);

    // Authorize with the key (the bearer scheme).
    await page.locator('button.authorize').first().click();
    const dialog = page.locator('.modal-ux');
    const bearer = dialog.locator('.auth-container').filter({ hasText: 'api-key' }).first();
    await bearer.locator('input').first().fill(KEY);
    await bearer.locator('button.authorize').click();
    await bearer.getByText('Logout').waitFor();
    await dialog.locator('button.close-modal').first().click();

    // GET /v1/findings: expand, Try it out, Execute.
    const operation = page.locator('#operations-findings-FindingsController_list');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();

    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 20_000 });
    expect((await status.innerText()).trim()).toBe('200');
    const body = await operation.locator('.live-responses-table .response-col_description pre').first().innerText();
    const parsed = JSON.parse(body) as { items: { id: string; eventSource: string }[] };
    expect(parsed.items).toHaveLength(3);
    expect(parsed.items[0]).toMatchObject({ eventSource: 'ec2.amazonaws.com' });

    // The key lives in the page only: nothing of it in the browser's storage, and gone on reload.
    const stored = String(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })'));
    expect(stored).not.toContain(KEY);
    expect(stored).not.toContain('authorized');
    await page.reload();
    await page.locator('button.authorize').first().waitFor();
    expect(await page.locator('.authorization__btn.locked').count()).toBe(0);
    // It worked under the Content-Security-Policy the api sends with the console.
    const docs = await fetch(`http://127.0.0.1:${api.port}/docs`);
    expect(docs.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
  },
  TIMEOUT_MS,
);
