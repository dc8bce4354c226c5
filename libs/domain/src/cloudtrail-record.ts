/**
 * The CloudTrail event record as AWS writes it in trail files and inside LookupEvents'
 * `CloudTrailEvent` string (reference doc section 4.1). Every field but the few the detector
 * needs is optional: old records (eventVersion 1.01) lack readOnly, eventType and eventCategory.
 */
type UserIdentityType =
  | 'Root'
  | 'IAMUser'
  | 'AssumedRole'
  | 'Role'
  | 'FederatedUser'
  | 'Directory'
  | 'AWSAccount'
  | 'AWSService'
  | 'Unknown'
  | 'IdentityCenterUser'
  | (string & {});

interface SessionIssuer {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  userName?: string;
}

export interface UserIdentity {
  type?: UserIdentityType;
  principalId?: string;
  /** Absent for IdentityCenterUser and some AWSService identities. */
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  invokedBy?: string;
  credentialId?: string;
  /** IdentityCenterUser identities carry this instead of an arn. */
  onBehalfOf?: { userId?: string; identityStoreArn?: string };
  sessionContext?: {
    attributes?: { creationDate?: string; mfaAuthenticated?: string };
    sessionIssuer?: SessionIssuer;
    webIdFederationData?: Record<string, unknown>;
    sourceIdentity?: string;
    ec2RoleDelivery?: string;
  };
}

type CloudTrailEventType =
  | 'AwsApiCall'
  | 'AwsServiceEvent'
  | 'AwsConsoleAction'
  | 'AwsConsoleSignIn'
  | 'AwsCloudTrailInsight'
  | 'AwsVpceEvent'
  | (string & {});

type CloudTrailEventCategory = 'Management' | 'Data' | 'Insight' | 'NetworkActivity' | (string & {});

export interface CloudTrailRecord {
  eventVersion?: string;
  userIdentity?: UserIdentity;
  /** ISO-8601 UTC; minutes are bucketed by this field. */
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  requestID?: string;
  /** Unique per event: the dedupe key. */
  eventID: string;
  readOnly?: boolean;
  resources?: Array<{ ARN?: string; accountId?: string; type?: string }>;
  eventType?: CloudTrailEventType;
  apiVersion?: string;
  managementEvent?: boolean;
  recipientAccountId?: string;
  serviceEventDetails?: Record<string, unknown>;
  sharedEventID?: string;
  vpcEndpointId?: string;
  eventCategory?: CloudTrailEventCategory;
  addendum?: {
    reason?: 'DELIVERY_DELAY' | 'UPDATED_DATA' | 'SERVICE_OUTAGE' | (string & {});
    updatedFields?: string;
    originalRequestID?: string;
    originalEventID?: string;
  };
  sessionCredentialFromConsole?: string;
  edgeDeviceDetails?: Record<string, unknown>;
  tlsDetails?: { tlsVersion?: string; cipherSuite?: string; clientProvidedHostHeader?: string };
  eventContext?: Record<string, unknown>;
}
