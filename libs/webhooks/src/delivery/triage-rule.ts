import type { TriageState } from '@trailsight/findings';

/**
 * An insight's End pages nobody once an operator has acknowledged or resolved its finding: they
 * have seen it already. A finding still `new` (or gone) gets its End as usual.
 */
export function endSilencedByTriage(triage: TriageState | undefined): boolean {
  return triage === 'acknowledged' || triage === 'resolved';
}
