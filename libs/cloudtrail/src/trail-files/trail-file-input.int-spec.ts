import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { KeySpace, loadConfig } from '@trailsight/core';
import type { TrailFileRef } from '@trailsight/domain';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { S3RVER_CREDENTIALS, startS3, type LocalS3 } from '../../../../test/support/s3-server.js';
import { startSqs, type LocalSqs } from '../../../../test/support/sqs-server.js';
import { RejectsRepository } from '../ingest/rejects.repository.js';
import { CheckpointRepository } from '../lookup-events/checkpoint.repository.js';
import { FilesSourceService } from './files-source.service.js';
import { TrailFileClients } from './trail-file-clients.js';
import { DirectoryLister } from './trail-file.listers.js';
import { TrailFileReader } from './trail-file.reader.js';
import { TrailFilesRepository } from './trail-files.repository.js';

const FOLDER = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02';
const NAME = (unique: string) => `111122223333_CloudTrail_us-east-1_20260102T0105Z_${unique}.json.gz`;
/** Where a listed or enqueued file lies (its id is its CloudTrail name when it has one). */
const where = ({ location }: TrailFileRef) =>
  location.kind === 's3' ? `s3://${location.bucket}/${location.key}` : location.path;
const SECRET = 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TRAIL = gzipSync(
  JSON.stringify({
    Records: [
      {
        eventVersion: '1.08',
        eventTime: '2026-01-02T01:01:00Z',
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
        awsRegion: 'us-east-1',
        eventID: 'e-1',
        recipientAccountId: '111122223333',
      },
    ],
  }),
);

