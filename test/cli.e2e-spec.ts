import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { startApp, type AppProcess } from './support/app-process.js';
import { insightRecordErrors } from './support/insight-record.validator.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';
import { type InsightRecord, MINUTE_MS } from '@trailsight/domain';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const datasets = join(repoRoot, '../shared/datasets');

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const records = () =>
    run.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as InsightRecord);
  return { status: run.status, stderr: run.stderr, stdout: run.stdout, records };
}

/** A CloudTrail record as trail files hold it. */
function record(id: string, timeMs: number, eventName: string, user: string, errorCode?: string) {
  return {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::123456789012:user/${user}`, accountId: '123456789012' },
    eventTime: new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'ec2.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: user === 'intruder' ? 'python-requests/2.31' : 'terraform/1.9',
    ...(errorCode ? { errorCode, errorMessage: 'denied' } : {}),
    requestParameters: null,
    responseElements: null,
    eventID: id,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '123456789012',
    eventCategory: 'Management',
  };
}

describe('CLI (built, as a user runs it)', () => {
  let dir: string;

  beforeAll(() => {
    // Three hours of ~10 TerminateInstances a minute, then 8 minutes of 150 a minute by one user,
    // in trail files (one gzipped per hour, one plain) plus a file that is not a log at all.
    dir = mkdtempSync(join(tmpdir(), 'trailsight-cli-'));
    const start = Date.UTC(2026, 9, 5, 8, 0);
    const hours: object[][] = [[], [], [], []];
    let n = 0;
    for (let minute = 0; minute < 4 * 60; minute++) {
      const t = start + minute * MINUTE_MS;
      const burst = minute >= 200 && minute < 208;
      for (let i = 0; i < 10 + (minute % 3); i++)
        hours[Math.floor(minute / 60)].push(record(`e-${n++}`, t + i * 1000, 'TerminateInstances', `ops-${i % 3}`));
      if (burst)
        for (let i = 0; i < 150; i++)
          hours[Math.floor(minute / 60)].push(record(`e-${n++}`, t + i * 100, 'TerminateInstances', 'intruder'));
    }
    hours.forEach((records, h) => {
      const body = JSON.stringify({ Records: records });
      if (h % 2 === 0) writeFileSync(join(dir, `trail-${h}.json.gz`), gzipSync(body));
      else writeFileSync(join(dir, `trail-${h}.json`), body);
    });
    // The same file twice: its eventIDs count once.
    writeFileSync(join(dir, 'trail-3-copy.json'), JSON.stringify({ Records: hours[3] }));
    writeFileSync(join(dir, 'notes.json'), 'this is not json');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('detect: prints the burst as a Start/End pair of valid Insights records and explains what it read', () => {
    const { status, stderr, records: parse } = cli('detect', dir);
    const records = parse();
    expect(status).toBe(0);
    const burst = records.filter((r) => r.insightDetails.insightType === 'ApiCallRateInsight');
    expect(burst.map((r) => r.insightDetails.state)).toEqual(['Start', 'End']);
    expect(burst[0]?.eventTime).toBe('2026-10-05T11:20:00Z');
    expect(burst[1]?.insightDetails.insightContext.statistics.insightDuration).toBe(8);
    for (const r of records) expect(insightRecordErrors(r)).toEqual([]);
    const arns = burst[1]?.insightDetails.insightContext.attributions?.find((a) => a.attribute === 'userIdentityArn');
    expect(arns?.insight[0]?.value).toBe('arn:aws:iam::123456789012:user/intruder');
    expect(stderr).toMatch(/read \d+ records from 6 files \(\d+ duplicate eventIDs counted once\)/);
    expect(stderr).toMatch(/rejected 1 unknown-format, e\.g\. .*notes\.json/);
  });

  it('detect: a missing path is a usage error, not a crash', () => {
    const { status, stderr } = cli('detect', join(dir, 'nope'));
    expect(status).toBe(2);
    expect(stderr).toMatch(/nope: no such file or directory/);
  });

  it('score: a timestamp,value series gets a score and an anomaly flag per row', () => {
    const csv = join(dir, 'series.csv');
    const input = ['timestamp,value'];
    for (let i = 0; i < 600; i++)
      input.push(`${new Date(Date.UTC(2026, 0, 1) + i * MINUTE_MS).toISOString()},${i === 500 ? 400 : 20 + (i % 5)}`);
    writeFileSync(csv, input.join('\n'));
    const { status, stdout } = cli('score', '--csv', csv);
    expect(status).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('timestamp,value,score,anomaly');
    expect(lines).toHaveLength(601);
    // The burst opens an insight (its highest score); the normal minutes that close it are flagged
    // as part of it; nothing else is.
    const rows = lines.slice(1).map((line) => line.split(','));
    const flagged = rows.filter((row) => row[3] === '1');
    expect(flagged[0]?.[1]).toBe('400');
    expect(flagged.length).toBeLessThanOrEqual(1 + 5);
    const top = rows.reduce((best, row) => (Number(row[2]) > Number(best[2]) ? row : best));
    expect(top[1]).toBe('400');
    const firstFlagged = rows.indexOf(flagged[0]);
    expect(firstFlagged).toBe(500);
    flagged.forEach((row, i) => expect(rows.indexOf(row)).toBe(500 + i));
  });

  it('score: a continuous series (fractional values, irregular rows) flags its level shift once', () => {
    const csv = join(dir, 'latency.csv');
    const input = ['timestamp,value'];
    let time = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 1500; i++) {
      time += (i % 11 === 0 ? 7 : 5) * MINUTE_MS;
      const noise = ((i * 7919) % 13) / 13 - 0.5; // deterministic, within ±0.5
      input.push(`${new Date(time).toISOString()},${((i < 1200 ? 12.5 : 19.5) + noise).toFixed(3)}`);
    }
    writeFileSync(csv, input.join('\n'));
    const { status, stdout } = cli('score', '--csv', csv);
    expect(status).toBe(0);
    const rows = stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    expect(rows).toHaveLength(1500);
    const flagged = rows.flatMap((row, i) => (row[3] === '1' ? [i] : []));
    expect(flagged[0]).toBe(1200);
    // Flagged once: the shift is re-baselined within a few rows and is the new normal after.
    expect(flagged.every((i) => i >= 1200 && i < 1215)).toBe(true);
    const bad = cli('score', '--csv', csv, '--kind', 'gauge');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--kind for score must be auto, counts or continuous, got "gauge"/);
  });

  it('detect | head -1: one record on stdout, exit 0, nothing about the closed pipe', () => {
    // As a user pipes it: `trailsight` from package.json's bin, the shell's pipefail on.
    for (const reader of ['head -1', 'true']) {
      const run = spawnSync('bash', ['-c', `set -o pipefail; node bin/trailsight.js detect "${dir}" | ${reader}`], {
        cwd: repoRoot,
        encoding: 'utf8',
      });
      expect([reader, run.status, run.stderr]).toEqual([reader, 0, expect.not.stringMatching(/EPIPE|Error|\n\s+at /)]);
      if (reader === 'head -1') {
        expect(run.stdout.trim().split('\n')).toHaveLength(1);
        expect(insightRecordErrors(JSON.parse(run.stdout) as InsightRecord)).toEqual([]);
      }
    }
  });

  const grycap = join(datasets, 'grycap-cloudtrail-tracker');
  (existsSync(grycap) ? it : it.skip)(
    'detect: reads every file of the grycap dataset without a crash',
    () => {
      const { status, stderr, records: parse } = cli('detect', grycap);
      const records = parse();
      expect(status).toBe(0);
      expect(stderr).toMatch(/read 17598 records from 1067 files/);
      for (const r of records) expect(insightRecordErrors(r)).toEqual([]);
    },
    120_000,
  );

  if (!existsSync(grycap)) console.warn(`${grycap} is absent: the dataset test is skipped`);

  for (const name of ['stratus-detonation-logs', 'aws-docs-insights-examples']) {
    const path = join(datasets, name);
    (existsSync(path) ? it : it.skip)(
      `detect: reads ${name} without a crash and reports rejects`,
      () => {
        const { status, stderr } = cli('detect', path);
        expect(status).toBe(0);
        expect(stderr).toMatch(/read \d+ records from \d+ files/);
      },
      60_000,
    );
  }
});

describe('CLI as a command: help, version and usage errors', () => {
  const trailsight = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/trailsight.js', ...args], { cwd: repoRoot, encoding: 'utf8' });
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

  it('--help, -h and help answer on stdout with exit 0; help <command> shows that command only', () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const run = trailsight(...args);
      expect([args, run.status, run.stderr]).toEqual([args, 0, '']);
      for (const command of ['detect', 'score', 'keys']) expect(run.stdout).toContain(`trailsight ${command}`);
    }
    for (const args of [
      ['help', 'score'],
      ['score', '--help'],
    ]) {
      const run = trailsight(...args);
      expect([args, run.status]).toEqual([args, 0]);
      expect(run.stdout).toContain('trailsight score --csv');
      expect(run.stdout).not.toContain('trailsight detect');
    }
  });

  it('--version prints the package version', () => {
    for (const flag of ['--version', '-V']) {
      const run = trailsight(flag);
      expect([run.status, run.stdout, run.stderr]).toEqual([0, `trailsight ${version}\n`, '']);
    }
  });

  it('usage errors go to stderr with the usage and exit 2, never a stack trace', () => {
    for (const args of [[], ['frobnicate'], ['detect', '--no-such-flag'], ['score'], ['help', 'nothing']]) {
      const run = trailsight(...args);
      expect([args, run.status, run.stdout]).toEqual([args, 2, '']);
      expect(run.stderr).toMatch(/^trailsight: .+\n\nUsage:\n/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('npm run cli builds only when a source changed', () => {
    const builtAt = () => statSync(join(repoRoot, 'dist/apps/cli/src/main.js')).mtimeMs;
    const before = builtAt();
    const run = spawnSync('npm', ['run', 'cli', '--silent', '--', '--version'], { cwd: repoRoot, encoding: 'utf8' });
    expect([run.status, run.stdout]).toEqual([0, `trailsight ${version}\n`]);
    expect(builtAt()).toBe(before);
  });
});

describe('CLI keys (the recovery path: Redis access, no API key)', () => {
  let redis: ThrowawayRedis;
  let api: AppProcess;
  let keyDir: string;
  const env = () => ({ REDIS_URL: redis.url, REDIS_PREFIX: 'clikeys', SECRETS_KEY: 'b'.repeat(64) });
  const keys = (...args: string[]) => keysWith(env(), ...args);
  const keysWith = (environment: Record<string, string>, ...args: string[]) => {
    const run = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', 'keys', ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...environment },
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  beforeAll(async () => {
    redis = await startRedis();
    keyDir = mkdtempSync(join(tmpdir(), 'trailsight-cli-keys-'));
    api = startApp('api', { PORT: String(await freePort()), ...env(), ADMIN_KEY_FILE: join(keyDir, 'admin-key') });
    await api.healthy();
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await redis?.stop();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const findings = (key: string) =>
    fetch(`http://127.0.0.1:${api.port}/v1/findings?limit=1`, { headers: { authorization: `Bearer ${key}` } }).then(
      (r) => r.status,
    );

  it('creates an admin key after every admin key was revoked and its file lost; lists and revokes keys', async () => {
    // The operator lost the first key: it is revoked and its file deleted.
    const first = readFileSync(join(keyDir, 'admin-key'), 'utf8').trim();
    const listed = keys('list');
    expect(listed.status).toBe(0);
    const firstId = /^([0-9a-f]{12})\s+admin\s+redis/m.exec(listed.stdout)?.[1];
    expect(firstId).toBeDefined();
    expect(listed.stdout).not.toContain(first);
    expect(keys('revoke', firstId!)).toMatchObject({ status: 0, stderr: `revoked key ${firstId}\n` });
    rmSync(join(keyDir, 'admin-key'));
    expect(await findings(first)).toBe(401);

    const created = keys('create', '--scope', 'admin');
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^tsk_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/^created admin key [0-9a-f]{12}/);
    expect(await findings(key)).toBe(200);
    const admin = await fetch(`http://127.0.0.1:${api.port}/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect(admin.status).toBe(200);

    const read = keys('create', '--scope', 'read').stdout.trim();
    const readId = /^([0-9a-f]{12})\s+read/m.exec(keys('list').stdout)?.[1];
    expect(await findings(read)).toBe(200);
    expect(keys('revoke', readId!).status).toBe(0);
    expect(await findings(read)).toBe(401); // at once: the api heard the revocation
    expect(keys('revoke', readId!)).toMatchObject({ status: 1, stderr: expect.stringMatching(/no API key with id/) });
  }, 60_000);

  it('creates aws keys (--kind aws) that sign CloudTrail requests to the api, lists and revokes them', async () => {
    const created = keys('create', '--scope', 'read', '--kind', 'aws', '--account-id', '123456789012');
    expect(created.status).toBe(0);
    const [, accessKeyId, secretAccessKey] =
      /^AWS_ACCESS_KEY_ID=(TSAK[A-Z2-7]{16})\nAWS_SECRET_ACCESS_KEY=(\S{40})\n$/.exec(created.stdout) ?? [];
    expect(accessKeyId).toBeDefined();
    expect(created.stderr).toMatch(/^created read aws key [0-9a-f]{12}: the secret is shown only now/);
    const row = new RegExp(`^([0-9a-f]{12})\\s+read\\s+redis\\s+aws\\s+${accessKeyId}\\s`, 'm').exec(
      keys('list').stdout,
    );
    expect(row).not.toBeNull();
    const client = new CloudTrailClient({
      endpoint: `http://127.0.0.1:${api.port}/aws`,
      region: 'us-east-1',
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
    expect((await client.send(new LookupEventsCommand({ EventCategory: 'insight' }))).Events).toEqual([]);
    expect(keys('revoke', row![1]).status).toBe(0);
    await expect(client.send(new LookupEventsCommand({ EventCategory: 'insight' }))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });
    // Without SECRETS_KEY the secret could not be stored encrypted: refused, exit 1.
    const { SECRETS_KEY: _unused, ...withoutSecrets } = env();
    expect(keysWith(withoutSecrets, 'create', '--scope', 'read', '--kind', 'aws')).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/aws keys need SECRETS_KEY/),
    });
  }, 60_000);

  it('refuses bad usage with a clear message and exit code 2', () => {
    expect(keys('create', '--scope', 'read', '--kind', 'gcp')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--kind must be api or aws/),
    });
    expect(keys('create', '--scope', 'read', '--kind', 'aws', '--account-id', '12')).toMatchObject({ status: 2 });
    expect(keys('create', '--scope', 'read', '--account-id', '123456789012')).toMatchObject({ status: 2 });
    expect(keys('create')).toMatchObject({ status: 2, stderr: expect.stringMatching(/--scope admin or --scope read/) });
    expect(keys('create', '--scope', 'root')).toMatchObject({ status: 2 });
    expect(keys('revoke')).toMatchObject({ status: 2, stderr: expect.stringMatching(/one key id/) });
    expect(keys('rotate')).toMatchObject({ status: 2, stderr: expect.stringMatching(/create, list or revoke/) });
  });
});
