import { CLOUDTRAIL_FILE_ID_PREFIX, type TrailFileLocation } from '@trailsight/domain';
import { parseTrailFileKey } from '../records/record-reader.js';

/**
 * A file name as CloudTrail writes it (reference 4.2): `<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<unique>`
 * then `.json.gz` (or `.json`, a copy gunzipped by hand). Lenient about the `_` before the unique
 * string, as one AWS example leaves it out.
 */
const CLOUDTRAIL_FILE_NAME = /^(\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_?[A-Za-z0-9]+)\.json(?:\.gz)?$/;

/**
 * The file's id (TrailFileRef.id): `cloudtrail:<name>` for a file CloudTrail named, wherever it
 * lies, so a moved, copied or re-synced file is the same file; else its location's id.
 */
export function trailFileId(location: TrailFileLocation): string {
  const path = location.kind === 's3' ? location.key : location.path;
  const name = CLOUDTRAIL_FILE_NAME.exec(path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1));
  return name ? `${CLOUDTRAIL_FILE_ID_PREFIX}${name[1]}` : locationId(location);
}

/** `s3://bucket/key`, or the path: the id of a file not named by CloudTrail, and of every file before names were ids. */
export function locationId(location: TrailFileLocation): string {
  return location.kind === 's3' ? `s3://${location.bucket}/${location.key}` : location.path;
}

/** The delivery time of a file: the name's timestamp when it has one (reference 4.2), else `fallbackMs`. */
export function deliveryTimeOf(keyOrPath: string, fallbackMs: number): number {
  const deliveredAt = parseTrailFileKey(keyOrPath)?.deliveredAt;
  return deliveredAt ? Date.parse(deliveredAt) : fallbackMs;
}
