import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { TUNING_SETTING_NAMES, tuningScopeProblems, tuningSettingsProblems } from '@trailsight/domain';
import { overrideLayers } from '../core/detector-tuning.js';
import type { CreateTuningRequestDto, TuningListDto, UpdateTuningRequestDto } from './dto/tuning.dto.js';
import {
  canonicalScope,
  TuningRepository,
  tuningIdOf,
  type TuningChange,
  type TuningEntry,
} from './tuning.repository.js';

/** `/v1/tuning`: validated, audited runtime overrides the evaluator applies from its next run. */
@Injectable()
export class TuningService {
  constructor(
    private readonly tuning: TuningRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(): Promise<TuningListDto> {
    const boot = overrideLayers(this.config.detectorOverrides).map(({ scope, settings }) => ({ scope, settings }));
    return { items: await this.tuning.list(), boot };
  }

  async get(id: string): Promise<TuningEntry> {
    const entry = await this.tuning.get(id);
    if (!entry) throw new NotFoundException(`Tuning override ${id} not found`);
    return entry;
  }

  async create(body: CreateTuningRequestDto, keyId: string, nowMs = Date.now()): Promise<TuningEntry> {
    const problems = [...tuningScopeProblems(body.scope), ...settingsProblems(body.settings)];
    if (problems.length > 0) throw new BadRequestException(problems);
    const scope = canonicalScope(body.scope);
    const entry: TuningEntry = {
      id: tuningIdOf(scope),
      scope,
      settings: body.settings,
      ...(body.note === undefined ? {} : { note: body.note }),
      updatedAt: new Date(nowMs).toISOString(),
      updatedBy: keyId,
    };
    if (!(await this.tuning.write('create', entry))) {
      throw new ConflictException(`This scope has an override already: change it with PUT /v1/tuning/${entry.id}`);
    }
    return entry;
  }

  async update(id: string, body: UpdateTuningRequestDto, keyId: string, nowMs = Date.now()): Promise<TuningEntry> {
    const problems = settingsProblems(body.settings);
    if (problems.length > 0) throw new BadRequestException(problems);
    const { scope } = await this.get(id);
    const entry: TuningEntry = {
      id,
      scope,
      settings: body.settings,
      ...(body.note === undefined ? {} : { note: body.note }),
      updatedAt: new Date(nowMs).toISOString(),
      updatedBy: keyId,
    };
    if (!(await this.tuning.write('update', entry))) throw new NotFoundException(`Tuning override ${id} not found`);
    return entry;
  }

  async delete(id: string, keyId: string): Promise<void> {
    if (!(await this.tuning.delete(id, keyId))) throw new NotFoundException(`Tuning override ${id} not found`);
  }

  history(limit: number): Promise<TuningChange[]> {
    return this.tuning.history(limit);
  }
}

/** The shared check, plus: an override that sets nothing is a mistake. */
function settingsProblems(settings: unknown): string[] {
  const problems = tuningSettingsProblems(settings, 'settings');
  if (problems.length === 0 && Object.keys(settings as object).length === 0)
    problems.push(`settings must set at least one of ${TUNING_SETTING_NAMES.join(', ')}`);
  return problems;
}
