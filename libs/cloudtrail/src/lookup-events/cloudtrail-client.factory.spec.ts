import { CloudTrailClientFactory } from './cloudtrail-client.factory.js';

const source = { accountId: '123456789012', region: 'eu-central-1' };

describe('CloudTrailClientFactory', () => {
  it('points the simulator source at SIMULATOR_PORT with the account in the access key, SDK retries off', async () => {
    const client = new CloudTrailClientFactory({ source: 'simulator', simulatorPort: 4599, accounts: [] }).create(
      source,
    );
    try {
      expect(await client.config.credentials()).toMatchObject({
        accessKeyId: 'AKIDSIM123456789012',
        secretAccessKey: 'simulated',
      });
      expect(await client.config.region()).toBe('eu-central-1');
      expect(await client.config.maxAttempts()).toBe(1);
      const endpoint = client.config.endpointProvider({ Region: 'eu-central-1', Endpoint: 'http://127.0.0.1:4599' });
      expect(endpoint.url.href).toBe('http://127.0.0.1:4599/');
    } finally {
      client.destroy();
    }
  });

  it('uses CLOUDTRAIL_ENDPOINT when set, and AWS itself otherwise', () => {
    const base = { simulatorPort: 4599, accounts: [] };
    expect(
      new CloudTrailClientFactory({ ...base, source: 'simulator', cloudTrailEndpoint: 'http://sim:9' }).endpoint(),
    ).toBe('http://sim:9');
    expect(new CloudTrailClientFactory({ ...base, source: 'simulator' }).endpoint()).toBe('http://127.0.0.1:4599');
    expect(new CloudTrailClientFactory({ ...base, source: 'aws' }).endpoint()).toBeUndefined();
  });

  it('refuses the files source, which has no LookupEvents client', () => {
    expect(() =>
      new CloudTrailClientFactory({ source: 'files', simulatorPort: 4599, accounts: [] }).create(source),
    ).toThrow(/trail files/);
  });
});
