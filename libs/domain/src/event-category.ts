/**
 * The categories of CloudTrail events (the record's `eventCategory`, since eventVersion 1.07) and
 * which of them Insights analyses. AWS analyses management events by default; data events only
 * when the trail's InsightSelector lists `Data`, and then in series of their own whose call rate
 * counts reads and writes (reference §1.1). Network-activity events are never analysed, and
 * Insights records are detector output, never input.
 */

/** The categories Insights can analyse: AWS's `InsightSelector.EventCategories` values. */
export type InsightsEventCategory = 'Management' | 'Data';

/**
 * An event's category as the queue carries it. Names CloudTrail may add later become 'Other',
 * so a forged record cannot invent metric labels.
 */
export type EventCategory = InsightsEventCategory | 'NetworkActivity' | 'Other';
export const EVENT_CATEGORIES: readonly EventCategory[] = ['Management', 'Data', 'NetworkActivity', 'Other'];

/**
 * The category of a record's `eventCategory` value: absent (records before 1.07) means
 * Management. `Insight` is not an event category here: the record parser rejects those records.
 */
export function eventCategoryOf(value: string | null | undefined): EventCategory {
  if (value === undefined || value === null || value === 'Management') return 'Management';
  if (value === 'Data' || value === 'NetworkActivity') return value;
  return 'Other';
}

/**
 * Whether an event of this category (absent: Management) is counted, with data events analysed
 * (`withData`, INSIGHTS_EVENT_CATEGORIES has Data) or not. The rest is skipped before counting.
 */
export function isCountedCategory(category: EventCategory | undefined, withData: boolean): boolean {
  return category === undefined || category === 'Management' || (category === 'Data' && withData);
}
