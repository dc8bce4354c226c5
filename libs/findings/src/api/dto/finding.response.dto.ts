import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TRIAGE_STATES, type Finding, type TriageChange } from '../../findings/finding.js';

export class ExpectedRangeDto {
  @ApiProperty({ description: 'Events per minute the detector expected', example: 0.05 })
  expected!: number;

  @ApiProperty({ example: 0 })
  lower!: number;

  @ApiProperty({ example: 3.2 })
  upper!: number;
}

/** One triage change of a finding. */
export class TriageChangeDto {
  @ApiProperty({ enum: TRIAGE_STATES, example: 'new' })
  from!: string;

  @ApiProperty({ enum: TRIAGE_STATES, example: 'acknowledged' })
  to!: string;

  @ApiPropertyOptional({ example: 'Release 4.2 rollout: expected RunInstances burst' })
  note?: string;

  @ApiProperty({ description: 'Id of the API key that made the change', example: '3f9c1a7b2e4d' })
  keyId!: string;

  @ApiProperty({ description: 'When', example: '2025-03-04T10:30:12.004Z' })
  at!: string;
}

export class AccountRegionNewActorsDto {
  @ApiProperty({
    type: [String],
    description: 'Of the new identities, those with no counted call on the whole account-region in the baseline',
    example: ['arn:aws:iam::123456789012:user/intruder'],
  })
  userIdentityArn!: string[];

  @ApiProperty({
    type: [String],
    description: 'Of the new user agents, those with no counted call on the whole account-region in the baseline',
    example: [],
  })
  userAgent!: string[];
}

export class NewActorsDto {
  @ApiProperty({
    type: [String],
    description: 'Identities among the insight\u2019s top attributions never seen on this API in the baseline',
    example: ['arn:aws:iam::123456789012:user/intruder'],
  })
  userIdentityArn!: string[];

  @ApiProperty({
    type: [String],
    description: 'User agents among the insight\u2019s top attributions never seen on this API in the baseline',
    example: ['python-requests/2.31'],
  })
  userAgent!: string[];

  @ApiPropertyOptional({
    type: AccountRegionNewActorsDto,
    description:
      'The same, narrowed to actors new on the whole account-region (no counted call, write or failed, on any ' +
      'API in the baseline window). Absent on findings stored before it existed, or whose attributions did not say it.',
  })
  onAccountRegion?: AccountRegionNewActorsDto;
}

