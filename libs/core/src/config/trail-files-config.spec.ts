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

describe('trail file sources configuration', () => {
  it('reads the S3 and SQS settings', () => {
    expect(
      loadConfig({
        CLOUDTRAIL_SOURCE: 'sqs',
        S3_BUCKET: 'my-trail-bucket',
        S3_PREFIX: '/org-trail/',
        S3_ENDPOINT: 'http://127.0.0.1:4569',
        S3_REGION: 'eu-west-1',
        SQS_QUEUE_URL: 'http://127.0.0.1:4576/123456789012/trail-files',
        SQS_ENDPOINT: 'http://127.0.0.1:4576',
        FILE_WORKERS: '4',
        TRAIL_FILE_LATENESS_MINUTES: '30',
        TRAIL_FILE_MAX_ATTEMPTS: '3',
      }),
    ).toMatchObject({
      source: 'sqs',
      s3Bucket: 'my-trail-bucket',
      s3Prefix: 'org-trail',
      s3Endpoint: 'http://127.0.0.1:4569',
      s3Region: 'eu-west-1',
      sqsQueueUrl: 'http://127.0.0.1:4576/123456789012/trail-files',
      sqsEndpoint: 'http://127.0.0.1:4576',
      fileWorkers: 4,
      trailFileLatenessMinutes: 30,
      trailFileMaxAttempts: 3,
    });
    expect(loadConfig({})).toMatchObject({
      s3Prefix: '',
      s3Region: 'us-east-1',
      fileWorkers: 2,
      trailFileLatenessMinutes: 15,
      trailFileMaxAttempts: 12,
    });
  });

  it('names what a file source is missing or got wrong', () => {
    expect(problemsOf({ CLOUDTRAIL_SOURCE: 's3' })).toEqual(['S3_BUCKET is required when CLOUDTRAIL_SOURCE=s3']);
    expect(problemsOf({ CLOUDTRAIL_SOURCE: 'sqs' })).toEqual([
      'SQS_QUEUE_URL is required when CLOUDTRAIL_SOURCE=sqs',
      'S3_BUCKET or SQS_ALLOWED_BUCKETS is required when CLOUDTRAIL_SOURCE=sqs',
    ]);
    expect(problemsOf({ S3_BUCKET: 'Bad_Bucket' })[0]).toMatch(/^S3_BUCKET must be an S3 bucket name/);
    expect(problemsOf({ S3_ENDPOINT: 'localhost:9000' })[0]).toMatch(/^S3_ENDPOINT must be a URL/);
    expect(problemsOf({ FILE_WORKERS: '0' })[0]).toMatch(/^FILE_WORKERS /);
    expect(problemsOf({ TRAIL_FILE_MAX_ATTEMPTS: '0' })[0]).toMatch(/^TRAIL_FILE_MAX_ATTEMPTS /);
  });

  it('sqs reads only allowed buckets: S3_BUCKET, or SQS_ALLOWED_BUCKETS entries "bucket" or "bucket/prefix"', () => {
    const base = { CLOUDTRAIL_SOURCE: 'sqs', SQS_QUEUE_URL: 'http://127.0.0.1:4576/1/q' };
    expect(loadConfig({ ...base, SQS_ALLOWED_BUCKETS: 'trail-a, trail-b/org/trail/' }).sqsAllowedBuckets).toEqual([
      { bucket: 'trail-a', prefix: '' },
      { bucket: 'trail-b', prefix: 'org/trail' },
    ]);
    expect(loadConfig({ ...base, S3_BUCKET: 'trail-a' }).sqsAllowedBuckets).toEqual([]);
    expect(problemsOf({ ...base, SQS_ALLOWED_BUCKETS: 'Not_A_Bucket/x' })).toEqual([
      'SQS_ALLOWED_BUCKETS entries must be "bucket" or "bucket/prefix", got "Not_A_Bucket/x"',
    ]);
  });

  it('TRAIL_FILE_MAX_BYTES bounds the decompressed size of a trail file: 128 MiB by default, 1 MiB to 8 GiB', () => {
    expect(loadConfig({}).trailFileMaxBytes).toBe(128 * 1024 * 1024);
    expect(loadConfig({ TRAIL_FILE_MAX_BYTES: '1048576' }).trailFileMaxBytes).toBe(1024 * 1024);
    expect(problemsOf({ TRAIL_FILE_MAX_BYTES: '1000' })[0]).toMatch(/^TRAIL_FILE_MAX_BYTES must be a number from/);
    expect(problemsOf({ TRAIL_FILE_MAX_BYTES: '2097152.5' })[0]).toMatch(
      /^TRAIL_FILE_MAX_BYTES must be a whole number/,
    );
  });
});
