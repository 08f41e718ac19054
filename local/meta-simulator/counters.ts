import type { GraphRoute } from './faults.ts';
import type { RejectReason } from './graph-errors.ts';
import type { RuleRefusals } from './rule-refusals.ts';

/** What the simulator answered so far, for tests and the demo. */
export interface SimulatorCounters {
  /** Every Graph call received. */
  calls: number;
  /** Token sends accepted, both routes (answered or not). */
  accepted: number;
  /** Opt-in requests accepted. */
  optInRequests: number;
  /** Every accepted call by route. */
  acceptedByRoute: Partial<Record<GraphRoute, number>>;
  /** Every error answer by reason. */
  rejected: Partial<Record<RejectReason, number>>;
  /** Rate-limit errors answered (window and bursts); also in `rejected.rate_limited`. */
  rateLimitErrors: number;
  /** Calls left without an answer (injected timeouts). */
  timeouts: number;
}

/** The simulator's status: the counters, and the calls Meta refused by rule apart from injected faults. */
export interface SimulatorStatus extends SimulatorCounters {
  refusedByRule: RuleRefusals;
}

export type Counters = ReturnType<typeof createCounters>;

/** Mutable counters behind `counters()`. */
export function createCounters() {
  const state: SimulatorCounters = {
    calls: 0,
    accepted: 0,
    optInRequests: 0,
    acceptedByRoute: {},
    rejected: {},
    rateLimitErrors: 0,
    timeouts: 0,
  };
  return {
    call(): void {
      state.calls += 1;
    },
    accept(route: GraphRoute): void {
      state.acceptedByRoute[route] = (state.acceptedByRoute[route] ?? 0) + 1;
      if (route === 'send_api' || route === 'marketing_messages') state.accepted += 1;
      if (route === 'optin_request') state.optInRequests += 1;
    },
    reject(reason: RejectReason): void {
      state.rejected[reason] = (state.rejected[reason] ?? 0) + 1;
      if (reason === 'rate_limited') state.rateLimitErrors += 1;
    },
    timeout(): void {
      state.timeouts += 1;
    },
    snapshot(): SimulatorCounters {
      return {
        ...state,
        acceptedByRoute: { ...state.acceptedByRoute },
        rejected: { ...state.rejected },
      };
    },
  };
}
