import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { type InsightRecord, minuteOf } from '@trailsight/domain';
import { FindingsRepository, InvalidCursorError, type FindingQuery } from '../findings/findings.repository.js';
import { summarizeSeries } from './series-summary.js';
import type { FindingEventsDto } from './dto/finding-events.dto.js';
import { FindingDto, FindingSeriesDto, type FindingPageDto } from './dto/finding.response.dto.js';
import type { ListFindingsQueryDto } from './dto/list-findings.query.dto.js';
import type { TriageFindingRequestDto } from './dto/triage-finding.request.dto.js';
import { FindingsPageCache, type CachedBody } from './findings-page.cache.js';

/** Reads for the findings routes. Pages are served from FindingsPageCache while nothing changed. */
@Injectable()
export class FindingsApiService {
  constructor(
    private readonly findings: FindingsRepository,
    private readonly cache: FindingsPageCache,
  ) {}

  /** One page of findings, serialised (the same bytes for every caller until a finding changes). */
  async list(dto: ListFindingsQueryDto): Promise<CachedBody> {
    const query = toQuery(dto);
    return this.cache.get(JSON.stringify(query), async (): Promise<FindingPageDto> => {
      try {
        const page = await this.findings.list(query);
        return {
          items: page.items.map((finding) => FindingDto.from(finding)),
          ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
        };
      } catch (error) {
        if (error instanceof InvalidCursorError)
          throw new BadRequestException(['cursor is not a nextCursor this API handed out']);
        throw error;
      }
    });
  }

  async get(id: string): Promise<FindingDto> {
    const [finding, history] = await Promise.all([this.found(id), this.findings.triageHistory(id)]);
    return FindingDto.from(finding, history);
  }

  /** Sets the triage state (audited with the caller's key id) and answers the finding as it now is. */
  async triage(id: string, request: TriageFindingRequestDto, keyId: string): Promise<FindingDto> {
    const change = await this.findings.triage(id, {
      to: request.triage,
      ...(request.note === undefined ? {} : { note: request.note }),
      keyId,
    });
    if (!change) throw new NotFoundException(`Finding ${id} not found`);
    return this.get(id);
  }

  /** The AWS-layout records: Start, and End once closed. */
  async records(id: string): Promise<InsightRecord[]> {
    const { records } = await this.found(id);
    return records.end ? [records.start, records.end] : [records.start];
  }

  async series(id: string): Promise<FindingSeriesDto> {
    const finding = await this.found(id);
    const points = await this.findings.getSeries(id);
    return {
      findingId: finding.id,
      insightType: finding.insightType,
      eventSource: finding.eventSource,
      eventName: finding.eventName,
      ...(finding.errorCode === undefined ? {} : { errorCode: finding.errorCode }),
      summary: summarizeSeries(
        points,
        minuteOf(Date.parse(finding.startTime)),
        finding.endTime === undefined ? undefined : minuteOf(Date.parse(finding.endTime)),
      ),
      points: points.map((p) => ({
        minute: new Date(p.minute).toISOString(),
        value: p.value,
        expected: p.expected,
        lower: p.lower,
        upper: p.upper,
        baselineAverage: p.baselineAverage,
      })),
    };
  }

  /** The example calls kept with the finding, oldest first. */
  async events(id: string, limit: number): Promise<FindingEventsDto> {
    const [finding, samples] = await Promise.all([this.found(id), this.findings.getSamples(id)]);
    return {
      findingId: finding.id,
      items: samples.slice(0, limit).map(({ eventTimeMs, ...event }) => ({
        eventId: event.eventId,
        eventTime: new Date(eventTimeMs).toISOString(),
        eventSource: event.eventSource,
        eventName: event.eventName,
        awsRegion: event.awsRegion,
        recipientAccountId: event.recipientAccountId,
        userIdentityArn: event.userIdentityArn,
        sourceIPAddress: event.sourceIPAddress,
        userAgent: event.userAgent,
        ...(event.errorCode === undefined ? {} : { errorCode: event.errorCode }),
        ...(event.errorMessage === undefined ? {} : { errorMessage: event.errorMessage }),
        requestParameters: event.requestParameters,
      })),
    };
  }

  private async found(id: string) {
    const finding = await this.findings.get(id);
    if (!finding) throw new NotFoundException(`Finding ${id} not found`);
    return finding;
  }
}

/** The repository query of validated parameters; its JSON is the cache key (fixed field order). */
function toQuery(dto: ListFindingsQueryDto): FindingQuery {
  const since = dto.since === undefined ? undefined : Date.parse(dto.since);
  const until = dto.until === undefined ? undefined : Date.parse(dto.until);
  if (since !== undefined && Number.isNaN(since))
    throw new BadRequestException(['since must be an ISO 8601 date-time']);
  if (until !== undefined && Number.isNaN(until))
    throw new BadRequestException(['until must be an ISO 8601 date-time']);
  if (since !== undefined && until !== undefined && since >= until)
    throw new BadRequestException(['since must be earlier than until']);
  const query: FindingQuery = {
    state: dto.state,
    triage: dto.triage,
    insightType: dto.insightType,
    eventSource: dto.eventSource,
    eventName: dto.eventName,
    errorCode: dto.errorCode,
    accountId: dto.accountId,
    region: dto.region,
    since,
    until,
    suppressed: suppressedOf(dto.suppressed),
    limit: dto.limit ?? 50,
    cursor: dto.cursor,
  };
  for (const field of Object.keys(query) as (keyof FindingQuery)[]) {
    if (query[field] === undefined) delete query[field];
  }
  return query;
}

/** The API hides muted findings unless asked; the repository's default is every finding. */
function suppressedOf(value: ListFindingsQueryDto['suppressed']): FindingQuery['suppressed'] {
  return value === 'include' ? undefined : (value ?? 'exclude');
}
