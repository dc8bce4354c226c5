import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { ApiKeyStore, KeySpace } from '@trailsight/core';
import { freePort, startRedis, type ThrowawayRedis } from '../support/redis-server.js';
import { http, launchApp, type RunningApp } from './processes.js';
import { check, type Report } from './report.js';

const PREFIX = 'trustauth';
const cliMain = fileURLToPath(new URL('../../apps/cli/src/main.js', import.meta.url));

interface AuthDeployment {
  redis: ThrowawayRedis;
  client: Redis;
  dir: string;
  keyFile: string;
  apps: RunningApp[];
}

/** One CLI run against the deployment's Redis: exit code, stdout, stderr. */
function cli(redisUrl: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliMain, ...args], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL: redisUrl, REDIS_PREFIX: PREFIX },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Calls of each Redis command so far, from one INFO commandstats (which counts itself only afterwards). */
async function commandCalls(client: Redis): Promise<(command: string) => number> {
  const text = await client.info('commandstats');
  return (command) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(text)?.[1] ?? 0);
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * Issue 12, keys and health (faults 4, 9, 11, 12): a deployment of its own (a Redis, two api
 * replicas without API_KEYS, the CLI), so nothing here depends on the shared pipeline's keys.
 */
export async function runTrustAuthScenarios(report: Report): Promise<void> {
  // Set up outside the scenarios, so RELIABILITY_ONLY can pick any one of them.
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const dir = mkdtempSync(join(tmpdir(), 'trailsight-trust-auth-'));
  const keyFile = join(dir, 'admin-key');
  const env = async () => ({
    PORT: String(await freePort()),
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    ADMIN_KEY_FILE: keyFile,
    API_RATE_LIMIT: '0',
    API_AUTH_FAILURE_LIMIT: '20',
  });
  // Two replicas race on the first start of the deployment.
  const apps = [launchApp('api', 'auth-a', await env()), launchApp('api', 'auth-b', await env())];
  const deployment: AuthDeployment = { redis, client, dir, keyFile, apps };
  const url = (app: RunningApp, path: string) => `http://127.0.0.1:${app.port}${path}`;

  try {
    await Promise.all(apps.map((app) => app.healthy()));
    await report.scenario('trust/first-admin-key-atomic-in-a-0600-file', async (figures) => {
      const key = readFileSync(keyFile, 'utf8').trim();
      figures.mode = (statSync(keyFile).mode & 0o777).toString(8);
      figures.files = readdirSync(dir).length;
      figures.keys_in_redis = await client.hlen(`${PREFIX}:{auth}:keys`);
      const logged = apps.filter((app) => app.output().includes(key) || /tsk_/.test(app.output())).length;
      figures.key_in_logs = logged;
      check(figures.mode === '600', `key file mode ${figures.mode}`);
      check(figures.files === 1, `files: ${readdirSync(dir).join(', ')}`);
      check(figures.keys_in_redis === 1, `${figures.keys_in_redis} keys stored`);
      check(logged === 0, 'the admin key is in a log');
      check(
        apps.some((app) => app.output().includes(keyFile)),
        'no log names the key file',
      );
      for (const app of apps) {
        const r = await http(url(app, '/v1/keys'), { headers: bearer(key) });
        check(r.status === 200, `${app.name}: GET /v1/keys with the first key: ${r.status}`);
      }
    });

    await report.scenario('trust/key-revocation-reaches-every-replica', async (figures) => {
      const { apps, keyFile, client } = deployment;
      const [a, b] = apps;
      const admin = readFileSync(keyFile, 'utf8').trim();
      const rounds: number[] = [];
      for (let round = 0; round < 3; round++) {
        const created = await http(url(a, '/v1/keys'), {
          method: 'POST',
          headers: { ...bearer(admin), 'content-type': 'application/json' },
          body: '{"scope":"read"}',
        });
        check(created.status === 201, `POST /v1/keys: ${created.status}`);
        const { id, key } = JSON.parse(created.text) as { id: string; key: string };
        const onB = () => http(url(b, '/v1/findings?limit=1'), { headers: bearer(key) });
        check((await onB()).status === 200, 'the new key is refused by the other replica');
        const listed = await http(url(b, '/v1/keys'), { headers: bearer(admin) });
        const hashes = Object.keys(await client.hgetall(`${PREFIX}:{auth}:keys`));
        check(
          [key, admin, ...hashes].every((secret) => !listed.text.includes(secret)),
          'GET /v1/keys shows a key or its hash',
        );
        check(listed.text.includes(id), 'GET /v1/keys does not list the new key');
        const revoked = await http(url(a, `/v1/keys/${id}`), { method: 'DELETE', headers: bearer(admin) });
        check(revoked.status === 204, `DELETE /v1/keys/${id}: ${revoked.status}`);
        const at = Date.now();
        while ((await onB()).status !== 401) {
          check(Date.now() - at < 5_000, 'the other replica still accepts the key 5 s after its revocation');
        }
        rounds.push(Date.now() - at);
      }
      figures.max_ms_until_refused = Math.max(...rounds);
      check(figures.max_ms_until_refused < 1_000, `revocation took ${figures.max_ms_until_refused} ms on a replica`);
    });

    await report.scenario('trust/cli-recovers-a-lost-admin-key', async (figures) => {
      const { apps, redis, keyFile } = deployment;
      // Every admin key revoked and the file gone: no API key can help any more.
      const listed = await cli(redis.url, 'keys', 'list');
      check(listed.status === 0, `keys list: ${listed.status} ${listed.stderr}`);
      const adminIds = [...listed.stdout.matchAll(/^([0-9a-f]{12})\s+admin\b/gm)].map((m) => m[1]);
      for (const id of adminIds) {
        const r = await cli(redis.url, 'keys', 'revoke', id);
        check(r.status === 0, `keys revoke ${id}: ${r.stderr}`);
      }
      const lost = readFileSync(keyFile, 'utf8').trim();
      rmSync(keyFile);
      const refused = await http(url(apps[1], '/v1/keys'), { headers: bearer(lost) });
      check(refused.status === 401, `the revoked first key still works: ${refused.status}`);
      const created = await cli(redis.url, 'keys', 'create', '--scope', 'admin');
      check(created.status === 0, `keys create: ${created.status} ${created.stderr}`);
      const key = created.stdout.trim();
      for (const app of apps) {
        const r = await http(url(app, '/v1/keys'), { headers: bearer(key) });
        check(r.status === 200, `${app.name}: the CLI's admin key: ${r.status}`);
      }
      figures.revoked = adminIds.length;
      figures.recovered = true;
    });

    await report.scenario('trust/health-public-probes-say-up-or-down-only', async (figures) => {
      const { apps, client } = deployment;
      const [a] = apps;
      const live = await http(url(a, '/health/live'));
      const ready200 = await http(url(a, '/health/ready'));
      check(live.status === 200 && live.text === '{"status":"up"}', `/health/live: ${live.status} ${live.text}`);
      check(
        ready200.status === 200 && ready200.text === '{"status":"up"}',
        `/health/ready: ${ready200.status} ${ready200.text}`,
      );
      const details = await http(url(a, '/health'));
      check(details.status === 401, `/health without a key: ${details.status}`);
      check(!/memory|backlog|\d{12}/.test(details.text), `/health without a key shows details: ${details.text}`);
      // 500 probes, 50 at a time: a PING a second at most, and no INFO or queue reads.
      const [before, started] = [await commandCalls(client), Date.now()];
      for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 50 }, () => http(url(a, '/health/ready'))));
      const seconds = (Date.now() - started) / 1000;
      figures.probes = 500;
      const after = await commandCalls(client);
      figures.pings = after('ping') - before('ping');
      figures.infos = after('info') - before('info') - 1; // the INFO that read `before`
      check(figures.pings <= Math.ceil(seconds) + 1, `${figures.pings} PINGs for 500 probes in ${seconds} s`);
      check(figures.infos === 0, `${figures.infos} INFO calls for readiness probes`);
    });

    await report.scenario('trust/unknown-keys-limited-per-address', async (figures) => {
      const { apps, client } = deployment;
      const b = apps[1];
      const { key } = await new ApiKeyStore(client, new KeySpace(PREFIX), { configured: [] }).create('read');
      check((await http(url(b, '/v1/findings?limit=1'), { headers: bearer(key) })).status === 200, 'read key refused');
      const lookups = (await commandCalls(client))('hget');
      const statuses = new Map<number, number>();
      let retryAfter = 0;
      for (let i = 0; i < 10; i++) {
        const answers = await Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            http(url(b, '/v1/findings?limit=1'), { headers: bearer(`guess-${i}-${j}-0123456789abcdef`) }),
          ),
        );
        for (const r of answers) {
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 429) retryAfter = Math.max(retryAfter, Number(r.headers.get('retry-after')));
        }
      }
      figures.unauthorized = statuses.get(401) ?? 0;
      figures.limited = statuses.get(429) ?? 0;
      figures.redis_lookups = (await commandCalls(client))('hget') - lookups;
      figures.retry_after_s = retryAfter;
      // The known key still passes from the same address, without a lookup.
      const known = await http(url(b, '/v1/findings?limit=1'), { headers: bearer(key) });
      check(known.status === 200, `a known key from a limited address: ${known.status}`);
      check(figures.unauthorized <= 20 + 2, `${figures.unauthorized} guesses reached the key lookup`);
      check(figures.limited >= 970, `only ${figures.limited} of 1,000 guesses refused with 429`);
      check(retryAfter >= 1, 'no Retry-After on 429');
      check(figures.redis_lookups <= 22, `${figures.redis_lookups} Redis lookups for 1,000 unknown keys`);
    });

    await report.scenario('trust/security-headers-and-console-without-stored-key', async (figures) => {
      const { apps } = deployment;
      const [a] = apps;
      const problems: string[] = [];
      for (const path of ['/docs', '/docs-json', '/health/live', '/v1/findings', '/nowhere']) {
        const r = await http(url(a, path));
        const csp = r.headers.get('content-security-policy') ?? '';
        if (!/default-src 'self'/.test(csp) || !/script-src 'self'/.test(csp) || /unsafe-eval/.test(csp))
          problems.push(`${path}: CSP "${csp}"`);
        if (r.headers.get('x-content-type-options') !== 'nosniff') problems.push(`${path}: no nosniff`);
        if (!/frame-ancestors 'none'/.test(csp)) problems.push(`${path}: can be framed`);
      }
      const init = await http(url(a, '/docs/swagger-ui-init.js'));
      figures.persist_authorization = /"persistAuthorization": true/.test(init.text);
      check(init.status === 200, `/docs/swagger-ui-init.js: ${init.status}`);
      check(!figures.persist_authorization, 'the Swagger console stores keys in localStorage');
      figures.problems = problems.length;
      check(problems.length === 0, problems.slice(0, 4).join(' | '));
    });
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
    await client.quit();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
