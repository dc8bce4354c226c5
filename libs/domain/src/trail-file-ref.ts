/** Where a trail file is: a local path, or an object in S3. */
export type TrailFileLocation = { kind: 'dir'; path: string } | { kind: 's3'; bucket: string; key: string };

/** One trail file to count: what a `files` queue job carries. */
export interface TrailFileRef {
  /**
   * Stable name of the file. A file CloudTrail named (`<account>_CloudTrail_<region>_<time>_<unique>`,
   * unique per AWS) is `cloudtrail:<that name without .json.gz>` wherever it lies (any bucket,
   * path or copy); any other file is its path, or `s3://bucket/key`.
   */
  id: string;
  location: TrailFileLocation;
  /** Version of the content: the S3 ETag, or `<mtime ms>-<size>` of a local file. */
  etag: string;
  size: number;
  /** Delivery time (epoch ms): from the file name, else the object's LastModified / mtime. */
  deliveredAt: number;
}

/** The id prefix of a file CloudTrail named. */
export const CLOUDTRAIL_FILE_ID_PREFIX = 'cloudtrail:';

/**
 * What tells two versions of one file apart, so that a changed file is read again. Nothing for a
 * file CloudTrail named: AWS never rewrites one, and a touch, rsync, re-encryption or move changes
 * its mtime or ETag, not its records. Any other file: its etag.
 */
export function trailFileVersion(file: Pick<TrailFileRef, 'id' | 'etag'>): string {
  return file.id.startsWith(CLOUDTRAIL_FILE_ID_PREFIX) ? '' : file.etag;
}
