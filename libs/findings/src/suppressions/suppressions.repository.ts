import type { KeySpace, RedisClient } from '@trailsight/core';
import type { SuppressionMatch } from './suppression-match.js';
import type { WindowSchedule } from './window-schedule.js';

/** Who made a rule or window, and when. */
interface Authored {
  id: string;
  match: SuppressionMatch;
  reason: string;
  /** API key id of the creator. */
  createdBy: string;
  createdAt: string;
  /** API key id of the last change, and when. */
  updatedBy?: string;
  updatedAt?: string;
}

/** A suppression rule: findings it matches, while it has not expired, are stored muted. */
export interface SuppressionRule extends Authored {
  /** ISO time after which it matches nothing (it stays listed). */
  expiresAt?: string;
}

/** A maintenance window: findings matching it that start while it is open are stored muted. */
export type MaintenanceWindow = Authored & WindowSchedule;

type Kind = 'rules' | 'windows';

/**
 * Suppression rules and maintenance windows in Redis: one hash each (see KeySpace), id -> JSON.
 * They are few (tens to hundreds) and every evaluator reads them whole, so one HGETALL is the
 * whole read path.
 */
export class SuppressionsRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  saveRule(rule: SuppressionRule): Promise<void> {
    return this.save('rules', rule);
  }

  getRule(id: string): Promise<SuppressionRule | undefined> {
    return this.get('rules', id);
  }

  /** Oldest first. */
  listRules(): Promise<SuppressionRule[]> {
    return this.list('rules');
  }

  /** False when there was no such rule. */
  deleteRule(id: string): Promise<boolean> {
    return this.delete('rules', id);
  }

  saveWindow(window: MaintenanceWindow): Promise<void> {
    return this.save('windows', window);
  }

  getWindow(id: string): Promise<MaintenanceWindow | undefined> {
    return this.get('windows', id);
  }

  /** Oldest first. */
  listWindows(): Promise<MaintenanceWindow[]> {
    return this.list('windows');
  }

  deleteWindow(id: string): Promise<boolean> {
    return this.delete('windows', id);
  }

  private key(kind: Kind): string {
    return kind === 'rules' ? this.keys.suppressionRules() : this.keys.maintenanceWindows();
  }

  private async save(kind: Kind, item: Authored): Promise<void> {
    await this.redis.hset(this.key(kind), item.id, JSON.stringify(item));
  }

  private async get<T>(kind: Kind, id: string): Promise<T | undefined> {
    const json = await this.redis.hget(this.key(kind), id);
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  private async list<T extends Authored>(kind: Kind): Promise<T[]> {
    const all = Object.values(await this.redis.hgetall(this.key(kind))).map((json) => JSON.parse(json) as T);
    return all.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  private async delete(kind: Kind, id: string): Promise<boolean> {
    return (await this.redis.hdel(this.key(kind), id)) === 1;
  }
}
