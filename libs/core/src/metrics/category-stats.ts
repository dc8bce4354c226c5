import { EVENT_CATEGORIES, type EventCategory } from '@trailsight/domain';

/** Whether a category's events were counted into series or skipped by INSIGHTS_EVENT_CATEGORIES. */
export type CategoryStatKind = 'counted' | 'skipped';

/**
 * The field of an account-region's source-stats hash (`ts:{a:r}:stats`, beside `counted` and
 * `duplicates`) that counts one category's events: `counted:Management`, `skipped:Data`. The
 * counting script writes them with the batch, so they are exact; /metrics reads them.
 */
export function categoryStatField(kind: CategoryStatKind, category: EventCategory): string {
  return `${kind}:${category}`;
}

/** The kind and category of a field categoryStatField wrote, or undefined for any other field. */
export function parseCategoryStatField(field: string): { kind: CategoryStatKind; category: EventCategory } | undefined {
  const colon = field.indexOf(':');
  const kind = field.slice(0, colon);
  const category = EVENT_CATEGORIES.find((c) => c === field.slice(colon + 1));
  if (colon < 0 || (kind !== 'counted' && kind !== 'skipped') || category === undefined) return undefined;
  return { kind, category };
}
