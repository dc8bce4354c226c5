// The API client: same origin, the key in this tab's sessionStorage only (never the URL or
// localStorage), sent as `Authorization: Bearer`. A 401 forgets the key and shows the sign-in.
const KEY_ITEM = 'trailsight.apiKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Scope = 'read' | 'admin';

let signedOut: () => void = () => undefined;

export function onSignedOut(listener: () => void): void {
  signedOut = listener;
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

export function rememberKey(key: string): void {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_ITEM);
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<T> {
  const key = init.key ?? storedKey();
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  const body: unknown = text === '' ? undefined : JSON.parse(text);
  if (response.ok) return body as T;
  const message = messageOf(body) ?? response.statusText;
  if (response.status === 401 && init.key === undefined) {
    forgetKey();
    signedOut();
  }
  // The API's 403 names the scope the route needs; say it even if a proxy answered instead.
  if (response.status === 403 && !/scope/.test(message))
    throw new ApiError(403, 'Needs an API key with the admin scope');
  throw new ApiError(response.status, message);
}

function messageOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('message' in body)) return undefined;
  const message = (body as { message: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : String(message);
}

/** A query string of the set values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export interface Finding {
  id: string;
  state: 'open' | 'closed';
  triage: 'new' | 'acknowledged' | 'resolved';
  insightType: 'ApiCallRateInsight' | 'ApiErrorRateInsight';
  accountId: string;
  region: string;
  eventSource: string;
  eventName: string;
  errorCode?: string;
  direction: 'spike' | 'drop';
  startTime: string;
  endTime?: string;
  durationMinutes: number;
  baselineAverage: number;
  baselineDurationMinutes: number;
  insightAverage: number;
  peakScore: number;
  suppressedBy?: string[];
  updatedAt: string;
  history?: { from: string; to: string; note?: string; keyId: string; at: string }[];
  newActors?: { userIdentityArn?: string[]; userAgent?: string[] };
}

/** A minute (or bucket) of a series; the model's figures are absent where none was stored. */
export interface SeriesPoint {
  minute: string;
  value: number;
  expected?: number;
  lower?: number;
  upper?: number;
  baselineAverage?: number;
}

export interface TrackedApi {
  insightType: 'ApiCallRateInsight' | 'ApiErrorRateInsight';
  accountId: string;
  region: string;
  eventSource: string;
  eventName: string;
  errorCode?: string;
  currentRate: number;
  currentMinute: string;
  baselineAverage: number;
  warmingUp?: boolean;
  openFindingId?: string;
}
