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
