import { createHash } from 'node:crypto';
import { awsSigner } from '../../../../test/support/sigv4-signer.js';
import { AwsServiceError } from '@trailsight/cloudtrail';
import { parseAuthorization, verifySignature, type SignedRequest } from './sigv4.verifier.js';

const ACCESS_KEY_ID = 'TSAKABCDEFGHIJKLMNOP';
const SECRET = 'q8V0mZ3c1yH2bK7nW4xT9pR6sL5dF0gA1jE8uC2o';
const NOW = Date.UTC(2026, 11, 2, 5, 0, 0);

/** A request signed by the AWS SDK's own signer, as it arrives at the server (lowercase headers). */
async function signed(
  options: { body?: string; path?: string; query?: Record<string, string>; service?: string; at?: number } = {},
): Promise<SignedRequest> {
  const body = options.body ?? '{"EventCategory":"insight","MaxResults":5}';
  const signer = awsSigner({
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET,
    region: 'eu-west-1',
    service: options.service ?? 'cloudtrail',
  });
  const request = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 3000,
      path: options.path ?? '/aws/',
      query: options.query ?? {},
      headers: {
        host: '127.0.0.1:3000',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CloudTrail_20131101.LookupEvents',
        'x-amz-user-agent': 'aws-sdk-js/3   test  ',
      },
      body,
    },
    { signingDate: new Date(options.at ?? NOW) },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  const query = new URLSearchParams(request.query as Record<string, string>).toString();
  return { method: 'POST', url: `${request.path}${query ? `?${query}` : ''}`, headers, body: Buffer.from(body) };
}

function refusal(run: () => void): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof AwsServiceError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('not refused');
}

describe('SigV4 verification against @smithy/signature-v4', () => {
  it.each([
    ['a plain path', {}],
    ['a path without the trailing slash', { path: '/aws' }],
    ['dot segments and characters to encode', { path: '/aws/./a b/../x(1)' }],
    ['a query string, sorted and encoded', { query: { b: '2 3', a: "x*y'!" } }],
    ['an empty body', { body: '' }],
  ])('accepts what the SDK signs: %s', async (_name, options) => {
    const request = await signed(options);
    const auth = parseAuthorization(request, NOW + 60_000);
    expect(auth).toMatchObject({ accessKeyId: ACCESS_KEY_ID, region: 'eu-west-1', service: 'cloudtrail' });
    expect(() => verifySignature(request, auth, SECRET)).not.toThrow();
  });

  it('refuses a wrong secret, a tampered body, a tampered signed header and a mismatching content hash', async () => {
    const request = await signed();
    const auth = parseAuthorization(request, NOW);
    expect(refusal(() => verifySignature(request, auth, SECRET.replace('q', 'Q')))).toMatchObject({
      code: 'InvalidSignatureException',
      message: expect.stringMatching(/^The request signature we calculated does not match/),
    });
    const tampered = { ...request, body: Buffer.from('{"EventCategory":"insight","MaxResults":6}') };
    expect(refusal(() => verifySignature(tampered, auth, SECRET)).code).toBe('InvalidSignatureException');
    const retargeted = {
      ...request,
      headers: { ...request.headers, 'x-amz-target': 'CloudTrail_20131101.ListInsightsMetricData' },
    };
    expect(refusal(() => verifySignature(retargeted, auth, SECRET)).code).toBe('InvalidSignatureException');
    const hashed = {
      ...request,
      headers: { ...request.headers, 'x-amz-content-sha256': createHash('sha256').update('other').digest('hex') },
    };
    expect(refusal(() => verifySignature(hashed, auth, SECRET)).message).toMatch(/x-amz-content-sha256/);
  });

  it('refuses dates outside 15 minutes either way, with AWS wording', async () => {
    const request = await signed();
    expect(() => parseAuthorization(request, NOW + 15 * 60_000)).not.toThrow();
    expect(refusal(() => parseAuthorization(request, NOW + 15 * 60_000 + 1_000))).toEqual({
      code: 'InvalidSignatureException',
      message: 'Signature expired: 20261202T050000Z is now earlier than 20261202T050001Z (20261202T051501Z - 15 min.)',
    });
    expect(refusal(() => parseAuthorization(request, NOW - 16 * 60_000)).message).toMatch(
      /^Signature not yet current: 20261202T050000Z is still later than/,
    );
  });

  it("refuses another service's scope, unsigned host or date, a scope of another day, and malformed headers", async () => {
    const request = await signed({ service: 's3' });
    expect(refusal(() => parseAuthorization(request, NOW))).toEqual({
      code: 'InvalidSignatureException',
      message: "Credential should be scoped to correct service: 'cloudtrail'.",
    });
    const good = await signed();
    const authorization = good.headers.authorization as string;
    const withAuth = (value: string | undefined, extra: Record<string, string | undefined> = {}) => ({
      ...good,
      headers: { ...good.headers, authorization: value, ...extra },
    });
    expect(refusal(() => parseAuthorization(withAuth(undefined), NOW)).code).toBe(
      'MissingAuthenticationTokenException',
    );
    expect(refusal(() => parseAuthorization(withAuth('AWS4-HMAC-SHA1 Credential=x'), NOW)).code).toBe(
      'IncompleteSignatureException',
    );
    expect(refusal(() => parseAuthorization(withAuth(authorization.replace(/Signature=\w+/, '')), NOW)).code).toBe(
      'IncompleteSignatureException',
    );
    expect(
      refusal(() =>
        parseAuthorization(withAuth(authorization.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=x-amz-date')), NOW),
      ).message,
    ).toMatch(/'Host' or ':authority' must be a 'SignedHeader'/);
    expect(
      refusal(() =>
        parseAuthorization(withAuth(authorization.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=host')), NOW),
      ).message,
    ).toMatch(/'X-Amz-Date' must be a 'SignedHeader'/);
    expect(refusal(() => parseAuthorization(withAuth(authorization, { 'x-amz-date': undefined }), NOW)).code).toBe(
      'IncompleteSignatureException',
    );
    expect(
      refusal(() => parseAuthorization(withAuth(authorization, { 'x-amz-date': '20261203T050000Z' }), NOW)).message,
    ).toMatch(/^Date in Credential scope does not match/);
  });
});
