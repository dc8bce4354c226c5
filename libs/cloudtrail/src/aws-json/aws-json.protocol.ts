import { AwsServiceError } from './aws-service.error.js';

/** The media type of CloudTrail's wire protocol, AWS JSON 1.1 (reference doc section 3.1). */
export const AWS_JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/**
 * Both X-Amz-Target prefixes in use: the JavaScript SDK sends `CloudTrail_20131101.<Op>`, botocore
 * (and so the AWS CLI and boto3) `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`.
 */
const TARGET_PREFIXES = ['CloudTrail_20131101.', 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.'];

/** The operation an X-Amz-Target names (`LookupEvents`), or undefined when it is not CloudTrail's. */
export function cloudTrailOperation(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  const prefix = TARGET_PREFIXES.find((p) => target.startsWith(p));
  const operation = prefix === undefined ? undefined : target.slice(prefix.length);
  return operation && /^[A-Za-z]+$/.test(operation) ? operation : undefined;
}

/** An error as AWS JSON 1.1 sends it: status, `x-amzn-ErrorType` header and `{__type, message}` body. */
export function awsErrorResponse(error: AwsServiceError): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  return {
    status: error.status,
    headers: { 'content-type': AWS_JSON_CONTENT_TYPE, 'x-amzn-ErrorType': error.code },
    body: JSON.stringify({ __type: error.code, message: error.message }),
  };
}

/** The request body as a JSON object; SerializationException (AWS's answer) for anything else. */
export function parseAwsJsonBody(body: Buffer | string): Record<string, unknown> {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text.trim() === '' ? '{}' : text);
  } catch {
    throw new AwsServiceError('SerializationException', 'The request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AwsServiceError('SerializationException', 'The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
