import { randomUUID } from 'node:crypto';
import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { DAY_MS } from '@trailsight/domain';
import { FindingsRepository } from '../findings/findings.repository.js';
import { FindingDto } from '../api/dto/finding.response.dto.js';
import {
  MaintenanceWindowDto,
  type MaintenanceWindowRequestDto,
  SuppressionDto,
  type SuppressionPreviewDto,
  type SuppressionPreviewRequestDto,
  type SuppressionRequestDto,
} from './dto/suppression.dto.js';
import { compileMatch, matchProblems, type SuppressionMatch } from './suppression-match.js';
import { SuppressionsRepository, type MaintenanceWindow, type SuppressionRule } from './suppressions.repository.js';
import { compileSchedule, scheduleProblems, type WindowSchedule } from './window-schedule.js';

const PREVIEW_ITEMS = 100;

/** The /v1/suppressions and /v1/maintenance-windows routes. */
@Injectable()
export class SuppressionsService {
  constructor(
    private readonly repository: SuppressionsRepository,
    private readonly findings: FindingsRepository,
  ) {}

  async createRule(body: SuppressionRequestDto, keyId: string, nowMs = Date.now()): Promise<SuppressionDto> {
    const rule: SuppressionRule = {
      id: randomUUID(),
      ...ruleFields(body, nowMs),
      createdBy: keyId,
      createdAt: new Date(nowMs).toISOString(),
    };
    await this.repository.saveRule(rule);
    return SuppressionDto.from(rule, nowMs);
  }

  async listRules(): Promise<SuppressionDto[]> {
    return (await this.repository.listRules()).map((rule) => SuppressionDto.from(rule));
  }

  async getRule(id: string): Promise<SuppressionDto> {
    return SuppressionDto.from(await this.rule(id));
  }

  /** Replaces match, reason and expiry; keeps who created it and when. */
  async replaceRule(
    id: string,
    body: SuppressionRequestDto,
    keyId: string,
    nowMs = Date.now(),
  ): Promise<SuppressionDto> {
    const existing = await this.rule(id);
    const rule: SuppressionRule = {
      id,
      ...ruleFields(body, nowMs),
      createdBy: existing.createdBy,
      createdAt: existing.createdAt,
      updatedBy: keyId,
      updatedAt: new Date(nowMs).toISOString(),
    };
    await this.repository.saveRule(rule);
    return SuppressionDto.from(rule, nowMs);
  }

  /** Findings it muted stay muted (their suppressedBy is kept). */
  async deleteRule(id: string): Promise<void> {
    if (!(await this.repository.deleteRule(id))) throw new NotFoundException(`Suppression ${id} not found`);
  }

  /**
   * Which stored findings that started in the last `days` the draft would match (suppressed
   * ones included). Reads the findings page by page from the start-time index.
   */
  async preview(body: SuppressionPreviewRequestDto, nowMs = Date.now()): Promise<SuppressionPreviewDto> {
    const match = validMatch(body.match);
    const days = body.days ?? 30;
    const matches = compileMatch(match);
    const first: string[] = [];
    let examined = 0;
    let matched = 0;
    for await (const subject of this.findings.matchSubjectsSince(nowMs - days * DAY_MS)) {
      examined++;
      if (!matches(subject)) continue;
      matched++;
      if (first.length < PREVIEW_ITEMS) first.push(subject.id);
    }
    const found = await Promise.all(first.map((id) => this.findings.get(id)));
    const items = found.filter((f) => f !== undefined).map((f) => FindingDto.from(f));
    return { days, examined, matched, items, truncated: matched > first.length };
  }

  async createWindow(
    body: MaintenanceWindowRequestDto,
    keyId: string,
    nowMs = Date.now(),
  ): Promise<MaintenanceWindowDto> {
    const window: MaintenanceWindow = {
      id: randomUUID(),
      ...windowFields(body, nowMs),
      createdBy: keyId,
      createdAt: new Date(nowMs).toISOString(),
    };
    await this.repository.saveWindow(window);
    return toWindowDto(window, nowMs);
  }

