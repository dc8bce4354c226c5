import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { InsightRecord } from '@trailsight/domain';
import type { OutboxBatch } from '@trailsight/findings';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Writes sealed batches of Insights records to S3 in CloudTrail's delivery layout, one gzipped
 * `{"Records":[...]}` object per account-region:
 * `[<prefix>/]AWSLogs/<account>/CloudTrail-Insight/<region>/YYYY/MM/DD/<account>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`.
 * Date, time and unique string derive from the batch (its sealing time and id), never from the
 * clock of the upload: a batch delivered again after a crash rewrites the same objects with the
 * same records, so each record is in the bucket once.
 */
export class S3InsightsOutput {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly prefix = '',
  ) {}

  /** The keys written (one per account-region of the batch). */
  async deliver(batch: OutboxBatch): Promise<string[]> {
    const keys: string[] = [];
    for (const [group, records] of groupByAccountRegion(batch.records)) {
      const [accountId, region] = group.split('|');
      const key = insightObjectKey(this.prefix, accountId, region, batch);
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: gzipSync(JSON.stringify({ Records: records })),
          ContentType: 'application/json',
          ContentEncoding: 'gzip',
        }),
      );
      keys.push(key);
    }
    return keys;
  }
}

/** The object key of one account-region's part of a batch (see S3InsightsOutput). */
function insightObjectKey(prefix: string, accountId: string, region: string, batch: OutboxBatch): string {
  const at = new Date(batch.sealedAt).toISOString();
  const [yyyy, mm, dd, hh, mi] = [at.slice(0, 4), at.slice(5, 7), at.slice(8, 10), at.slice(11, 13), at.slice(14, 16)];
  const unique = base62(createHash('sha256').update(`${prefix}\n${batch.id}\n${accountId}\n${region}`).digest(), 16);
  const name = `${accountId}_CloudTrail-Insight_${region}_${yyyy}${mm}${dd}T${hh}${mi}Z_${unique}.json.gz`;
  return `${prefix ? `${prefix}/` : ''}AWSLogs/${accountId}/CloudTrail-Insight/${region}/${yyyy}/${mm}/${dd}/${name}`;
}

function groupByAccountRegion(records: readonly InsightRecord[]): Map<string, InsightRecord[]> {
  const groups = new Map<string, InsightRecord[]>();
  for (const record of records) {
    const key = `${record.recipientAccountId ?? ''}|${record.awsRegion}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(record);
  }
  return groups;
}

/** `length` characters of [0-9A-Za-z], as CloudTrail's unique strings are. */
function base62(bytes: Buffer, length: number): string {
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  for (let i = 0; i < length; i++) {
    out += BASE62[Number(n % 62n)];
    n /= 62n;
  }
  return out;
}
