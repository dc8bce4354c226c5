import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AwsServiceError } from '@trailsight/cloudtrail';

/**
 * AWS Signature Version 4 (header form), server side, written from AWS's "Create a signed AWS API
 * request" and checked against @smithy/signature-v4 in the spec beside this file.
 */

/** The service name every credential scope must name: CloudTrail's signing name. */
const SIGNING_SERVICE = 'cloudtrail';
/** AWS accepts a request whose X-Amz-Date is at most this far from its clock, either way. */
const CLOCK_WINDOW_MS = 15 * 60_000;
const ALGORITHM = 'AWS4-HMAC-SHA256';
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** A request as received: what the signature covers. */
export interface SignedRequest {
  method: string;
  /** The URL as sent (path and query), e.g. `/aws/` or `/aws?x=1`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header. */
export interface SigV4Authorization {
  accessKeyId: string;
  /** YYYYMMDD of the credential scope. */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Date, epoch ms. */
  signedAtMs: number;
  amzDate: string;
}

function incomplete(message: string): AwsServiceError {
  return new AwsServiceError('IncompleteSignatureException', message);
}

function invalid(message: string): AwsServiceError {
  return new AwsServiceError('InvalidSignatureException', message);
}

/**
 * Reads and checks the Authorization header and X-Amz-Date, before any key lookup: a request that
 * cannot be a valid CloudTrail request costs no Redis round trip. Throws AwsServiceError with
 * the code AWS's JSON services use (MissingAuthenticationTokenException,
 * IncompleteSignatureException, InvalidSignatureException for a wrong scope or an expired date).
 */
export function parseAuthorization(request: SignedRequest, nowMs: number): SigV4Authorization {
  const header = single(request.headers.authorization);
  if (header === undefined || header.trim() === '') {
    throw new AwsServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'. The only supported one is ${ALGORITHM}.`);
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !fields.get(name));
  if (missing.length > 0) {
    throw incomplete(
      `Authorization header requires ${missing.map((m) => `'${m}'`).join(', ')} parameter(s). Authorization=${algorithm} ...`,
    );
  }
  const scope = fields.get('Credential')!.split('/');
  if (scope.length !== 5 || scope.some((part) => part === '') || scope[4] !== 'aws4_request') {
    throw incomplete(
      "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" +
        fields.get('Credential')! +
        "'",
    );
  }
  const [accessKeyId, date, region, service] = scope;
  if (service !== SIGNING_SERVICE) {
    throw invalid(`Credential should be scoped to correct service: '${SIGNING_SERVICE}'.`);
  }
  const signedHeaders = fields.get('SignedHeaders')!.split(';');
  if (!signedHeaders.includes('host')) {
    throw invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const amzDate = single(request.headers['x-amz-date']);
  if (amzDate === undefined) {
    throw incomplete("Authorization header requires existence of a 'X-Amz-Date' header.");
  }
  if (!signedHeaders.includes('x-amz-date')) {
    throw invalid("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const parts = AMZ_DATE.exec(amzDate);
  const signedAtMs = parts
    ? Date.UTC(+parts[1], +parts[2] - 1, +parts[3], +parts[4], +parts[5], +parts[6])
    : Number.NaN;
  if (!parts || Number.isNaN(signedAtMs)) {
    throw incomplete(`X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z', got '${amzDate}'.`);
  }
  if (date !== amzDate.slice(0, 8)) {
    throw invalid(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  // AWS's own wording for a replayed or badly clocked request (InvalidSignatureException on JSON services).
  if (signedAtMs < nowMs - CLOCK_WINDOW_MS) {
    throw invalid(
      `Signature expired: ${amzDate} is now earlier than ${basicDate(nowMs - CLOCK_WINDOW_MS)} (${basicDate(nowMs)} - 15 min.)`,
    );
  }
  if (signedAtMs > nowMs + CLOCK_WINDOW_MS) {
    throw invalid(
      `Signature not yet current: ${amzDate} is still later than ${basicDate(nowMs + CLOCK_WINDOW_MS)} (${basicDate(nowMs)} + 15 min.)`,
    );
  }
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders,
    signature: fields.get('Signature')!,
    signedAtMs,
    amzDate,
  };
}

/**
 * Checks the signature with the key's secret: throws InvalidSignatureException (AWS's message)
 * for any difference, a body altered in transit included, and for an X-Amz-Content-Sha256
 * that is not the body's hash.
 */
export function verifySignature(request: SignedRequest, auth: SigV4Authorization, secretAccessKey: string): void {
  const payloadHash = createHash('sha256').update(request.body).digest('hex');
  const declared = single(request.headers['x-amz-content-sha256']);
  if (declared !== undefined && declared !== payloadHash) {
    throw invalid("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const expected = Buffer.from(signatureOf(request, auth, secretAccessKey, payloadHash), 'utf8');
  const presented = Buffer.from(auth.signature, 'utf8');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw invalid(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
}

/** The hex signature a request should carry. */
function signatureOf(
  request: SignedRequest,
  auth: Pick<SigV4Authorization, 'date' | 'region' | 'service' | 'signedHeaders' | 'amzDate'>,
  secretAccessKey: string,
  payloadHash = createHash('sha256').update(request.body).digest('hex'),
): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [
    ALGORITHM,
    auth.amzDate,
    scope,
    createHash('sha256')
      .update(canonicalRequest(request, auth.signedHeaders, payloadHash))
      .digest('hex'),
  ].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, auth.date);
  key = hmac(key, auth.region);
  key = hmac(key, auth.service);
  key = hmac(key, 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** The canonical request of SigV4: method, path, query, signed headers, payload hash. */
function canonicalRequest(request: SignedRequest, signedHeaders: readonly string[], payloadHash: string): string {
  const q = request.url.indexOf('?');
  const path = q < 0 ? request.url : request.url.slice(0, q);
  const query = q < 0 ? '' : request.url.slice(q + 1);
  const headers = signedHeaders.map((name) => `${name}:${headerValue(request.headers[name])}\n`).join('');
  return [
    request.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    headers,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** The path with `.` and `..` segments resolved and each segment URI-encoded (non-S3 services). */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      return [escapeUri(decode(key)), escapeUri(decode(value))] as const;
    })
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

/** RFC 3986 encoding, as SigV4 wants: everything but unreserved characters. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
}

/** Values trimmed, inner runs of spaces collapsed, repeated headers joined with commas. */
function headerValue(value: string | string[] | undefined): string {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Epoch ms as X-Amz-Date writes it: 20260304T101500Z. */
function basicDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
