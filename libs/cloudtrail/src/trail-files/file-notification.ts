/** One object a notification names; etag and size when the notification carries them. */
interface NotifiedObject {
  bucket: string;
  key: string;
  etag?: string;
  size?: number;
}

export type ParsedNotification =
  | { kind: 'objects'; objects: NotifiedObject[] }
  /** S3's `s3:TestEvent` sent when a notification is configured: nothing to read. */
  | { kind: 'test' }
  | { kind: 'invalid'; detail: string };

/**
 * The objects named by one SQS message body, in any of the forms that reach a queue
 * (reference doc 4.4):
 * - CloudTrail's notification through SNS: the SNS envelope `{"Type":"Notification","Message":"..."}`
 *   whose Message is `{"s3Bucket":"...","s3ObjectKey":["...", ...]}`;
 * - the same without the envelope (SNS raw message delivery);
 * - an S3 event notification `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name"},"object":{"key","size","eTag"}}}]}`,
 *   directly or inside an SNS envelope (S3 -> SNS -> SQS). S3 keys arrive URL-encoded ('+' for space).
 */
export function parseFileNotification(body: string): ParsedNotification {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { kind: 'invalid', detail: 'the message body is not JSON' };
  }
  if (isObject(value) && value.Type === 'Notification' && typeof value.Message === 'string') {
    const inner = parseFileNotification(value.Message);
    return inner.kind === 'invalid' ? { kind: 'invalid', detail: `SNS Message: ${inner.detail}` } : inner;
  }
  if (!isObject(value)) return { kind: 'invalid', detail: 'the message body is not a JSON object' };
  if (value.Event === 's3:TestEvent') return { kind: 'test' };
  if (typeof value.s3Bucket === 'string' && Array.isArray(value.s3ObjectKey)) {
    const bucket = value.s3Bucket;
    const keys = value.s3ObjectKey.filter((key): key is string => typeof key === 'string' && key !== '');
    if (keys.length !== value.s3ObjectKey.length) return { kind: 'invalid', detail: 's3ObjectKey holds a non-string' };
    return { kind: 'objects', objects: keys.map((key) => ({ bucket, key })) };
  }
  if (Array.isArray(value.Records)) {
    const objects: NotifiedObject[] = [];
    for (const record of value.Records as unknown[]) {
      if (!isObject(record) || record.eventSource !== 'aws:s3') continue;
      if (typeof record.eventName === 'string' && !record.eventName.startsWith('ObjectCreated')) continue;
      const s3 = isObject(record.s3) ? record.s3 : {};
      const bucket = isObject(s3.bucket) ? s3.bucket.name : undefined;
      const object = isObject(s3.object) ? s3.object : {};
      if (typeof bucket !== 'string' || typeof object.key !== 'string') {
        return { kind: 'invalid', detail: 'an S3 event record without s3.bucket.name or s3.object.key' };
      }
      objects.push({
        bucket,
        key: decodeURIComponent(object.key.replace(/\+/g, ' ')),
        ...(typeof object.eTag === 'string' ? { etag: object.eTag } : {}),
        ...(typeof object.size === 'number' ? { size: object.size } : {}),
      });
    }
    return { kind: 'objects', objects };
  }
  return { kind: 'invalid', detail: 'neither a CloudTrail notification (s3Bucket, s3ObjectKey) nor an S3 event' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