describe('trail file input trust: notified buckets, links out of TRAIL_DIR', () => {
  let redisServer: ThrowawayRedis;
  let redis: Redis;
  let s3: LocalS3;
  let sqs: LocalSqs;
  let sqsClient: SQSClient;
  let dir: string;

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    s3 = await startS3();
    sqs = await startSqs();
    sqsClient = new SQSClient({ region: 'us-east-1', endpoint: sqs.url, credentials: S3RVER_CREDENTIALS });
    dir = mkdtempSync(join(tmpdir(), 'trailsight-trust-'));
    // Our trail bucket (files under the trail's prefix, and one outside it) and someone else's.
    await s3.createBucket('trail-bucket');
    await s3.createBucket('victim-bucket');
    for (const [bucket, key] of [
      ['trail-bucket', `trails/${FOLDER}/${NAME('ours')}`],
      ['trail-bucket', `elsewhere/${FOLDER}/${NAME('outside-prefix')}`],
      ['victim-bucket', `${FOLDER}/${NAME('victim')}`],
    ] as const) {
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: TRAIL }));
    }
  }, 60_000);

  afterAll(async () => {
    sqsClient?.destroy();
    redis?.disconnect();
    await s3?.stop();
    await sqs?.stop();
    await redisServer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function service(prefix: string, env: Record<string, string>) {
    const keys = new KeySpace(prefix);
    const clients = new TrailFileClients({
      s3Endpoint: s3.url,
      s3Region: 'us-east-1',
      sqsEndpoint: sqs.url,
      credentials: S3RVER_CREDENTIALS,
    });
    const rejects = new RejectsRepository(redis, keys);
    const enqueued: TrailFileRef[] = [];
    const producer = { enqueue: (files: readonly TrailFileRef[]) => Promise.resolve(enqueued.push(...files)) };
    const config = {
      ...loadConfig({ POLL_INTERVAL_SECONDS: '0.1', S3_ENDPOINT: s3.url, ...env }),
      redisPrefix: prefix,
    };
    const source = new FilesSourceService(
      config,
      producer,
      new TrailFilesRepository(redis, keys),
      new CheckpointRepository(redis, keys),
      rejects,
      clients,
    );
    return { source, rejects, enqueued };
  }

  const send = (queueUrl: string, body: unknown) =>
    sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
  const s3Event = (bucket: string, key: string) => ({
    Records: [
      {
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: bucket }, object: { key, size: TRAIL.length, eTag: 'abc' } },
      },
    ],
  });

  it('SQS notifications naming another bucket or a key outside the prefix are parked as not-allowed, never read', async () => {
    const queueUrl = sqs.queueUrl('allowlist');
    const { source, rejects, enqueued } = service('allow', {
      CLOUDTRAIL_SOURCE: 'sqs',
      SQS_QUEUE_URL: queueUrl,
      SQS_ENDPOINT: sqs.url,
      SQS_ALLOWED_BUCKETS: 'trail-bucket/trails',
    });
    await send(queueUrl, { s3Bucket: 'trail-bucket', s3ObjectKey: [`trails/${FOLDER}/${NAME('ours')}`] });
    await send(queueUrl, { s3Bucket: 'victim-bucket', s3ObjectKey: [`${FOLDER}/${NAME('victim')}`] });
    await send(queueUrl, s3Event('trail-bucket', `elsewhere/${FOLDER}/${NAME('outside-prefix')}`));
    // A prefix that only looks like ours ("trails-evil/" is not under "trails/").
    await send(queueUrl, s3Event('trail-bucket', `trails-evil/${FOLDER}/${NAME('x')}`));

    await source.runOnce(); // the sqs source's first round is its (absent) back-fill
    await source.runOnce();
    expect(enqueued.map(where)).toEqual([`s3://trail-bucket/trails/${FOLDER}/${NAME('ours')}`]);
    expect(sqs.size('allowlist')).toBe(0); // refused messages are deleted, not retried forever
    expect(await rejects.counts()).toEqual({ 'not-allowed': 3 });
    const parked = await rejects.list();
    expect(parked.map((p) => p.detail).join('\n')).toContain(`s3://victim-bucket/${FOLDER}/${NAME('victim')}`);
    expect(parked.every((p) => p.origin === 'sqs' && p.sample === undefined)).toBe(true);
    await source.onModuleDestroy();
  }, 60_000);

  it('with S3_BUCKET and S3_PREFIX alone, only keys of that bucket under that prefix are read', async () => {
    const queueUrl = sqs.queueUrl('configured');
    const { source, rejects, enqueued } = service('configured', {
      CLOUDTRAIL_SOURCE: 'sqs',
      SQS_QUEUE_URL: queueUrl,
      SQS_ENDPOINT: sqs.url,
      S3_BUCKET: 'trail-bucket',
      S3_PREFIX: 'trails',
      BACKFILL_DAYS: '0',
    });
    await source.runOnce(); // back-fill of today's folders: nothing (the files are from 2026-01-02)
    await send(queueUrl, s3Event('trail-bucket', `trails/${FOLDER}/${NAME('ours')}`));
    await send(queueUrl, s3Event('trail-bucket', `elsewhere/${FOLDER}/${NAME('outside-prefix')}`));
    await send(queueUrl, s3Event('victim-bucket', `${FOLDER}/${NAME('victim')}`));
    await source.runOnce();
    expect(enqueued.map(where)).toEqual([`s3://trail-bucket/trails/${FOLDER}/${NAME('ours')}`]);
    expect(await rejects.counts()).toEqual({ 'not-allowed': 2 });
    await source.onModuleDestroy();
  }, 60_000);

  it("SQS: an Insights key (AWS's own Insights, read as reference insights) is enqueued; a digest is not", async () => {
    const queueUrl = sqs.queueUrl('insights');
    const { source, rejects, enqueued } = service('insights', {
      CLOUDTRAIL_SOURCE: 'sqs',
      SQS_QUEUE_URL: queueUrl,
      SQS_ENDPOINT: sqs.url,
      S3_BUCKET: 'trail-bucket',
      BACKFILL_DAYS: '0',
    });
    await source.runOnce();
    const insights = FOLDER.replace('/CloudTrail/', '/CloudTrail-Insight/');
    const insightKey = `${insights}/111122223333_CloudTrail-Insight_us-east-1_20260102T0130Z_Mu0KsOhtH1ar15ZZ.json.gz`;
    const digestKey = `${FOLDER.replace('/CloudTrail/', '/CloudTrail-Digest/')}/111122223333_CloudTrail-Digest_us-east-1_x_20260102T0130Z.json.gz`;
    await send(queueUrl, s3Event('trail-bucket', insightKey));
    await send(queueUrl, s3Event('trail-bucket', digestKey));
    await source.runOnce();
    expect(enqueued.map(where)).toEqual([`s3://trail-bucket/${insightKey}`]);
    expect(await rejects.counts()).toEqual({});
    await source.onModuleDestroy();
  }, 60_000);

  it('a link in TRAIL_DIR to a file outside it is skipped, parked once by path (no content); links inside are followed', async () => {
    const root = join(dir, 'trail-dir');
    const folder = join(root, FOLDER);
    mkdirSync(folder, { recursive: true });
    const real = join(folder, NAME('real'));
    writeFileSync(real, TRAIL);
    const secret = join(dir, 'credentials.json');
    writeFileSync(secret, JSON.stringify({ Records: [{ note: SECRET }] }));
    symlinkSync(real, join(folder, NAME('inner-link')));
    const outLink = join(folder, NAME('out-link'));
    symlinkSync(secret, outLink);
    // A relative link climbing out of the root, as `ln -s ../../../../..` would.
    const climbing = join(folder, NAME('climbing-link'));
    symlinkSync('../../../../../../../../credentials.json', climbing);

    const lister = new DirectoryLister(root, 0);
    const listed = (await lister.list()).map(where).sort();
    expect(listed).toEqual([join(folder, NAME('inner-link')), real].sort());
    expect(lister.outside.sort()).toEqual([climbing, outLink].sort());

    const { source, rejects, enqueued } = service('dir', { CLOUDTRAIL_SOURCE: 'files', TRAIL_DIR: root });
    await source.runOnce(Date.now() + 60_000);
    await source.runOnce(Date.now() + 60_000); // listed again: not parked again
    expect(enqueued.map(where).sort()).toEqual(listed);
    expect(await rejects.counts()).toEqual({ 'outside-root': 2 });
    const parked = await rejects.list();
    expect(parked.map((p) => p.detail).sort()).toEqual(
      [`${climbing} is a link out of TRAIL_DIR: not read`, `${outLink} is a link out of TRAIL_DIR: not read`].sort(),
    );
    expect(JSON.stringify(parked)).not.toContain('wJalrXUtnFEMI');

    // The reader checks again when it opens the file (a link can be re-pointed after listing).
    const reader = new TrailFileReader(undefined, { root });
    const parts = [];
    for await (const part of reader.slimEvents({ kind: 'dir', path: outLink }, outLink, undefined)) parts.push(part);
    expect(parts).toEqual([
      {
        groups: [],
        rejects: [{ reason: 'outside-root', detail: `${outLink} resolves outside ${root}`, origin: outLink }],
      },
    ]);
    let inner = 0;
    for await (const part of reader.slimEvents({ kind: 'dir', path: join(folder, NAME('inner-link')) }, 'x', undefined))
      inner += part.groups.reduce((sum, group) => sum + group.events.length, 0);
    expect(inner).toBe(1);
    await source.onModuleDestroy();
  });
});