  async listWindows(nowMs = Date.now()): Promise<MaintenanceWindowDto[]> {
    return (await this.repository.listWindows()).map((window) => toWindowDto(window, nowMs));
  }

  async getWindow(id: string): Promise<MaintenanceWindowDto> {
    return toWindowDto(await this.window(id), Date.now());
  }

  /** Replaces the schedule, match and reason; keeps who created it and when (an RRULE's default DTSTART too). */
  async replaceWindow(
    id: string,
    body: MaintenanceWindowRequestDto,
    keyId: string,
    nowMs = Date.now(),
  ): Promise<MaintenanceWindowDto> {
    const existing = await this.window(id);
    const window: MaintenanceWindow = {
      id,
      ...windowFields(body, Date.parse(existing.createdAt)),
      createdBy: existing.createdBy,
      createdAt: existing.createdAt,
      updatedBy: keyId,
      updatedAt: new Date(nowMs).toISOString(),
    };
    await this.repository.saveWindow(window);
    return toWindowDto(window, nowMs);
  }

  async deleteWindow(id: string): Promise<void> {
    if (!(await this.repository.deleteWindow(id))) throw new NotFoundException(`Maintenance window ${id} not found`);
  }

  private async rule(id: string): Promise<SuppressionRule> {
    const rule = await this.repository.getRule(id);
    if (!rule) throw new NotFoundException(`Suppression ${id} not found`);
    return rule;
  }

  private async window(id: string): Promise<MaintenanceWindow> {
    const window = await this.repository.getWindow(id);
    if (!window) throw new NotFoundException(`Maintenance window ${id} not found`);
    return window;
  }
}

function validMatch(match: unknown, options?: { allowEmpty: boolean }): SuppressionMatch {
  const problems = matchProblems(match, options);
  if (problems.length > 0) throw new BadRequestException(problems);
  return match as SuppressionMatch;
}

function ruleFields(
  body: SuppressionRequestDto,
  nowMs: number,
): Pick<SuppressionRule, 'match' | 'reason' | 'expiresAt'> {
  const match = validMatch(body.match);
  if (body.expiresAt !== undefined && Date.parse(body.expiresAt) <= nowMs)
    throw new BadRequestException(['expiresAt must be in the future']);
  return {
    match,
    reason: body.reason,
    ...(body.expiresAt === undefined ? {} : { expiresAt: new Date(Date.parse(body.expiresAt)).toISOString() }),
  };
}

function windowFields(
  body: MaintenanceWindowRequestDto,
  createdMs: number,
): Pick<MaintenanceWindow, 'match' | 'reason'> & WindowSchedule {
  const match = body.match ?? {};
  const problems = [
    ...matchProblems(match, { allowEmpty: true }),
    ...scheduleProblems({ ...body, match: undefined, reason: undefined }, createdMs),
  ];
  if (problems.length > 0) throw new BadRequestException(problems);
  const schedule: WindowSchedule =
    body.from !== undefined && body.to !== undefined
      ? { from: new Date(Date.parse(body.from)).toISOString(), to: new Date(Date.parse(body.to)).toISOString() }
      : body.rrule !== undefined
        ? { rrule: body.rrule.trim(), durationMinutes: Number(body.durationMinutes), timeZone: String(body.timeZone) }
        : {
            cron: String(body.cron).trim(),
            durationMinutes: Number(body.durationMinutes),
            timeZone: String(body.timeZone),
          };
  return { match, reason: body.reason, ...schedule };
}

function toWindowDto(window: MaintenanceWindow, nowMs: number): MaintenanceWindowDto {
  return MaintenanceWindowDto.from(window, compileSchedule(window, Date.parse(window.createdAt))(nowMs));
}
