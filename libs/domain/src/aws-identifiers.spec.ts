import {
  accountIdProblem,
  apiNameProblem,
  isAccountId,
  isApiName,
  isRegion,
  MAX_API_NAME_LENGTH,
  regionProblem,
} from './aws-identifiers.js';

describe('aws identifiers', () => {
  // First in this file on purpose: a fresh module, as in a process that has checked nothing yet.
  it('refuses an empty or malformed region and account even before any valid one was seen', () => {
    expect(isRegion('')).toBe(false);
    expect(regionProblem('', 'source.region')).toMatch(/^source.region must look like an AWS region/);
    expect(isAccountId('')).toBe(false);
    expect(isRegion('us-east-1')).toBe(true);
    expect(isRegion('')).toBe(false);
  });

  it('takes 12-digit account ids only', () => {
    expect(isAccountId('123456789012')).toBe(true);
    for (const bad of ['unknown', '12345678901', '1234567890123', '12345678901a', '{123456789012}', '', 123456789012]) {
      expect(isAccountId(bad)).toBe(false);
    }
    expect(accountIdProblem('unknown', 'source.accountId')).toBe('source.accountId must be a 12-digit AWS account id');
    expect(accountIdProblem('123456789012')).toBeUndefined();
  });

  it('takes region-shaped names, anonymised ones too, and nothing that breaks a hash tag', () => {
    for (const good of ['us-east-1', 'us-gov-west-1', 'ap-southeast-5', 'eu-isoe-west-1', 'sagov-westsouth-1r']) {
      expect(isRegion(good)).toBe(true);
    }
    for (const bad of ['moon', '', 'US-EAST-1', 'us east 1', '{us-east-1}', 'us:east-1', 'us-east-1|x', 'us-', 42]) {
      expect(isRegion(bad)).toBe(false);
    }
    expect(isRegion(`us-${'a'.repeat(70)}-1`)).toBe(false);
    expect(regionProblem('moon', 'awsRegion')).toMatch(/^awsRegion must look like an AWS region/);
  });

  it('refuses the counter-field separators inside eventSource and eventName', () => {
    expect(isApiName('ec2.amazonaws.com')).toBe(true);
    expect(isApiName('RunInstances')).toBe(true);
    expect(isApiName('x'.repeat(MAX_API_NAME_LENGTH))).toBe(true);
    for (const bad of ['Run|Instances', 'Put\nObject', 'Put\rObject', 'a\u0000', '', 'x'.repeat(257), undefined]) {
      expect(isApiName(bad)).toBe(false);
    }
    expect(apiNameProblem('c|forged', 'eventName')).toBe(
      "eventName must be 1-256 characters without '|' or control characters",
    );
  });
});
