import type { InjectionToken } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';

/**
 * Every provider of a multi-provider token across the app's modules (HEALTH_INDICATORS,
 * METRIC_COLLECTORS, READINESS_CHECKS); none when no module registered one (ModuleRef throws then).
 */
export function registrations<T>(moduleRef: ModuleRef, token: InjectionToken): T[] {
  try {
    return moduleRef.get<T>(token, { strict: false, each: true });
  } catch {
    return [];
  }
}
