import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudTrailClientFactory } from './cloudtrail-client.factory.js';

const ROLE = 'arn:aws:iam::123456789012:role/trailsight-reader';

/** A stand-in STS that answers AssumeRole and records what it was asked. */
function fakeSts(requests: string[]): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push(decodeURIComponent(body));
      res.writeHead(200, { 'content-type': 'text/xml' })
        .end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIAASSUMED</AccessKeyId>
      <SecretAccessKey>secret</SecretAccessKey>
      <SessionToken>token</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser><AssumedRoleId>AROA:trailsight-poller</AssumedRoleId><Arn>${ROLE}/trailsight-poller</Arn></AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleResponse>`);
    });
  });
}

describe('CloudTrailClientFactory credentials for AWS accounts (local STS)', () => {
  const saved = { ...process.env };
  let sts: Server;
  const requests: string[] = [];

  beforeAll(async () => {
    sts = fakeSts(requests);
    await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve));
    // The default chain's base credentials, and STS on loopback (the SDK's per-service endpoint variable).
    process.env.AWS_ACCESS_KEY_ID = 'AKIABASE';
    process.env.AWS_SECRET_ACCESS_KEY = 'base-secret';
    process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${(sts.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    process.env = saved;
    sts.closeAllConnections();
    await new Promise((resolve) => sts.close(resolve));
  });

  const factory = new CloudTrailClientFactory({
    source: 'aws',
    simulatorPort: 4599,
    accounts: [{ accountId: '123456789012', roleArn: ROLE }, { accountId: '210987654321' }],
  });

  it('assumes the account role as trailsight-poller', async () => {
    const client = factory.create({ accountId: '123456789012', region: 'eu-west-1' });
    try {
      expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'ASIAASSUMED', sessionToken: 'token' });
      expect(requests).toHaveLength(1);
      expect(requests[0]).toContain('Action=AssumeRole');
      expect(requests[0]).toContain(`RoleArn=${ROLE}`);
      expect(requests[0]).toContain('RoleSessionName=trailsight-poller');
    } finally {
      client.destroy();
    }
  });

  it('uses the default credential chain for an account without a role', async () => {
    const client = factory.create({ accountId: '210987654321', region: 'eu-west-1' });
    try {
      expect(await client.config.credentials()).toMatchObject({ accessKeyId: 'AKIABASE' });
      expect(requests).toHaveLength(1); // no AssumeRole for this one
    } finally {
      client.destroy();
    }
  });
});
