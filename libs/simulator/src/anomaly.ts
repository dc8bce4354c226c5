/**
 * Anomalies the simulator can be told to produce, and the validation of requests for them
 * (used by TrafficGenerator.injectAnomaly and by the POST /anomalies route alike).
 *
 * The rule, per anomalous minute of the matching account-regions, with expected = the API's
 * modelled calls per minute at that minute (0 for an API the model never calls):
 * - spike:  the API gets Poisson(factor × max(expected, 1)) calls, never fewer than it had;
 *           the extra calls come from one identity and user agent, as a runaway script would.
 * - drop:   the API gets no calls at all (generated and replayed alike).
 * - errors: Poisson(factor × max(expected, 1)) extra calls of the API that fail with errorCode.
 * The max(expected, 1) keeps a spike on a rarely called API visible.
 */
const ANOMALY_KINDS = ['spike', 'drop', 'errors'] as const;
type AnomalyKind = (typeof ANOMALY_KINDS)[number];

const DEFAULT_ANOMALY_FACTOR = 10;
const DEFAULT_ANOMALY_ERROR_CODE = 'AccessDenied';
/** Longest anomaly accepted: one week. */
const MAX_ANOMALY_MINUTES = 7 * 24 * 60;

/** What POST /anomalies takes: an anomaly that starts at the next whole minute. */
export interface AnomalyRequest {
  kind: AnomalyKind;
  eventSource: string;
  eventName: string;
  /** spike and errors only; default 10. */
  factor?: number;
  /** errors only; default AccessDenied. */
  errorCode?: string;
  minutes: number;
  /** Absent: every account served. */
  accountId?: string;
  /** Absent: every region served. */
  region?: string;
}

/** An anomaly scheduled at a given minute (epoch ms, or a Date; rounded up to a whole minute). */
export interface AnomalySpec extends AnomalyRequest {
  startMinute: number | Date;
}

/** A scheduled anomaly as reported back: defaults filled in, `endTime` exclusive. */
export interface SimulatedAnomaly {
  id: string;
  kind: AnomalyKind;
  eventSource: string;
  eventName: string;
  factor?: number;
  errorCode?: string;
  minutes: number;
  accountId?: string;
  region?: string;
  /** First anomalous minute, ISO-8601. */
  startTime: string;
  /** First minute after the anomaly, ISO-8601 (startTime + minutes). */
  endTime: string;
}

/** Bad anomaly input; the message names the field. */
export class AnomalyValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'AnomalyValidationError';
  }
}

const FIELDS = new Set(['kind', 'eventSource', 'eventName', 'factor', 'errorCode', 'minutes', 'accountId', 'region']);

/**
 * Checks an anomaly request (parsed JSON or a caller's object) against the accounts and regions
 * served, and fills in defaults. Throws AnomalyValidationError naming the first bad field.
 */
export function parseAnomalyRequest(
  input: unknown,
  served: { accounts: readonly string[]; regions: readonly string[] },
  extraFields: readonly string[] = [],
): AnomalyRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AnomalyValidationError('body', 'the body must be a JSON object');
  }
  const body = input as Record<string, unknown>;
  const unknown = Object.keys(body).find((key) => !FIELDS.has(key) && !extraFields.includes(key));
  if (unknown !== undefined) {
    throw new AnomalyValidationError(unknown, `unknown field "${unknown}"; allowed: ${[...FIELDS].join(', ')}`);
  }
  const fail = (field: string, why: string): never => {
    throw new AnomalyValidationError(field, `${field} ${why}`);
  };

  const kind = body.kind;
  if (typeof kind !== 'string' || !(ANOMALY_KINDS as readonly string[]).includes(kind)) {
    fail('kind', `must be one of ${ANOMALY_KINDS.join(', ')}, got ${show(kind)}`);
  }
  const { eventSource, eventName, factor, errorCode, minutes, accountId, region } = body;
  if (typeof eventSource !== 'string' || !/^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$/.test(eventSource)) {
    fail('eventSource', `must be a service host such as "iam.amazonaws.com", got ${show(eventSource)}`);
  }
  if (typeof eventName !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,127}$/.test(eventName)) {
    fail('eventName', `must be an API name such as "CreateUser", got ${show(eventName)}`);
  }
  if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > MAX_ANOMALY_MINUTES) {
    fail('minutes', `must be a whole number from 1 to ${MAX_ANOMALY_MINUTES}, got ${show(minutes)}`);
  }
  if (factor !== undefined) {
    if (kind === 'drop') fail('factor', 'does not apply to a drop (a drop always goes to zero calls)');
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 0 || factor > 100_000) {
      fail('factor', `must be a number above 0 and at most 100000, got ${show(factor)}`);
    }
  }
  if (errorCode !== undefined) {
    if (kind !== 'errors') fail('errorCode', 'applies only to kind "errors"');
    if (typeof errorCode !== 'string' || !/^[A-Za-z][A-Za-z0-9._-]{0,127}$/.test(errorCode)) {
      fail('errorCode', `must be an error code such as "AccessDenied", got ${show(errorCode)}`);
    }
  }
  if (accountId !== undefined && (typeof accountId !== 'string' || !served.accounts.includes(accountId))) {
    fail('accountId', `must be one of the accounts served (${served.accounts.join(', ')}), got ${show(accountId)}`);
  }
  if (region !== undefined && (typeof region !== 'string' || !served.regions.includes(region))) {
    fail('region', `must be one of the regions served (${served.regions.join(', ')}), got ${show(region)}`);
  }

  const request: AnomalyRequest = {
    kind: kind as AnomalyKind,
    eventSource: eventSource as string,
    eventName: eventName as string,
    minutes: minutes as number,
  };
  if (kind !== 'drop') request.factor = (factor as number | undefined) ?? DEFAULT_ANOMALY_FACTOR;
  if (kind === 'errors') request.errorCode = (errorCode as string | undefined) ?? DEFAULT_ANOMALY_ERROR_CODE;
  if (accountId !== undefined) request.accountId = accountId as string;
  if (region !== undefined) request.region = region as string;
  return request;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? typeof value);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}
