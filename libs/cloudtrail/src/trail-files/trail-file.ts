import { parseTrailFileKey } from '../records/record-reader.js';

/** Where a trail file is: a local path, or an object in S3. */
export type TrailFileLocation = { kind: 'dir'; path: string } | { kind: 's3'; bucket: string; key: string };

/** One trail file to count: what a `files` queue job carries. */
export interface TrailFileRef {
  /** Stable name of the file: its path, or `s3://bucket/key`. */
  id: string;
  location: TrailFileLocation;
  /** Version of the content: the S3 ETag, or `<mtime ms>-<size>` of a local file. */
  etag: string;
  size: number;
  /** Delivery time (epoch ms): from the file name, else the object's LastModified / mtime. */
  deliveredAt: number;
}

/** `s3://bucket/key`, or the path. */
export function trailFileId(location: TrailFileLocation): string {
  return location.kind === 's3' ? `s3://${location.bucket}/${location.key}` : location.path;
}

/** The delivery time of a file: the name's timestamp when it has one (reference 4.2), else `fallbackMs`. */
export function deliveryTimeOf(keyOrPath: string, fallbackMs: number): number {
  const deliveredAt = parseTrailFileKey(keyOrPath)?.deliveredAt;
  return deliveredAt ? Date.parse(deliveredAt) : fallbackMs;
}
