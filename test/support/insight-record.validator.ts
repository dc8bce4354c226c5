import { Ajv, type ValidateFunction } from 'ajv';
import type { InsightRecord } from '@trailsight/domain';
import { INSIGHT_RECORD_SCHEMA } from './insight-record.schema.js';

let compiled: ValidateFunction | undefined;

/** Compiled once, on first use. */
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true }).compile(INSIGHT_RECORD_SCHEMA);
  return compiled;
}

/**
 * What is wrong with a record, `[]` when nothing: the JSON Schema, then the two rules of the
 * doc a schema cannot say (each attribute at most once; each list sorted by average, descending).
 */
export function insightRecordErrors(record: unknown): string[] {
  const validate = validator();
  if (!validate(record)) {
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  }
  const errors: string[] = [];
  const attributions = (record as InsightRecord).insightDetails.insightContext.attributions ?? [];
  const seen = new Set<string>();
  attributions.forEach((attribution, i) => {
    if (seen.has(attribution.attribute))
      errors.push(`/insightDetails/insightContext/attributions/${i} repeats ${attribution.attribute}`);
    seen.add(attribution.attribute);
    for (const list of ['insight', 'baseline'] as const) {
      const averages = attribution[list].map((entry) => entry.average);
      if (averages.some((average, j) => j > 0 && average > averages[j - 1]))
        errors.push(`/insightDetails/insightContext/attributions/${i}/${list} is not sorted by average, descending`);
    }
  });
  return errors;
}
