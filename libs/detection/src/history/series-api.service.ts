import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { DAY_MS, MINUTE_MS } from '@trailsight/domain';
import type { SeriesDto, SeriesQueryDto } from './dto/series.dto.js';
import { SeriesHistoryQueryError, SeriesHistoryService } from './series-history.service.js';

/** Periods one request may span: a week of minutes, what the console's chart draws. */
const MAX_POINTS = 10_080;

/** Injection token for the clock, so tests can pin "now". */
export const SERIES_CLOCK = Symbol('SERIES_CLOCK');

/** GET /v1/series: the query's defaults and limits, then SeriesHistoryService. */
@Injectable()
export class SeriesApiService {
  constructor(
    private readonly history: SeriesHistoryService,
    @Inject(SERIES_CLOCK) private readonly now: () => number,
  ) {}

  async read(query: SeriesQueryDto): Promise<SeriesDto> {
    const period = query.period ?? 60;
    const now = this.now();
    const untilMs = query.until === undefined ? Math.floor(now / MINUTE_MS) * MINUTE_MS : Date.parse(query.until);
    const sinceMs = query.since === undefined ? untilMs - DAY_MS : Date.parse(query.since);
    if (sinceMs >= untilMs) throw new BadRequestException(['since must be earlier than until']);
    // On the range's length, so a week of minutes from an unaligned `since` (10,081 buckets) passes.
    const periods = (untilMs - sinceMs) / (period * 1000);
    if (periods > MAX_POINTS)
      throw new BadRequestException([
        `the range spans ${Math.ceil(periods)} periods of ${period} s; at most ${MAX_POINTS} per request (narrow it or use a wider period)`,
      ]);
    const oldest = this.history.oldestServedMs(period, now);
    if (sinceMs < oldest - period * 1000)
      throw new BadRequestException([
        `period ${period} is kept back to ${new Date(oldest).toISOString()} (1-minute points 15 days, ` +
          '5-minute 63, hourly 90): use a wider period or a later since',
      ]);
    try {
      const read = await this.history.read({
        accountId: query.accountId,
        region: query.region,
        eventSource: query.eventSource,
        eventName: query.eventName,
        insightType: query.insightType,
        ...(query.errorCode === undefined ? {} : { errorCode: query.errorCode }),
        sinceMs,
        untilMs,
        periodSeconds: period,
        fill: 'zeros',
      });
      return {
        accountId: query.accountId,
        region: query.region,
        eventSource: query.eventSource,
        eventName: query.eventName,
        insightType: query.insightType,
        ...(query.errorCode === undefined ? {} : { errorCode: query.errorCode }),
        period,
        points: read.map(({ startMs, ...figures }) => ({ minute: new Date(startMs).toISOString(), ...figures })),
      };
    } catch (error) {
      if (error instanceof SeriesHistoryQueryError) throw new BadRequestException([error.message]);
      throw error;
    }
  }
}
