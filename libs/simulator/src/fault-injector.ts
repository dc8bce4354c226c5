import type { AccountRegion } from '@trailsight/domain';

/**
 * Failures to force on the next LookupEvents requests, for tests of a client's error handling:
 * - throttle: HTTP 400 ThrottlingException, as if the rate limit were hit
 * - error500: HTTP 500 InternalFailure
 * - timeout:  no response at all (the connection stays open until the client gives up)
 * - truncate: HTTP 200 with the first half of the real JSON body
 * - bad-records: HTTP 200 with the real page plus three unusable events that are not in the
 *   history (CloudTrailEvent not JSON, a record without eventTime, a JSON array), so a reader's
 *   reject handling can be checked while its counts still match the ground truth
 */
export const SIMULATOR_FAULT_KINDS = ['throttle', 'error500', 'timeout', 'truncate', 'bad-records'] as const;
export type SimulatorFaultKind = (typeof SIMULATOR_FAULT_KINDS)[number];

export interface SimulatorFaultSpec {
  kind: SimulatorFaultKind;
  /** How many requests get it. */
  count: number;
  /** Absent: any account. */
  accountId?: string;
  /** Absent: any region. */
  region?: string;
}

export interface SimulatorFault extends SimulatorFaultSpec {
  id: number;
  /** Requests still to get it. */
  remaining: number;
}

/** Faults in the order they were added; each request takes one from the first that matches it. */
export class FaultInjector {
  private faults: SimulatorFault[] = [];
  private nextId = 1;

  add(spec: SimulatorFaultSpec): SimulatorFault {
    const fault: SimulatorFault = { ...spec, id: this.nextId++, remaining: spec.count };
    this.faults.push(fault);
    return { ...fault };
  }

  take(source: AccountRegion): SimulatorFaultKind | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.accountId === undefined || f.accountId === source.accountId) &&
        (f.region === undefined || f.region === source.region),
    );
    if (!fault) return undefined;
    fault.remaining--;
    if (fault.remaining === 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault.kind;
  }

  /** Faults with requests still to come. */
  pending(): SimulatorFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }
}
