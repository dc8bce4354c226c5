/** The account and region a batch of events belongs to: the unit of polling, checkpoints and hash tags. */
export interface AccountRegion {
  accountId: string;
  region: string;
}

/** `account:region`, the one text form of an AccountRegion (set members, log lines, map keys). */
export function accountRegionKey({ accountId, region }: AccountRegion): string {
  return `${accountId}:${region}`;
}
