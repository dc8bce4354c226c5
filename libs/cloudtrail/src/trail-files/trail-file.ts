import type { TrailFileLocation } from '@trailsight/domain';
import { parseTrailFileKey } from '../records/record-reader.js';

/** `s3://bucket/key`, or the path. */
export function trailFileId(location: TrailFileLocation): string {
  return location.kind === 's3' ? `s3://${location.bucket}/${location.key}` : location.path;
}

/** The delivery time of a file: the name's timestamp when it has one (reference 4.2), else `fallbackMs`. */
export function deliveryTimeOf(keyOrPath: string, fallbackMs: number): number {
  const deliveredAt = parseTrailFileKey(keyOrPath)?.deliveredAt;
  return deliveredAt ? Date.parse(deliveredAt) : fallbackMs;
}