/** One insight: the Start record's facts, and the End record's once closed. */
export class FindingDto {
  @ApiProperty({ description: 'The records\u2019 sharedEventID', example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' })
  id!: string;

  @ApiProperty({ enum: ['open', 'closed'], example: 'closed' })
  state!: string;

  @ApiProperty({
    enum: TRIAGE_STATES,
    description: 'An operator\u2019s triage, apart from the insight\u2019s own state; set with PATCH',
    example: 'acknowledged',
  })
  triage!: string;

  @ApiProperty({ enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'], example: 'ApiCallRateInsight' })
  insightType!: string;

  @ApiProperty({ example: '123456789012' })
  accountId!: string;

  @ApiProperty({ example: 'us-east-1' })
  region!: string;

  @ApiProperty({ example: 'ec2.amazonaws.com' })
  eventSource!: string;

  @ApiProperty({ example: 'RunInstances' })
  eventName!: string;

  @ApiPropertyOptional({ description: 'ApiErrorRateInsight only', example: 'QueryIdNotFoundException' })
  errorCode?: string;

  @ApiProperty({
    enum: ['Management', 'Data'],
    description: 'The events the insight is about (data events with INSIGHTS_EVENT_CATEGORIES=Management,Data)',
    example: 'Management',
  })
  sourceEventCategory!: string;

  @ApiProperty({ enum: ['spike', 'drop'], description: 'Above or below the expected range', example: 'spike' })
  direction!: string;

  @ApiProperty({ description: 'Start record eventTime', example: '2025-03-04T10:15:00Z' })
  startTime!: string;

  @ApiPropertyOptional({ description: 'End record eventTime, once closed', example: '2025-03-04T10:21:00Z' })
  endTime?: string;

  @ApiProperty({ example: 6 })
  durationMinutes!: number;

  @ApiProperty({ description: 'Events per minute over the baseline window', example: 0.0421 })
  baselineAverage!: number;

  @ApiProperty({ example: 10080 })
  baselineDurationMinutes!: number;

  @ApiProperty({
    description: 'Events per minute: triggering minute while open, mean over the insight once closed',
    example: 24.5,
  })
  insightAverage!: number;

  @ApiProperty({ description: 'Largest |score| seen', example: 41.7 })
  peakScore!: number;

  @ApiPropertyOptional({ type: ExpectedRangeDto })
  expected?: ExpectedRangeDto;

  @ApiPropertyOptional({
    type: [String],
    description:
      'Ids of the suppression rules and maintenance windows that muted it when it was stored (it is not ' +
      'delivered and lists hide it unless `suppressed=include|only`). Absent when nothing did.',
    example: ['4f0c2b8e-3d1a-4c5e-9b7f-2a6d8e0c1b3f'],
  })
  suppressedBy?: string[];

  @ApiProperty({
    type: NewActorsDto,
    description:
      'Identities and user agents among the insight\u2019s attributions (top 5) whose baseline average is 0: ' +
      'never seen calling this API in the baseline window. From the End record once closed.',
  })
  newActors!: NewActorsDto;

  @ApiProperty({ description: 'Last change', example: '2025-03-04T10:22:03.120Z' })
  updatedAt!: string;

  @ApiPropertyOptional({
    type: [TriageChangeDto],
    description: 'Every triage change, oldest first (GET /v1/findings/{id} and PATCH only, not lists)',
  })
  history?: TriageChangeDto[];

  /** `history` is given for one finding; lists leave it out (one more read per item). */
  static from(finding: Finding, history?: readonly TriageChange[]): FindingDto {
    // Explicit fields: the stored finding also carries its records, served by /records.
    return {
      id: finding.id,
      state: finding.state,
      triage: finding.triage,
      insightType: finding.insightType,
      accountId: finding.accountId,
      region: finding.region,
      eventSource: finding.eventSource,
      eventName: finding.eventName,
      ...(finding.errorCode === undefined ? {} : { errorCode: finding.errorCode }),
      sourceEventCategory: finding.sourceEventCategory,
      direction: finding.direction,
      startTime: finding.startTime,
      ...(finding.endTime === undefined ? {} : { endTime: finding.endTime }),
      durationMinutes: finding.durationMinutes,
      baselineAverage: finding.baselineAverage,
      baselineDurationMinutes: finding.baselineDurationMinutes,
      insightAverage: finding.insightAverage,
      peakScore: finding.peakScore,
      ...(finding.expected === undefined ? {} : { expected: finding.expected }),
      ...(finding.suppressedBy === undefined ? {} : { suppressedBy: finding.suppressedBy }),
      newActors: finding.newActors ?? { userIdentityArn: [], userAgent: [] },
      updatedAt: finding.updatedAt,
      ...(history === undefined ? {} : { history: [...history] }),
    };
  }
}

export class FindingPageDto {
  @ApiProperty({ type: [FindingDto], description: 'Newest start first' })
  items!: FindingDto[];

  @ApiPropertyOptional({
    description: 'Pass as `cursor` for the next page; absent on the last page',
    example: 'MDAxNzQxMDgzMzAwMDAwOjlhOGI3YzZk',
  })
  nextCursor?: string;
}

export class SeriesPointDto {
  @ApiProperty({ description: 'Start of the minute', example: '2025-03-04T10:15:00.000Z' })
  minute!: string;

  @ApiProperty({ description: 'Events in that minute', example: 37 })
  value!: number;

  @ApiProperty({ example: 0.05 })
  expected!: number;

  @ApiProperty({ example: 0 })
  lower!: number;

  @ApiProperty({ example: 3.2 })
  upper!: number;

  @ApiProperty({ example: 0.0421 })
  baselineAverage!: number;
}

export class SpanSummaryDto {
  @ApiProperty({ description: 'Minutes with a point in the span', example: 30 })
  minutes!: number;

  @ApiProperty({ description: 'Mean events per minute', example: 1.2 })
  mean!: number;

  @ApiProperty({ example: 1 })
  median!: number;

  @ApiProperty({ example: 0 })
  min!: number;

  @ApiProperty({ example: 4 })
  max!: number;
}

export class SeriesSummaryDto {
  @ApiProperty({
    type: SpanSummaryDto,
    nullable: true,
    description: 'The minutes shown before the insight started; null when there are none',
  })
  context!: SpanSummaryDto | null;

  @ApiProperty({
    type: SpanSummaryDto,
    nullable: true,
    description: "The insight's minutes, from its start to its end (to the latest minute while open)",
  })
  insight!: SpanSummaryDto | null;
}

export class FindingSeriesDto {
  @ApiProperty({ example: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' })
  findingId!: string;

  @ApiProperty({ enum: ['ApiCallRateInsight', 'ApiErrorRateInsight'], example: 'ApiCallRateInsight' })
  insightType!: string;

  @ApiProperty({ example: 'ec2.amazonaws.com' })
  eventSource!: string;

  @ApiProperty({ example: 'RunInstances' })
  eventName!: string;

  @ApiPropertyOptional({ example: 'QueryIdNotFoundException' })
  errorCode?: string;

  @ApiProperty({ type: SeriesSummaryDto, description: 'The series summarised before and during the insight' })
  summary!: SeriesSummaryDto;

  @ApiProperty({ type: [SeriesPointDto], description: 'Per-minute values around the finding, oldest first' })
  points!: SeriesPointDto[];
}
