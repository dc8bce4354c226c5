import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startApp, type AppProcess } from './support/app-process.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';

/**
 * The alert rules and the Grafana dashboard under ops/ that users import: promtool accepts the
 * rules and their unit tests pass (each alert fires on the series that should raise it and on no
 * other), and every metric they read is one a running api, poller or detector really exports, with
 * the type the expression assumes (rate() and increase() only over counters).
 */
const OPS = fileURLToPath(new URL('../ops/', import.meta.url));
const RULES = `${OPS}prometheus/trailsight.rules.yml`;
const RULE_TESTS = `${OPS}prometheus/trailsight.rules.test.yml`;
const DASHBOARD = `${OPS}grafana/trailsight-dashboard.json`;
const ADMIN_KEY = 'e2e-monitoring-admin-key-0123456789';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
if (promtool.error) {
  throw new Error("promtool is not installed: it comes with Debian's prometheus package (apt-get install prometheus)");
}

interface Dashboard {
  panels: { id: number; title: string; datasource: { uid: string }; targets: { refId: string; expr: string }[] }[];
  templating: { list: { name: string; type: string }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const expressions = [
  ...[...readFileSync(RULES, 'utf8').matchAll(/^\s*expr: (.+)$/gm)].map((m) => m[1]),
  ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
];

describe('monitoring: Prometheus alert rules and the Grafana dashboard', () => {
  let redis: ThrowawayRedis;
  let apps: AppProcess[] = [];
  /** Metric family name to its `# TYPE`, as api, poller and detector export them (a histogram's series as counters). */
  const exported = new Map<string, string>();

  beforeAll(async () => {
    redis = await startRedis();
    for (const app of ['api', 'poller', 'detector'] as const) {
      apps.push(startApp(app, { PORT: String(await freePort()), REDIS_URL: redis.url, API_KEYS: ADMIN_KEY }));
    }
    await Promise.all(apps.map((app) => app.healthy()));
    for (const app of apps) {
      const response = await fetch(`http://127.0.0.1:${app.port}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect([app.name, response.status]).toEqual([app.name, 200]);
      for (const [, name, type] of (await response.text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exported.set(name, type);
        if (type === 'histogram')
          for (const part of ['bucket', 'sum', 'count']) exported.set(`${name}_${part}`, 'counter');
      }
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    apps = [];
    await redis?.stop();
  });

  it('promtool checks the rules and passes their unit tests', () => {
    const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect([check.status, check.stdout + check.stderr]).toEqual([0, expect.stringContaining('SUCCESS: 8 rules found')]);
    const tests = spawnSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
    expect([tests.status, tests.stdout + tests.stderr]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  it('reads only metrics the processes export, rate() and increase() only over counters', () => {
    expect(expressions.length).toBeGreaterThan(15);
    const problems: string[] = [];
    for (const expr of expressions) {
      for (const [, name] of expr.matchAll(/\b(trailsight_[a-z_]+)\b/g)) {
        const type = exported.get(name);
        if (type === undefined) problems.push(`${name} is not exported (in: ${expr})`);
        const overRange = new RegExp(`(rate|increase)\\(${name}\\b`).test(expr);
        if (type !== undefined && overRange && type !== 'counter') problems.push(`${name} is a ${type}, not a counter`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('is an importable dashboard: a datasource variable, unique panel ids, a query on every panel', () => {
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect([panel.title, panel.datasource.uid]).toEqual([panel.title, '${datasource}']);
      expect([panel.title, panel.targets.length > 0]).toEqual([panel.title, true]);
    }
    // Every family the processes export is on the dashboard (a histogram by one of its series).
    const shown = new Set(
      expressions.flatMap((expr) =>
        [...expr.matchAll(/\b(trailsight_[a-z_]+)\b/g)].map((m) => m[1].replace(/_(bucket|sum|count)$/, '')),
      ),
    );
    const missing = [...exported]
      .filter(
        ([name, type]) =>
          name.startsWith('trailsight_') && (type === 'histogram' || !/_(bucket|sum|count)$/.test(name)),
      )
      .map(([name]) => name)
      .filter((name) => !shown.has(name) && !NOT_ON_THE_DASHBOARD.has(name));
    expect(missing).toEqual([]);
  });
});

/** Exported but left off the dashboard, each for a reason. */
const NOT_ON_THE_DASHBOARD = new Map([
  ['trailsight_ingest_stat_total', 'a grab-bag of ingest counters by name, for debugging'],
  ['trailsight_event_batches_failed_total', 'the waiting gauge and the discarded total tell the story'],
  ['trailsight_event_batches_failed_events_total', 'events of failed batches: in /v1/ingest/failed'],
  ['trailsight_event_batches_failed_events', 'events of failed batches: in /v1/ingest/failed'],
]);
