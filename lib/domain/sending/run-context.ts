import type { StatsCounter } from '../ports.ts';
import { type SendJob, sendJobId } from '../send-job.ts';
import { createStatsTally, skipCounter } from '../stats.ts';
import type { SubscriptionKey } from '../subscription.ts';
import type { TrackedSend } from '../tracked-send.ts';
import type { SendVerdict } from './judge-job.ts';
import type { SenderDeps, SenderOptions } from './ports.ts';
import { strongerPressure, type UsagePressure } from './rate-bucket.ts';
import type { DeferReason, SendOutcome, SendRecord, SkipReason } from './send-outcome.ts';

/** One job of the batch, with its record and its place in the batch's results. */
export interface Item {
  index: number;
  record: SendRecord;
  job: SendJob;
}

/** A claimed job, ready to leave at its tokens' time. */
export interface Ready {
  item: Item;
  verdict: SendVerdict;
  token: string;
  release: () => Promise<void>;
  /** This message's own claim, left unfinished (crash, lost answer): it may have reached Meta. */
  resumed: boolean;
  /** Its token's time: the request leaves then. */
  sendAt: number;
  /** The send time its claims recorded: its token's time plus a margin, so it errs late. */
  recordedAt: number;
}

/**
 * What one batch shares while it runs: its ports and options, the stats it counted and the
 * usage pressure Meta reported per Page (both written once, when the batch finishes).
 */
export interface RunContext {
  deps: SenderDeps;
  options: SenderOptions;
  tally: ReturnType<typeof createStatsTally>;
  pressures: Map<string, UsagePressure>;
  /** Accepted MM sends to keep for their status webhooks, written when the batch finishes. */
  tracked: TrackedSend[];
  /** Each loaded job's edition date, by `sendJobId`: its counts also go to that edition. */
  editionDates: Map<string, string>;
  /** Counts one job's counter on its topic's day. */
  count(job: SendJob, counter: StatsCounter): void;
  /** Keeps the strongest usage pressure seen for a Page in this batch. */
  press(pageId: string, pressure: UsagePressure): void;
  /** Acknowledges a job without a send, and says why. */
  skip(job: SendJob, reason: SkipReason, detail?: string): SendOutcome;
  /** Puts a job back on the queue for `delayMs`, and says why. */
  defer(job: SendJob, reason: DeferReason, delayMs: number): SendOutcome;
  /** Waits until the clock reads `instant`. */
  waitUntil(instant: number): Promise<void>;
  /** Logs a warning the first time `key` is seen in this batch. */
  warnOnce(key: string, message: string, fields: Record<string, unknown>): void;
}

/** A fresh context for one batch. */
export function createRunContext(deps: SenderDeps, options: SenderOptions): RunContext {
  const { clock, log } = deps;
  const tally = createStatsTally();
  const pressures = new Map<string, UsagePressure>();
  const warned = new Set<string>();
  const editionDates = new Map<string, string>();
  return {
    deps,
    options,
    tally,
    pressures,
    tracked: [],
    editionDates,
    count: (job, counter) => {
      tally.count(job.pageId, job.topicId, clock.now(), counter);
      const date = editionDates.get(sendJobId(job));
      if (date) tally.countEdition(job.pageId, job.topicId, date, counter);
    },
    press: (pageId, pressure) => {
      if (pressure.kind === 'none') return;
      pressures.set(pageId, strongerPressure(pressures.get(pageId) ?? { kind: 'none' }, pressure));
    },
    skip: (job, reason, detail) => {
      // The stats' one count of the person budget, wherever the sender skips for it.
      if (reason === 'person-budget') tally.count(job.pageId, job.topicId, clock.now(), 'budget');
      if (reason === 'fcap-predicted') {
        tally.count(job.pageId, job.topicId, clock.now(), 'fcapPredicted');
      }
      const date = editionDates.get(sendJobId(job));
      if (date) tally.countEdition(job.pageId, job.topicId, date, skipCounter(reason));
      // Per job at debug: the batch's summary line says how many, at info.
      log.debug('send job skipped', { ...jobFields(job), reason, ...(detail && { detail }) });
      return { kind: 'skipped', job, reason, ...(detail && { detail }) };
    },
    defer: (job, reason, delayMs) => {
      const delay = Math.max(0, Math.ceil(delayMs));
      log.debug('send job deferred', {
        ...jobFields(job),
        reason,
        delayMs: delay,
      });
      return { kind: 'deferred', job, reason, delayMs: delay };
    },
    waitUntil: async (instant) => {
      const ms = instant - clock.now();
      if (ms > 0) await deps.sleep(ms);
    },
    warnOnce: (key, message, fields) => {
      if (warned.has(key)) return;
      warned.add(key);
      log.warn(message, fields);
    },
  };
}

/** A job's fields for a log line (never its token). */
export function jobFields(job: SendJob) {
  return { pageId: job.pageId, topicId: job.topicId, psid: job.psid, slot: job.slot };
}

/** An error's name and message for a log line. */
export function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The subscription key of a job, without its other fields. */
export function keyOf({ pageId, psid, topicId }: SubscriptionKey): SubscriptionKey {
  return { pageId, psid, topicId };
}
