import type { UserIdentity } from '@trailsight/domain';
import { Rng, hashString } from './random.js';

/** Who makes calls in the simulated account, and from where. */
export interface SimIdentity {
  /** Shared by every event of this identity: frozen, never mutate. */
  userIdentity: Readonly<UserIdentity>;
  /** For AccessDenied messages; AWS services and IdentityCenterUsers have no arn. */
  arn?: string;
  sourceIPAddress: string;
  userAgents: readonly string[];
  /** Calls made by AWS services on the caller's behalf carry no tlsDetails. */
  viaService: boolean;
  /** Console sessions mark their events with sessionCredentialFromConsole. */
  console: boolean;
}

const USER_AGENTS = {
  cli: 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-aws md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 prompt/off',
  cliMac:
    'aws-cli/2.17.5 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source',
  js: 'aws-sdk-js/3.621.0 ua/2.0 os/linux#5.10.220-209.869.amzn2.x86_64 lang/js md/nodejs#20.15.1 exec-env/AWS_Lambda_nodejs20.x',
  jsCi: 'aws-sdk-js/3.596.0 ua/2.0 os/linux#6.5.0-1022-azure lang/js md/nodejs#20.13.1',
  boto3:
    'Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144',
  console: 'console.amazonaws.com',
  terraform:
    'APN/1.0 HashiCorp/1.0 Terraform/1.9.2 (+https://www.terraform.io) terraform-provider-aws/5.58.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.3 ua/2.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64',
  go: 'aws-sdk-go-v2/1.30.3 ua/2.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64',
  java: 'aws-sdk-java/2.26.20 Linux/5.10.220 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy',
  internal: 'AWS Internal',
} as const;

type Agent = keyof typeof USER_AGENTS;

const USERS: Array<[name: string, agents: Agent[]]> = [
  ['alice', ['cliMac', 'boto3']],
  ['bob', ['cli']],
  ['carol.ops', ['cliMac', 'console']],
  ['dave', ['cli', 'terraform']],
  ['terraform', ['terraform']],
  ['ci-deploy', ['jsCi', 'cli']],
  ['backup-agent', ['java']],
  ['grafana-cloudwatch', ['go']],
  ['legacy-app', ['boto3']],
];

/** [role, session, agents, path, invokedBy]: invokedBy marks service-linked roles used by AWS itself. */
const ROLES: Array<[role: string, session: string, agents: Agent[], path?: string, invokedBy?: string]> = [
  [
    'AWSReservedSSO_AdministratorAccess_3f2a1b0c9d8e7f6a',
    'alice@example.com',
    ['console', 'cliMac'],
    'aws-reserved/sso.amazonaws.com/',
  ],
  ['AWSReservedSSO_ReadOnlyAccess_8e7d6c5b4a392817', 'bob@example.com', ['console'], 'aws-reserved/sso.amazonaws.com/'],
  [
    'AWSReservedSSO_PowerUserAccess_0c1d2e3f4a5b6c7d',
    'dave@example.com',
    ['cli', 'console'],
    'aws-reserved/sso.amazonaws.com/',
  ],
  ['GitHubActionsDeploy', 'GitHubActions', ['jsCi', 'terraform']],
  ['eks-node-role', 'i-0a12b34c56d78e901', ['go']],
  ['KarpenterControllerRole', '1718203040123456789', ['go']],
  ['lambda-exec-orders', 'orders-api', ['js']],
  ['ecsTaskExecutionRole', '7c3f9a1b2d4e4f0a9b8c', ['go']],
  ['data-pipeline', 'airflow-worker-3', ['boto3']],
  ['OrganizationAccountAccessRole', 'admin-session', ['cli']],
  ['DatadogIntegrationRole', 'DatadogAWSIntegration', ['go']],
  [
    'AWSServiceRoleForConfig',
    'AWSConfig-Describe',
    [],
    'aws-service-role/config.amazonaws.com/',
    'config.amazonaws.com',
  ],
  [
    'AWSServiceRoleForAutoScaling',
    'AutoScaling',
    [],
    'aws-service-role/autoscaling.amazonaws.com/',
    'autoscaling.amazonaws.com',
  ],
  [
    'AWSServiceRoleForTrustedAdvisor',
    'TrustedAdvisor_3f2a1b0c',
    ['internal'],
    'aws-service-role/trustedadvisor.amazonaws.com/',
  ],
];

const SERVICES = [
  'ec2.amazonaws.com',
  'lambda.amazonaws.com',
  'cloudformation.amazonaws.com',
  'elasticloadbalancing.amazonaws.com',
  'ecs.amazonaws.com',
  'backup.amazonaws.com',
];

