import {
  buildEndRecord,
  buildStartRecord,
  newFinding,
  type FindingsRepository,
  type InsightInput,
} from '@trailsight/findings';

export interface SeedSpec {
  /** Distinguishes findings; also picks their dimensions (see below). */
  index: number;
  /** Minute-aligned start, epoch ms. */
  startMinute: number;
  accountId?: string;
  region?: string;
  eventSource?: string;
  eventName?: string;
  /** Set for an ApiErrorRateInsight. */
  errorCode?: string;
  /** Closed with a 5-minute End record when true. */
  closed?: boolean;
}

/** A finding id that sorts like a UUID but says which seed it is. */
export function seedId(index: number, tag = 'seed'): string {
  return `${tag}-${String(index).padStart(8, '0')}-4000-8000-000000000000`;
}

/** The InsightInput of a seeded finding, with attributions shaped like AWS's examples. */
export function seedInput(spec: SeedSpec): InsightInput {
  const insightType = spec.errorCode === undefined ? 'ApiCallRateInsight' : 'ApiErrorRateInsight';
  const count = 20 + (spec.index % 17);
  return {
    accountId: spec.accountId ?? '123456789012',
    region: spec.region ?? 'us-east-1',
    eventSource: spec.eventSource ?? 'ec2.amazonaws.com',
    eventName: spec.eventName ?? 'RunInstances',
    insightType,
    ...(spec.errorCode === undefined ? {} : { errorCode: spec.errorCode }),
    startMinute: spec.startMinute,
    durationMinutes: 1,
    insightAverage: count,
    baselineAverage: 0.0421,
    baselineDurationMinutes: 10_080,
    attributions: {
      userIdentityArn: [
        {
          value: 'arn:aws:sts::123456789012:assumed-role/ci-deployer/build-7781',
          insightAverage: count - 2,
          baselineAverage: 0,
        },
        { value: 'arn:aws:iam::123456789012:user/alice', insightAverage: 2, baselineAverage: 0.0421 },
      ],
      userAgent: [
        { value: 'aws-sdk-js/3.600.0', insightAverage: count - 2, baselineAverage: 0 },
        { value: 'console.amazonaws.com', insightAverage: 2, baselineAverage: 0.0421 },
      ],
      ...(spec.errorCode === undefined
        ? { errorCode: [{ value: 'null', insightAverage: count, baselineAverage: 0.0421 }] }
        : {}),
    },
  };
}

/** Stores one finding (Start record; End too when closed) through the real repository. */
export async function seedFinding(repo: FindingsRepository, spec: SeedSpec, id = seedId(spec.index)): Promise<string> {
  const input = seedInput(spec);
  const start = buildStartRecord(input, { sharedEventID: id });
  const opened = await repo.open(newFinding(input, start, { direction: 'spike', peakScore: 12.5 }));
  if (!opened) throw new Error(`finding ${id} exists already`);
  if (spec.closed) {
    const end = buildEndRecord(
      { ...input, durationMinutes: 5, insightAverage: input.insightAverage / 2 },
      { sharedEventID: id },
    );
    await repo.close(id, end, { peakScore: 12.5 });
  }
  return id;
}
