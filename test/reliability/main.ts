import { runBadInputScenarios } from './bad-input.scenarios.js';
import { prepareFaults, runClockSkewScenarios, runFaultScenarios, runInsightScenarios } from './faults.scenarios.js';
import { runLoadScenarios } from './load.scenarios.js';
import { Pipeline } from './pipeline.js';
import { Report, check } from './report.js';
import { runSecurityScenarios } from './security.scenarios.js';
import { runTrustFileInputScenarios } from './trust-file-input.scenarios.js';
import { runTrustRedisSecretsScenarios } from './trust-redis-secrets.scenarios.js';
import { runTrustTrailFilesScenarios } from './trust-trail-files.scenarios.js';
import { runTrustAuthScenarios } from './trust-auth.scenarios.js';
import { runApisBatchesScenarios } from './trust-apis-batches.scenarios.js';
import { runDataEventsScenarios } from './trust-data-events.scenarios.js';

/**
 * npm run test:reliability: faults, bad input, security and load against real processes, a real
 * Redis (AOF on) and simulated accounts. One line per scenario as it ends, then, last, one JSON
 * object of totals; the exit code is non-zero when anything failed.
 */
const ADMIN_KEY = 'rel-admin-key-0123456789abcdef-SECRET';
const READ_KEY = 'rel-read-key-0123456789abcdef-SECRET';

async function main(): Promise<boolean> {
  const report = new Report();
  const started = Date.now();
  const pipeline = new Pipeline({
    prefix: 'rel',
    backfillMinutes: 75,
    apiKeys: { admin: ADMIN_KEY, read: READ_KEY },
    sources: [
      { label: 'normal', accountId: '111111111111', regions: ['us-east-1', 'eu-west-1'], eventsPerMinute: 240 },
      // Records stamped up to 45 s ahead of the host clock, and 15 s behind it (within the lateness).
      {
        label: 'future',
        accountId: '222222222222',
        regions: ['us-east-1', 'eu-west-1'],
        eventsPerMinute: 80,
        skewMs: 45_000,
      },
      {
        label: 'past',
        accountId: '333333333333',
        regions: ['us-east-1', 'eu-west-1'],
        eventsPerMinute: 80,
        skewMs: -15_000,
      },
    ],
    env: {
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_BACKOFF_MS: '300',
      WEBHOOK_MAX_ATTEMPTS: '12',
      EVALUATION_INTERVAL_SECONDS: '2',
      API_RATE_LIMIT: '1000000',
      // The security probes send hundreds of unknown keys from one address on purpose.
      API_AUTH_FAILURE_LIMIT: '0',
    },
  });
  try {
    await pipeline.start();
    const [api] = await Promise.all([pipeline.launch('api'), pipeline.launch('detector'), pipeline.launch('poller')]);
    const apiUrl = `http://127.0.0.1:${api.port}`;

    // Parser fuzzing is CPU work in this process: done while the back-fill is read.
    await runBadInputScenarios(report, { pipeline, apiUrl, adminKey: ADMIN_KEY, readKey: READ_KEY, phase: 'offline' });

    let ready = false;
    await report.scenario('setup/backfill-counted-exactly', async (figures) => {
      const comparisons = await pipeline.waitExact(180_000);
      let events = 0;
      for (const [label, c] of comparisons) {
        events += c.expectedEvents;
        check(c.lost + c.doubleCounted === 0, `${label}: ${c.difference}`);
      }
      figures.events = events;
      ready = true;
    });
    if (ready) {
      const ctx = await prepareFaults(pipeline, apiUrl, ADMIN_KEY, READ_KEY);
      await runFaultScenarios(report, pipeline);
      // Five times the rate from the next minute on, while the rest runs (the suite must fit CI's limit).
      const load = runLoadScenarios(report, { pipeline, apiUrl, readKey: READ_KEY, exclude: ctx.insights });
      await runInsightScenarios(report, ctx);
      // Bad input over HTTP and the queue, and the security probes, while the pipeline runs.
      await runBadInputScenarios(report, { pipeline, apiUrl, adminKey: ADMIN_KEY, readKey: READ_KEY, phase: 'online' });
      await runSecurityScenarios(report, {
        pipeline,
        apiUrl,
        adminKey: ADMIN_KEY,
        readKey: READ_KEY,
        webhookSecret: ctx.webhookSecret,
      });
      await runClockSkewScenarios(report, pipeline, ctx);
      // Trust scenarios that use the running pipeline (issue 12): one call per area file.
      await load;
      await ctx.receiver.close();
    }

    await report.scenario('final/ground-truth-and-no-crashes', async (figures) => {
      const comparisons = await pipeline.waitExact(120_000);
      let events = 0;
      for (const c of comparisons.values()) {
        events += c.expectedEvents;
        report.eventsLost += c.lost;
        report.eventsDoubleCounted += c.doubleCounted;
      }
      figures.events = events;
      figures.lost = report.eventsLost;
      figures.double = report.eventsDoubleCounted;
      const crashed = pipeline.crashes();
      report.crashes += crashed.length;
      figures.crashes = crashed.length;
      check(crashed.length === 0, `crashed: ${crashed.join(', ')}`);
      check(report.eventsLost + report.eventsDoubleCounted === 0, 'counters differ from the ground truth');
    });
    // Trust scenarios that start processes and Redis of their own (issue 12): one call per area file.
    await runTrustFileInputScenarios(report);
    await runTrustRedisSecretsScenarios(report);
    await runTrustTrailFilesScenarios(report);
    await runTrustAuthScenarios(report);
    await runApisBatchesScenarios(report);
    await runDataEventsScenarios(report);
  } catch (error) {
    await report.scenario('harness', () => Promise.reject(error instanceof Error ? error : new Error(String(error))));
  } finally {
    await pipeline.stop().catch(() => undefined);
  }
  process.stdout.write(`total ${Math.round((Date.now() - started) / 1000)} s\n`);
  process.stdout.write(`${JSON.stringify(report.summary())}\n`);
  return report.ok();
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
