import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.loader.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  it('reads the seed nodes of a Redis Cluster and the events partitions', () => {
    const config = loadConfig({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b.internal:7001,[::1]:7002',
      EVENT_QUEUE_PARTITIONS: '3',
    });
    expect(config.redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.eventQueuePartitions).toBe(3);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1,host:99999' })).toThrow(
      /REDIS_CLUSTER_NODES must be host:port entries, comma-separated, got "10\.0\.0\.1"[\s\S]*got "host:99999"/,
    );
    expect(() => loadConfig({ EVENT_QUEUE_PARTITIONS: '0' })).toThrow(/EVENT_QUEUE_PARTITIONS/);
  });

  it('runs the embedded default with nothing configured', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      redisClusterNodes: [],
      eventQueuePartitions: 1,
      redisWaitTimeoutMs: 1000,
      redisPrefix: 'ts',
      port: 3000,
      apiKeys: [],
      apiRateLimit: 600,
      apiRateWindowSeconds: 60,
      apiAuthFailureLimit: 30,
      adminKeyFile: '.data/admin-key',
      logLevel: 'log',
      logFormat: 'json',
      source: 'simulator',
      regions: ['us-east-1'],
      accounts: [{ accountId: '123456789012' }],
      cloudTrailEndpoint: undefined,
      trailDir: undefined,
      simulatorPort: 4599,
      simulatorControl: 'loopback',
      simulatorRateLimit: 2,
      simulatorEventsPerMinute: 60,
      simulatorSeed: 1,
      lookupEventsRate: 2,
      pollIntervalSeconds: 10,
      pollOverlapMinutes: 15,
      backfillDays: 7,
      batchSize: 500,
      webhookAllowPrivate: false,
      webhookAllowedPorts: [80, 443],
      webhookTimeoutMs: 10_000,
      webhookMaxAttempts: 8,
      webhookBackoffMs: 2_000,
      webhookConcurrency: 64,
      webhookDisableAfter: 10,
      webhookLogSize: 200,
      webhookMaxInsightAgeMinutes: 60,
      webhookSecretGraceHours: 24,
      insightsS3Prefix: '',
      insightsS3FlushSeconds: 300,
      insightsEventBridgeRegion: 'us-east-1',
      insightsEventBridgeFlushSeconds: 5,
      detectorConcurrency: 16,
      counterRetentionMinutes: 8 * 24 * 60,
      dedupeWindowMinutes: 24 * 60,
      eventSamplesMinutes: 30,
      insightsEventCategories: ['Management'],
      detectorSensitivity: 5,
      detectorMinVolume: 3,
      detectorEndAfterMinutes: 5,
      detectorDrops: true,
      detectorOverrides: {},
      evaluationLatenessSeconds: 30,
      evaluationIntervalSeconds: 15,
      evaluationMaxLagSeconds: 1800,
      findingsRetentionDays: 90,
      fileWorkers: 2,
      s3Bucket: undefined,
      s3Endpoint: undefined,
      s3Prefix: '',
      s3Region: 'us-east-1',
      sqsEndpoint: undefined,
      sqsAllowedBuckets: [],
      sqsQueueUrl: undefined,
      trailFileLatenessMinutes: 15,
      trailFileMaxBytes: 128 * 1024 * 1024,
      trailFileMaxAttempts: 12,
    });
  });

  it('waits longer before judging a minute of AWS (events visible in ~5 min) than of the simulator', () => {
    expect(loadConfig({ CLOUDTRAIL_SOURCE: 'aws' }).evaluationLatenessSeconds).toBe(300);
    expect(loadConfig({}).evaluationLatenessSeconds).toBe(30);
    expect(loadConfig({ CLOUDTRAIL_SOURCE: 'aws', EVALUATION_LATENESS_SECONDS: '60' }).evaluationLatenessSeconds).toBe(
      60,
    );
  });

  it('reads per-API detector overrides and names what is wrong in them', () => {
    expect(
      loadConfig({
        DETECTOR_OVERRIDES:
          '{"ec2.amazonaws.com:RunInstances": {"sensitivity": 3}, "s3.amazonaws.com:*": {"drops": false}}',
      }).detectorOverrides,
    ).toEqual({ 'ec2.amazonaws.com:RunInstances': { sensitivity: 3 }, 's3.amazonaws.com:*': { drops: false } });
    expect(() => loadConfig({ DETECTOR_OVERRIDES: '{not json' })).toThrow(/DETECTOR_OVERRIDES is not valid JSON/);
    expect(() => loadConfig({ DETECTOR_OVERRIDES: '{"RunInstances": {}}' })).toThrow(
      /DETECTOR_OVERRIDES key "RunInstances"/,
    );
    expect(() => loadConfig({ DETECTOR_OVERRIDES: '{"ec2.amazonaws.com:*": {"sensitivty": 3}}' })).toThrow(
      /unknown setting "sensitivty"/,
    );
    expect(() => loadConfig({ DETECTOR_SENSITIVITY: '11' })).toThrow(/DETECTOR_SENSITIVITY/);
  });

  it('treats empty and blank variables as unset', () => {
    expect(loadConfig({ PORT: '', REDIS_URL: '   ', API_KEYS: '' })).toMatchObject({
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      apiKeys: [],
    });
  });

  it('reads every variable it is given', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://user:pw@redis.example.com:6380/2',
      REDIS_PREFIX: 'prod_1',
      PORT: '8080',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
      CLOUDTRAIL_SOURCE: 'files',
      TRAIL_DIR: '/var/trails',
      AWS_REGIONS: 'us-east-1, eu-west-1',
      CLOUDTRAIL_ENDPOINT: 'http://simulator:4599',
      SIMULATOR_RATE_LIMIT: '0.5',
      BATCH_SIZE: '100',
    });
    expect(config).toMatchObject({
      redisUrl: 'rediss://user:pw@redis.example.com:6380/2',
      redisPrefix: 'prod_1',
      port: 8080,
      logLevel: 'debug',
      logFormat: 'pretty',
      source: 'files',
      trailDir: '/var/trails',
      regions: ['us-east-1', 'eu-west-1'],
      cloudTrailEndpoint: 'http://simulator:4599',
      simulatorRateLimit: 0.5,
      batchSize: 100,
    });
  });

  describe('rejects an invalid value with a message naming the variable', () => {
    it.each([
      ['REDIS_URL', 'localhost:6379'],
      ['REDIS_URL', 'http://127.0.0.1:6379'],
      ['REDIS_PREFIX', 'has:colon'],
      ['REDIS_PREFIX', 'x'.repeat(33)],
      ['PORT', '0'],
      ['PORT', '65536'],
      ['PORT', 'abc'],
      ['PORT', '80.5'],
      ['LOG_LEVEL', 'info'],
      ['LOG_FORMAT', 'xml'],
      ['CLOUDTRAIL_SOURCE', 'kinesis'],
      ['AWS_REGIONS', 'US-EAST-1'],
      ['AWS_REGIONS', 'mars'],
      ['AWS_ACCOUNTS', '12345'],
      ['CLOUDTRAIL_ENDPOINT', 'ftp://example.com'],
      ['CLOUDTRAIL_ENDPOINT', 'not a url'],
      ['SIMULATOR_PORT', '70000'],
      ['SIMULATOR_RATE_LIMIT', '0'],
      ['SIMULATOR_EVENTS_PER_MINUTE', '0'],
      ['SIMULATOR_SEED', '-1'],
      ['LOOKUP_EVENTS_RATE', 'fast'],
      ['POLL_INTERVAL_SECONDS', '0'],
      ['POLL_OVERLAP_MINUTES', '2.5'],
      ['BACKFILL_DAYS', '91'],
      ['BATCH_SIZE', '10001'],
      ['WEBHOOK_ALLOW_PRIVATE', 'maybe'],
      ['WEBHOOK_TIMEOUT_MS', '30000'],
      ['WEBHOOK_MAX_ATTEMPTS', '0'],
      ['DETECTOR_CONCURRENCY', '0'],
      ['COUNTER_RETENTION_MINUTES', '59'],
      ['DEDUPE_WINDOW_MINUTES', 'NaN'],
      ['EVALUATION_MAX_LAG_SECONDS', '30'],
      ['INSIGHTS_EVENT_CATEGORIES', 'Data'],
      ['INSIGHTS_EVENT_CATEGORIES', 'Management,Insight'],
      ['INSIGHTS_EVENT_CATEGORIES', 'management,data'],
      ['INSIGHTS_EVENT_CATEGORIES', 'Management,Management'],
    ])('%s=%s', (name, value) => {
      const problems = problemsOf({ [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(name);
      expect(problems[0]).toContain(value);
    });

    it('API_KEYS (without echoing the key)', () => {
      const problems = problemsOf({ API_KEYS: 'short' });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^API_KEYS /);
      expect(problems[0]).not.toContain('short');
    });

    it('TRAIL_DIR when CLOUDTRAIL_SOURCE=files', () => {
      expect(problemsOf({ CLOUDTRAIL_SOURCE: 'files' })).toEqual([
        'TRAIL_DIR is required when CLOUDTRAIL_SOURCE=files',
      ]);
    });
  });

  it('reports several problems at once, in one error that lists them all', () => {
    const env = { PORT: 'x', LOG_LEVEL: 'loud', REDIS_URL: 'nope', AWS_ACCOUNTS: '1' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    const problems = problemsOf(env);
    expect(problems).toHaveLength(4);
    for (const name of Object.keys(env)) expect(problems.some((problem) => problem.includes(name))).toBe(true);
    expect(() => loadConfig(env)).toThrow(/^Invalid configuration:\n {2}- [\s\S]*PORT[\s\S]*\n {2}- LOG_LEVEL/);
  });

  describe('REDIS_URL credentials, REDIS_TLS_CA_FILE and SECRETS_KEY', () => {
    it('never echoes a password of a refused REDIS_URL', () => {
      for (const url of ['http://user:hunter2-secret@redis:6379', 'redis://user:hunter2/secret@redis:6379/x y']) {
        const problems = problemsOf({ REDIS_URL: url }).join('\n');
        expect(problems).toMatch(/REDIS_URL/);
        expect(problems).not.toMatch(/hunter2|secret/);
      }
    });

    it('accepts a readable CA file with rediss:// and refuses a missing one or plain redis://', () => {
      const dir = mkdtempSync(join(tmpdir(), 'ts-ca-'));
      try {
        const ca = join(dir, 'ca.pem');
        writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
        expect(loadConfig({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: ca }).redisTlsCaFile).toBe(ca);
        expect(problemsOf({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: join(dir, 'nope.pem') })).toEqual([
          `REDIS_TLS_CA_FILE must name a readable file, got "${join(dir, 'nope.pem')}"`,
        ]);
        expect(problemsOf({ REDIS_TLS_CA_FILE: dir })[0]).toMatch(/^REDIS_TLS_CA_FILE must name a readable file/);
        expect(problemsOf({ REDIS_URL: 'redis://redis:6379', REDIS_TLS_CA_FILE: ca })).toEqual([
          'REDIS_TLS_CA_FILE is set but REDIS_URL is not a rediss:// (TLS) URL',
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reads SECRETS_KEY as 32 bytes of hex or base64, and refuses anything else without echoing it', () => {
      const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
      expect(loadConfig({}).secretsKey).toBeUndefined();
      expect(loadConfig({ SECRETS_KEY: key.toString('hex') }).secretsKey).toEqual(key);
      expect(loadConfig({ SECRETS_KEY: key.toString('base64') }).secretsKey).toEqual(key);
      expect(loadConfig({ SECRETS_KEY: key.toString('base64url') }).secretsKey).toEqual(key);
      for (const bad of [
        'short-key-value',
        key.toString('hex').slice(2),
        `${key.toString('base64')}AAAA`,
        'z'.repeat(64),
      ]) {
        const problems = problemsOf({ SECRETS_KEY: bad });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^SECRETS_KEY must be 32 random bytes as 64 hex digits or base64/);
        expect(problems[0]).not.toContain(bad);
      }
    });
  });

  it('reads the S3 and EventBridge outputs (off by default); a wrong value names its variable', () => {
    const off = loadConfig({});
    expect([off.insightsS3Bucket, off.insightsEventBridgeBus]).toEqual([undefined, undefined]);
    expect([off.insightsS3FlushSeconds, off.insightsEventBridgeFlushSeconds]).toEqual([300, 5]);
    const on = loadConfig({
      INSIGHTS_S3_BUCKET: 'insights-out',
      INSIGHTS_S3_PREFIX: '/org/',
      INSIGHTS_EVENTBRIDGE_BUS: 'arn:aws:events:eu-west-1:123456789012:event-bus/security',
      INSIGHTS_EVENTBRIDGE_ENDPOINT: 'http://127.0.0.1:4010',
    });
    expect([on.insightsS3Bucket, on.insightsS3Prefix, on.insightsEventBridgeBus]).toEqual([
      'insights-out',
      'org',
      'arn:aws:events:eu-west-1:123456789012:event-bus/security',
    ]);
    const problems = problemsOf({
      INSIGHTS_S3_BUCKET: 'Not_A_Bucket',
      INSIGHTS_S3_FLUSH_SECONDS: '0',
      INSIGHTS_EVENTBRIDGE_BUS: 'bus with spaces',
      INSIGHTS_EVENTBRIDGE_ENDPOINT: 'ftp://x',
      INSIGHTS_EVENTBRIDGE_REGION: 'mars',
      INSIGHTS_EVENTBRIDGE_FLUSH_SECONDS: 'often',
    });
    for (const name of [
      'INSIGHTS_S3_BUCKET',
      'INSIGHTS_S3_FLUSH_SECONDS',
      'INSIGHTS_EVENTBRIDGE_BUS',
      'INSIGHTS_EVENTBRIDGE_ENDPOINT',
      'INSIGHTS_EVENTBRIDGE_REGION',
      'INSIGHTS_EVENTBRIDGE_FLUSH_SECONDS',
    ])
      expect(problems.filter((p) => p.startsWith(name))).toHaveLength(1);
  });

  it('reads WEBHOOK_MAX_INSIGHT_AGE_MINUTES (default 60) and PUBLIC_URL (an http(s) URL, trailing slash dropped)', () => {
    expect(loadConfig({ WEBHOOK_MAX_INSIGHT_AGE_MINUTES: '15' }).webhookMaxInsightAgeMinutes).toBe(15);
    expect(loadConfig({ PUBLIC_URL: 'https://trailsight.example.com/' }).publicUrl).toBe(
      'https://trailsight.example.com',
    );
    expect(loadConfig({}).publicUrl).toBeUndefined();
    expect(problemsOf({ WEBHOOK_MAX_INSIGHT_AGE_MINUTES: '0' }).join()).toContain('WEBHOOK_MAX_INSIGHT_AGE_MINUTES');
    expect(problemsOf({ PUBLIC_URL: 'ftp://example.com' }).join()).toContain('PUBLIC_URL must be a URL');
    expect(loadConfig({ WEBHOOK_SECRET_GRACE_HOURS: '0' }).webhookSecretGraceHours).toBe(0);
    expect(problemsOf({ WEBHOOK_SECRET_GRACE_HOURS: '721' }).join()).toContain('WEBHOOK_SECRET_GRACE_HOURS');
  });

  it('reads WEBHOOK_ALLOWED_PORTS: 80,443 by default, any port with WEBHOOK_ALLOW_PRIVATE, or the list given', () => {
    expect(loadConfig({}).webhookAllowedPorts).toEqual([80, 443]);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true' }).webhookAllowedPorts).toBe('any');
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_ALLOWED_PORTS: '443' }).webhookAllowedPorts).toEqual([
      443,
    ]);
    expect(loadConfig({ WEBHOOK_ALLOWED_PORTS: ' 443, 8443,443 ' }).webhookAllowedPorts).toEqual([443, 8443]);
    expect(loadConfig({ WEBHOOK_ALLOWED_PORTS: 'ANY' }).webhookAllowedPorts).toBe('any');
    for (const bad of ['0', '65536', '80,x', '80;443', '-1']) {
      expect(problemsOf({ WEBHOOK_ALLOWED_PORTS: bad })).toEqual([
        `WEBHOOK_ALLOWED_PORTS must be "any" or ports from 1 to 65535, comma-separated, got "${bad}"`,
      ]);
    }
  });

  describe('INSIGHTS_EVENT_CATEGORIES', () => {
    it('analyses management events only by default, as AWS does', () => {
      expect(loadConfig({}).insightsEventCategories).toEqual(['Management']);
      expect(loadConfig({ INSIGHTS_EVENT_CATEGORIES: 'Management' }).insightsEventCategories).toEqual(['Management']);
    });

    it('adds data events with Management,Data, in either order', () => {
      expect(loadConfig({ INSIGHTS_EVENT_CATEGORIES: 'Management,Data' }).insightsEventCategories).toEqual([
        'Management',
        'Data',
      ]);
      expect(loadConfig({ INSIGHTS_EVENT_CATEGORIES: ' Data , Management ' }).insightsEventCategories).toEqual([
        'Management',
        'Data',
      ]);
    });

    it('says which values it takes', () => {
      expect(problemsOf({ INSIGHTS_EVENT_CATEGORIES: 'Management,NetworkActivity' })).toEqual([
        'INSIGHTS_EVENT_CATEGORIES must be Management or Management,Data, got "Management,NetworkActivity"',
      ]);
    });
  });

  describe('AWS_ACCOUNTS', () => {
    it('accepts bare account ids and account=role entries', () => {
      const config = loadConfig({
        AWS_ACCOUNTS:
          '111111111111, 222222222222=arn:aws:iam::222222222222:role/trailsight-reader,' +
          '333333333333=arn:aws-us-gov:iam::333333333333:role/path/reader',
      });
      expect(config.accounts).toEqual([
        { accountId: '111111111111' },
        { accountId: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/trailsight-reader' },
        { accountId: '333333333333', roleArn: 'arn:aws-us-gov:iam::333333333333:role/path/reader' },
      ]);
    });

    it.each([
      ['an account id that is not 12 digits', '1234567890123'],
      ['a role that is not an IAM role ARN', '111111111111=arn:aws:iam::111111111111:user/alice'],
      ['an empty role', '111111111111='],
      ['a role without an account id', '=arn:aws:iam::111111111111:role/reader'],
    ])('rejects %s', (_what, entry) => {
      const problems = problemsOf({ AWS_ACCOUNTS: entry });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^AWS_ACCOUNTS /);
    });
  });

  describe('API_KEYS', () => {
    const key = 'k'.repeat(16);

    it('reads key and key:scope entries, admin by default', () => {
      expect(loadConfig({ API_KEYS: `${key}, ${'r'.repeat(20)}:read ,${'a'.repeat(16)}:admin` }).apiKeys).toEqual([
        { key, scope: 'admin' },
        { key: 'r'.repeat(20), scope: 'read' },
        { key: 'a'.repeat(16), scope: 'admin' },
      ]);
    });

    it.each([
      ['a key shorter than 16 characters', 'k'.repeat(15)],
      ['an unknown scope', `${key}:write`],
      ['an empty scope', `${key}:`],
      ['more than one colon', `${key}:read:admin`],
      ['an empty key', ':read'],
    ])('rejects %s', (_what, entry) => {
      const problems = problemsOf({ API_KEYS: entry });
      expect(problems.length).toBeGreaterThan(0);
      for (const problem of problems) expect(problem).toMatch(/^API_KEYS /);
    });

    it('never echoes a key in its messages', () => {
      const secret = 'sup3r-s3cret';
      const problems = problemsOf({ API_KEYS: `${secret}:write` });
      expect(problems).toHaveLength(2);
      for (const problem of problems) expect(problem).not.toContain(secret);
    });
  });
});
