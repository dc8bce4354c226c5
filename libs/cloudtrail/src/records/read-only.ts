/**
 * `readOnly` for records that lack it (most eventVersion 1.01-1.04 records, e.g. the grycap
 * dataset), inferred from the event name alone.
 *
 * The rule: a name is a read when it starts with one of READ_PREFIXES as a whole word
 * (`GetObject`, `ListBuckets`, `DescribeInstances`, `HeadBucket`, `LookupEvents`, `BatchGetItem`,
 * `Query`, `Scan`, but not `Getaway`), or is one of READ_NAMES. Anything else is a write: that is
 * what AWS logs for mutating calls, sign-ins (`ConsoleLogin` is `readOnly: false`) and
 * job-starting calls such as `GenerateCredentialReport` or `ExportSnapshot`.
 *
 * Checked against the records that do carry `readOnly` (read-only.spec.ts): see the figure and
 * the accepted mismatches there.
 */

/** Verbs AWS uses only for calls that change nothing. */
const READ_PREFIXES = [
  'Get',
  'List',
  'Describe',
  'Head',
  'Lookup',
  'Search',
  'Query',
  'Scan',
  'Select', // S3 SelectObjectContent, Config SelectResourceConfig
  'BatchGet',
  'BatchDescribe',
  'Check', // CheckDNSAvailability, CheckDomainAvailability (CheckMfa is the exception below)
  'Estimate', // EstimateTemplateCost
  'Validate', // ValidateTemplate, ValidateConfigurationSettings
  'Simulate', // IAM SimulatePrincipalPolicy
  'Download', // RDS DownloadDBLogFilePortion
  'GenerateDataKey', // KMS GenerateDataKey, ...WithoutPlaintext, ...Pair: cryptographic reads
];

/**
 * Names without a read verb that AWS nonetheless logs as `readOnly: true`: KMS cryptographic
 * operations, STS role assumption, Bedrock model invocation.
 */
const READ_NAMES = new Set([
  'Decrypt',
  'Encrypt',
  'ReEncrypt',
  'GenerateRandom',
  'GenerateMac',
  'VerifyMac',
  'Sign',
  'Verify',
  'DeriveSharedSecret',
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'InvokeModel',
  'InvokeModelWithResponseStream',
]);

/** Names with a read verb that AWS logs as `readOnly: false`. */
const WRITE_NAMES = new Set([
  'GetFederationToken', // issues credentials for a new federated session
  'CheckMfa', // a step of console sign-in, which AWS logs as a write like ConsoleLogin
]);

// A prefix counts only as a whole word: the next character must not be a lower-case letter.
const READ_PATTERN = new RegExp(`^(?:${READ_PREFIXES.join('|')})(?![a-z])`);

export function inferReadOnly(eventName: string): boolean {
  // A few services log camelCase names (`listConversations`): compare in PascalCase.
  const name = eventName.charAt(0).toUpperCase() + eventName.slice(1);
  if (WRITE_NAMES.has(name)) return false;
  return READ_NAMES.has(name) || READ_PATTERN.test(name);
}
