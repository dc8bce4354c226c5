/** The account and region a batch of events belongs to: the unit of polling, checkpoints and hash tags. */
export interface AccountRegion {
  accountId: string;
  region: string;
}

/** `account:region`, the one text form of an AccountRegion (set members, log lines, map keys). */
export function accountRegionKey({ accountId, region }: AccountRegion): string {
  return `${accountId}:${region}`;
}

/** The inverse of accountRegionKey; undefined for text that is not one. */
export function parseAccountRegion(key: string): AccountRegion | undefined {
  const colon = key.indexOf(':');
  if (colon <= 0 || colon === key.length - 1) return undefined;
  return { accountId: key.slice(0, colon), region: key.slice(colon + 1) };
}
