import { lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { listInsightFiles, listTrailFiles, parseTrailFileKey } from '../records/record-reader.js';
import { DAY_MS, type TrailFileRef } from '@trailsight/domain';
import { deliveryTimeOf, trailFileId } from './trail-file.js';

const TRAIL_FILE_NAME = /\.(?:json|ndjson|jsonl)(?:\.gz)?$/i;
/** CloudTrail's sibling prefix that holds no input: integrity digests. (Insights files are read as reference findings.) */
const SKIPPED_PREFIXES = /\/CloudTrail-Digest\//;

/**
 * Files of a directory in the S3 key layout (or any layout: see listTrailFiles). A symbolic link
 * to a file is followed only when its target is inside the root too: one pointing outside (say, at
 * a credentials file) is left out and its path noted in `outside`, never read.
 */
export class DirectoryLister {
  /** Links of the last listing whose target is outside the root. */
  outside: string[] = [];

  /**
   * @param settleMs a file modified more recently than this is left for the next listing: it may
   *   still be being written (copied in, synced down).
   */
  constructor(
    readonly root: string,
    private readonly settleMs = 2_000,
  ) {}

  async list(now = Date.now()): Promise<TrailFileRef[]> {
    const files: TrailFileRef[] = [];
    this.outside = [];
    for await (const path of both(listTrailFiles(this.root), listInsightFiles(this.root))) {
      let info;
      try {
        info = await lstat(path);
        if (info.isSymbolicLink()) {
          if (!(await isInside(this.root, path))) {
            this.outside.push(path);
            continue;
          }
          info = await stat(path);
        }
      } catch {
        continue; // removed since it was listed
      }
      if (now - info.mtimeMs < this.settleMs) continue;
      const location = { kind: 'dir' as const, path };
      files.push({
        id: trailFileId(location),
        location,
        etag: `${Math.trunc(info.mtimeMs)}-${info.size}`,
        size: info.size,
        deliveredAt: deliveryTimeOf(path, info.mtimeMs),
      });
    }
    return files;
  }
}

/**
 * Trail files of a bucket: `[<prefix>/]AWSLogs/[<o-orgid>/]<account>/CloudTrail/<region>/YYYY/MM/DD/`,
 * account and region prefixes discovered by delimiter listings, each region read from a start date.
 */
export class S3Lister {
  private regionPrefixes?: string[];

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly prefix = '',
  ) {}

  /** Every `.../CloudTrail/<region>/` prefix of the bucket (found once, refreshed on `refresh`). */
  async prefixes(refresh = false): Promise<string[]> {
    if (this.regionPrefixes && !refresh) return this.regionPrefixes;
    const root = this.root();
    const found: string[] = [];
    for (const first of await this.children(root)) {
      // AWSLogs/<account>/ or, for organization trails, AWSLogs/<o-orgid>/<account>/
      const accounts = /\/o-[a-z0-9]+\/$/.test(first) ? await this.children(first) : [first];
      for (const account of accounts) {
        for (const region of await this.children(`${account}CloudTrail/`)) found.push(region);
        // AWS's own Insights files, read as reference findings.
        for (const region of await this.children(`${account}CloudTrail-Insight/`)) found.push(region);
      }
    }
    this.regionPrefixes = found.sort();
    return this.regionPrefixes;
  }

  /** Files of every region prefix delivered on `fromMs`'s day or later, in key (= time) order. */
  async listSince(fromMs: number): Promise<TrailFileRef[]> {
    const day = new Date(Math.floor(fromMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '/');
    const files: TrailFileRef[] = [];
    const regionPrefixes = await this.prefixes(true);
    // Some S3-compatible servers (s3rver) answer nested delimiter listings with nothing: then
    // the whole AWSLogs/ prefix is listed flat, and keys before the first day are left out.
    const flat = regionPrefixes.length === 0;
    const firstDay = day.replace(/\//g, '');
    for (const regionPrefix of flat ? [this.root()] : regionPrefixes) {
      // Paged by StartAfter = the last key seen (valid on S3, and on servers whose continuation
      // tokens are unreliable); keys sort by date folder, so the first page starts at the first day.
      let after: string | undefined = flat ? undefined : `${regionPrefix}${day}`;
      for (;;) {
        const page = await this.s3.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: regionPrefix, StartAfter: after }),
        );
        const contents = page.Contents ?? [];
        for (const object of contents) {
          if (!object.Key || !isTrailFileKey(object.Key)) continue;
          if (flat && (parseTrailFileKey(object.Key)?.date.replace(/-/g, '') ?? firstDay) < firstDay) continue;
          files.push(
            this.ref(object.Key, object.ETag ?? '', object.Size ?? 0, object.LastModified?.getTime() ?? Date.now()),
          );
        }
        const last = contents[contents.length - 1]?.Key;
        if (!page.IsTruncated || !last) break;
        after = last;
      }
    }
    return files;
  }

  /** One object, when a notification named it without etag or size. */
  async head(key: string): Promise<TrailFileRef> {
    const reply = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    return this.ref(key, reply.ETag ?? '', reply.ContentLength ?? 0, reply.LastModified?.getTime() ?? Date.now());
  }

  ref(key: string, etag: string, size: number, lastModifiedMs: number): TrailFileRef {
    const location = { kind: 's3' as const, bucket: this.bucket, key };
    return {
      id: trailFileId(location),
      location,
      etag: etag.replace(/"/g, ''),
      size,
      deliveredAt: deliveryTimeOf(key, lastModifiedMs),
    };
  }

  private root(): string {
    return `${this.prefix ? `${this.prefix}/` : ''}AWSLogs/`;
  }

  private async children(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
      for (const common of page.CommonPrefixes ?? []) if (common.Prefix) out.push(common.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }
}

async function* both(first: AsyncIterable<string>, second: AsyncIterable<string>): AsyncIterable<string> {
  yield* first;
  yield* second;
}

/**
 * Whether `path`, symbolic links resolved, is `root` or under it (root's own links resolved too).
 * A path that does not exist counts as inside: whoever opens it reports it missing.
 */
export async function isInside(root: string, path: string): Promise<boolean> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    return true;
  }
  const rel = relative(await realpath(root), real);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Whether an object key names a trail file to read (not a digest): events, or AWS's Insights records. */
export function isTrailFileKey(key: string): boolean {
  return TRAIL_FILE_NAME.test(key) && !SKIPPED_PREFIXES.test(`/${key}`);
}
