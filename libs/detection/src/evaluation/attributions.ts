import { actorOfField, attributionFieldPrefix, type AttributedBy } from '@trailsight/domain';
import type { AttributionValue, InsightInput } from '@trailsight/findings';
import type { SeriesRef } from './series-ref.js';

type Attributions = NonNullable<InsightInput['attributions']>;
type CounterHash = Readonly<Record<string, number>>;

/** Where one attribute's counts live: the counter fields that start with `prefix` (series-key.ts). */
interface AttributeSource {
  attribute: AttributedBy;
  prefix: string;
}

const ATTRIBUTES: readonly AttributedBy[] = ['userIdentityArn', 'userAgent', 'errorCode'];

function attributeSources(ref: SeriesRef): AttributeSource[] {
  const sources: AttributeSource[] = [];
  for (const attribute of ATTRIBUTES) {
    const prefix = attributionFieldPrefix(ref, attribute);
    // An error-rate series has no errorCode attribution.
    if (prefix !== undefined) sources.push({ attribute, prefix });
  }
  return sources;
}

function sumsByValue(hashes: readonly CounterHash[], prefix: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const hash of hashes) {
    for (const field in hash) {
      if (!field.startsWith(prefix)) continue;
      const value = field.slice(prefix.length);
      sums.set(value, (sums.get(value) ?? 0) + (hash[field] ?? 0));
    }
  }
  return sums;
}

function total(hashes: readonly CounterHash[], field: string): number {
  let sum = 0;
  for (const hash of hashes) sum += hash[field] ?? 0;
  return sum;
}

/** Every identity and user agent with a counted call on the account-region (any API) in the hashes. */
function actorsOn(hashes: readonly CounterHash[]): Record<'userIdentityArn' | 'userAgent', Set<string>> {
  const actors = { userIdentityArn: new Set<string>(), userAgent: new Set<string>() };
  for (const hash of hashes) {
    for (const field in hash) {
      const actor = actorOfField(field);
      if (actor && (hash[field] ?? 0) > 0) actors[actor.attribute].add(actor.value);
    }
  }
  return actors;
}

/**
 * Per-minute averages of each attribute value in the insight period and in the baseline, for the
 * record builder (which keeps the top 5 of each). For call rate, calls without an error are the
 * errorCode value "null", as AWS reports them. Identities and user agents also say whether they
 * made any counted call on the account-region in the baseline (the baseline hashes are the
 * account-region's hourly rollups: every API's fields).
 */
export function attributionsOf(
  ref: SeriesRef,
  insight: { hashes: readonly CounterHash[]; minutes: number },
  baseline: { hashes: readonly CounterHash[]; minutes: number },
): Attributions {
  const attributions: Attributions = {};
  let onAccountRegion: ReturnType<typeof actorsOn> | undefined;
  for (const { attribute, prefix } of attributeSources(ref)) {
    const inInsight = sumsByValue(insight.hashes, prefix);
    const inBaseline = sumsByValue(baseline.hashes, prefix);
    if (attribute === 'errorCode') {
      addNoError(inInsight, total(insight.hashes, ref.key));
      addNoError(inBaseline, total(baseline.hashes, ref.key));
    }
    const known = attribute === 'errorCode' ? undefined : (onAccountRegion ??= actorsOn(baseline.hashes))[attribute];
    const values: AttributionValue[] = [];
    for (const value of new Set([...inInsight.keys(), ...inBaseline.keys()])) {
      values.push({
        value,
        insightAverage: perMinute(inInsight.get(value) ?? 0, insight.minutes),
        baselineAverage: perMinute(inBaseline.get(value) ?? 0, baseline.minutes),
        ...(known ? { seenOnAccountRegion: known.has(value) } : {}),
      });
    }
    attributions[attribute] = values;
  }
  return attributions;
}

function addNoError(byCode: Map<string, number>, calls: number): void {
  let errors = 0;
  for (const n of byCode.values()) errors += n;
  if (calls - errors > 0) byCode.set('null', calls - errors);
}

function perMinute(sum: number, minutes: number): number {
  return minutes > 0 ? sum / minutes : 0;
}
