import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { KeySpace } from '@trailsight/core';
import { MINUTE_MS } from '@trailsight/domain';
import { eventually } from './support/app-process.js';
import { launchBrowser, SCREENSHOTS, signIn, unreachableByKeyboard, watchProblems } from './support/console-browser.js';
import { startLiveStack, type LiveStack } from './support/live-stack.js';

/**
 * The console on the live pipeline: a spike injected at the simulated account shows in the open
 * findings list without a reload, and its page draws the series with the insight shaded and
 * lists calls of the injected API.
 */
const ACCOUNT = '210987654321';
const REGION = 'us-west-2';
const ADMIN_KEY = 'e2e-console-admin-key-0123456789';

/** The chart's canvas as the page.evaluate callback below reads it (it runs in Chromium). */
declare const document: {
  querySelector(selector: string): {
    getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
  };
};

let stack: LiveStack;
let browser: { context: BrowserContext; close: () => Promise<void> };

beforeAll(async () => {
  stack = await startLiveStack({ adminKey: ADMIN_KEY, seed: 14, account: ACCOUNT, region: REGION });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it(
  'a spike at the simulated account appears in the list without a reload; its page shows the chart and the calls',
  async () => {
    const { client, simulator, simulatorUrl } = stack;
    const now = Date.now();
    const [target] = simulator.generator
      .apis()
      .filter((api) => !api.readOnly)
      .map((api) => ({
        ...api,
        rate: simulator.generator.expectedCalls(
          { accountId: ACCOUNT, region: REGION },
          api.eventSource,
          api.eventName,
          now,
        ),
      }))
      .sort((a, b) => b.rate - a.rate);

    const keys = new KeySpace('ts');
    await eventually(
      'the evaluator to catch up with the back-filled history',
      async () => {
        const cursor = Number(await client.hget(keys.evaluation({ accountId: ACCOUNT, region: REGION }), 'cursor'));
        return cursor > Date.now() - 3 * MINUTE_MS ? true : undefined;
      },
      240_000,
      1_000,
    ).catch((error: Error) => stack.withAppLogs(error));

    const page = await browser.context.newPage();
    const problems = watchProblems(page);
    const origin = `http://127.0.0.1:${stack.api.port}`;
    await signIn(page, origin, ADMIN_KEY);
    await page.goto(
      `${origin}/console/#/findings?state=open&insightType=ApiCallRateInsight&eventName=${target.eventName}`,
    );
    await page.getByText(/refreshes every/).waitFor();
    let loads = 0;
    page.on('load', () => loads++);

    const anomaly = await fetch(`${simulatorUrl}/anomalies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'spike',
        eventSource: target.eventSource,
        eventName: target.eventName,
        factor: 12,
        minutes: 3,
      }),
    });
    expect(anomaly.status).toBe(201);

    // The list polls: the finding shows up with no navigation or reload.
    const row = page.locator('tr.finding-row', { hasText: target.eventName }).first();
    await row.waitFor({ timeout: 4 * MINUTE_MS }).catch((error: Error) => stack.withAppLogs(error));
    expect(loads).toBe(0);
    const id = (await row.getAttribute('data-id'))!;
    await page.screenshot({ path: join(SCREENSHOTS, 'findings-live.png'), fullPage: true });

    await row.getByRole('link').click();
    await page.waitForURL(new RegExp(`#/findings/${id}`));
    const chart = page.locator('.chart[data-draw-ms]');
    await chart.waitFor();
    const series = await stack.call('GET', `/v1/findings/${id}/series`);
    expect(series.status).toBe(200);
    expect(series.body.points.length).toBeGreaterThan(30);
    expect(await chart.getAttribute('data-points')).toBe(String(series.body.points.length));

    // The insight's minutes are shaded: the shade's colour inside the span, nothing at the same
    // height outside it.
    const [x0, x1, top] = (await chart.getAttribute('data-shade'))!.split(',').map(Number);
    expect(x1).toBeGreaterThan(x0);
    const pixels = await page.evaluate(
      ({ inside, outside, y }) => {
        const canvas = document.querySelector('.chart canvas');
        const context = canvas.getContext('2d');
        return [inside, outside].map((x) => Array.from(context.getImageData(x, y, 1, 1).data));
      },
      { inside: Math.round((x0 + x1) / 2), outside: Math.max(0, x0 - 40), y: top + 3 },
    );
    const [inside, outside] = pixels;
    expect(inside[3]).toBeGreaterThan(20); // painted
    expect(inside[0]).toBeGreaterThan(inside[1] + 100); // red
    // Outside the span no shade (the value line may pass there, in blue).
    expect(outside[3] > 20 && outside[0] > outside[1] + 100).toBe(false);

    // The calls behind it: sampled events of the injected API.
    const events = page.locator('tr.event-row');
    await events.first().waitFor();
    const names = await page.locator('tr.event-row td.event-name').allInnerTexts();
    expect(names.length).toBeGreaterThan(0);
    expect(names.length).toBeLessThanOrEqual(50);
    expect(new Set(names)).toEqual(new Set([target.eventName]));
    expect(await unreachableByKeyboard(page)).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'finding.png'), fullPage: true });

    // Its API on the APIs page: 7 days of its series with the finding marked.
    await page.goto(`${origin}/console/#/apis?accountId=${ACCOUNT}`);
    await page.locator('tr.api-row', { hasText: target.eventName }).first().getByRole('link').first().click();
    const week = page.locator('.chart[data-draw-ms]');
    await week.waitFor();
    expect(Number(await week.getAttribute('data-points'))).toBe(7 * 24 * 60);
    console.log(
      `console: 7 days of ${target.eventName} from /v1/series drawn in ${await week.getAttribute('data-draw-ms')} ms`,
    );
    expect(await week.getAttribute('data-shade')).toMatch(/^\d+,\d+,\d+$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'api-live.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  },
  12 * MINUTE_MS,
);