const IDENTITY_CENTER_USERS = 3;

/**
 * The identities of one account, deterministic in (seed, account): IAM users, assumed-role
 * sessions, AWS services, a few IdentityCenterUsers (no arn) and the root user. The root user
 * is last; callers give it a tiny share of the calls.
 */
export function identityPool(accountId: string, seed: number): SimIdentity[] {
  const rng = new Rng(hashString(`identities/${accountId}`, seed));
  const ip = () => rng.pick(['198.51.100', '203.0.113', '192.0.2']) + `.${1 + rng.int(254)}`;
  const pool: SimIdentity[] = [];

  for (const [name, agents] of USERS) {
    const arn = `arn:aws:iam::${accountId}:user/${name}`;
    pool.push({
      userIdentity: freeze({
        type: 'IAMUser',
        principalId: `AIDA${rng.token(17)}`,
        arn,
        accountId,
        accessKeyId: `AKIA${rng.token(16)}`,
        userName: name,
      }),
      arn,
      sourceIPAddress: ip(),
      userAgents: agents.map((agent) => USER_AGENTS[agent]),
      viaService: false,
      console: agents[0] === 'console',
    });
  }

  for (const [role, session, agents, path = '', invokedBy] of ROLES) {
    const roleId = `AROA${rng.token(17)}`;
    const arn = `arn:aws:sts::${accountId}:assumed-role/${role}/${session}`;
    const isConsole = agents[0] === 'console';
    pool.push({
      userIdentity: freeze({
        type: 'AssumedRole',
        principalId: `${roleId}:${session}`,
        arn,
        accountId,
        accessKeyId: `ASIA${rng.token(16)}`,
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: roleId,
            arn: `arn:aws:iam::${accountId}:role/${path}${role}`,
            accountId,
            userName: role,
          },
          attributes: { mfaAuthenticated: 'false' },
        },
        ...(invokedBy ? { invokedBy } : {}),
      }),
      arn,
      sourceIPAddress: invokedBy ?? (agents[0] === 'internal' ? USER_AGENTS.internal : ip()),
      userAgents: invokedBy ? [invokedBy] : agents.map((agent) => USER_AGENTS[agent]),
      viaService: invokedBy !== undefined || agents[0] === 'internal',
      console: isConsole,
    });
  }

  for (const service of SERVICES) {
    pool.push({
      userIdentity: freeze({ type: 'AWSService', invokedBy: service }),
      sourceIPAddress: service,
      userAgents: [service],
      viaService: true,
      console: false,
    });
  }

  for (let i = 0; i < IDENTITY_CENTER_USERS; i++) {
    pool.push({
      userIdentity: freeze({
        type: 'IdentityCenterUser',
        accountId,
        onBehalfOf: {
          userId: rng.uuid(),
          identityStoreArn: `arn:aws:identitystore::${accountId}:identitystore/d-90${rng.token(8, '0123456789abcdef')}`,
        },
        credentialId: rng.token(40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
      }),
      sourceIPAddress: ip(),
      userAgents: [USER_AGENTS.console],
      viaService: false,
      console: true,
    });
  }

  const rootArn = `arn:aws:iam::${accountId}:root`;
  pool.push({
    userIdentity: freeze({
      type: 'Root',
      principalId: accountId,
      arn: rootArn,
      accountId,
      accessKeyId: `ASIA${rng.token(16)}`,
    }),
    arn: rootArn,
    sourceIPAddress: ip(),
    userAgents: [USER_AGENTS.console],
    viaService: false,
    console: true,
  });
  return pool;
}

function freeze(identity: UserIdentity): Readonly<UserIdentity> {
  const deep = (value: unknown): unknown => {
    if (value && typeof value === 'object') Object.values(value).forEach(deep);
    return Object.freeze(value);
  };
  return deep(identity) as Readonly<UserIdentity>;
}

/**
 * The name LookupEvents shows in its `Username` field: the IAM user name, the role session
 * name, `root`, the Identity Center user id; absent for AWS services.
 */
export function lookupUsername(identity: UserIdentity | undefined): string | undefined {
  if (!identity) return undefined;
  const type: string = identity.type ?? '';
  switch (type) {
    case 'IAMUser':
      return identity.userName;
    case 'Root':
      return 'root';
    case 'AssumedRole':
    case 'FederatedUser': {
      const principal = identity.principalId ?? '';
      const colon = principal.indexOf(':');
      return colon >= 0 ? principal.slice(colon + 1) : identity.userName;
    }
    case 'IdentityCenterUser':
      return identity.onBehalfOf?.userId;
    default:
      return identity.userName;
  }
}
