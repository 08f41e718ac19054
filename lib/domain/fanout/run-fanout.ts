import * as z from 'zod';
import type { Log } from '../../log.ts';
import type { BroadcastStore } from '../broadcasts/broadcast.ts';
import { earliestSendAt, lastSlotThreshold } from '../cooldown.ts';
import type { DueGroup, DuePlacement } from '../due-placement.ts';
import type { EditionStore } from '../editions/edition.ts';
import { InvalidInputError } from '../errors.ts';
import { deliveryRouteSchema, type Page } from '../page.ts';
import type { SendJob } from '../send-job.ts';
import { type SlotRule, slotsBetween } from '../slots.ts';
import { type Cadence, cadenceSchema, type Topic } from '../topic.ts';
import { planBroadcasts } from './broadcast-partitions.ts';
import { type ContentSourceDeps, withContentEditions } from './content-source.ts';
import { withoutSkippedDates } from './edition-skips.ts';
import {
  comparePositions,
  inPageTurns,
  JOBS_PER_PAGE_TURN,
  type PartitionPosition,
} from './page-turns.ts';

/** Jobs are queued in multiples of this (10 per SendMessageBatch call, several calls at once). */
const FLUSH_SIZE = 100;

/**
 * Where a read of a due partition stopped, as the index hands it back: opaque to the fan-out,
 * which only carries it (as JSON, in a continuation) to the next read.
 */
const duePositionSchema = z.json();
export type DuePosition = z.infer<typeof duePositionSchema>;

/** One due-index partition to read for one slot, with its cooldown thresholds. */
const partitionWorkSchema = z.object({
  /** The index's own id of the partition: opaque; a run takes partitions by turn, then id. */
  partition: z.string(),
  /** Its index among its group's partitions: a run reads every group's first one first. */
  turn: z.number().int().nonnegative().optional(),
  pageId: z.string(),
  topicId: z.string(),
  slot: z.number(),
  /** `lastSlot` must be below this for tokens without a frequency... */
  threshold: z.number(),
  /** ...and below this for old WEEKLY/MONTHLY tokens (their calendar period). */
  calendarThreshold: z.number(),
  /** The Page's route and zone: a job is held back until its token's cooldown is over. */
  route: deliveryRouteSchema,
  pageZone: z.string(),
  startKey: duePositionSchema.optional(),
  /** Set when the read is for a broadcast (`broadcast-partitions.ts`); `slot` is its instant there. */
  broadcastId: z.string().optional(),
});
export type PartitionWork = z.infer<typeof partitionWorkSchema>;

const continuationSchema = z.object({
  windowFrom: z.number(),
  /**
   * Every partition up to this one (by turn, then id) was started; the unfinished ones are in
   * `inProgress`.
   */
  startedThrough: z.string(),
  /**
   * The turn of `startedThrough`. Absent from the continuations of releases that read
   * partitions in id order alone: such a run goes on in that order.
   */
  startedThroughTurn: z.number().int().nonnegative().optional(),
  inProgress: z.array(partitionWorkSchema),
});

/** What a schedule (or an operator, or a continuation) hands the fan-out. */
export const fanoutInputSchema = z.object({
  cadence: cadenceSchema,
  scheduledTime: z.union([
    z.iso.datetime({ offset: true }).transform((value) => Date.parse(value)),
    z.number().int(),
  ]),
  continuation: continuationSchema.optional(),
});
export type FanoutInput = z.infer<typeof fanoutInputSchema>;

/** Parses a fan-out event; a bad one is an InvalidInputError naming the field. */
export function parseFanoutInput(event: unknown): FanoutInput {
  const parsed = fanoutInputSchema.safeParse(event);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InvalidInputError(
    `fan-out input: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}`,
  );
}

/** A Page with its topics and, per topic id, the (cadence, zone) pairs it has subscribers in. */
export interface PagePlan {
  page: Page;
  topics: Topic[];
  zones: Map<string, DuePlacement[]>;
}

/** A due subscription as the index gives it: who, and when it was last sent. */
export interface DueItem {
  psid: string;
  lastSentAt?: number;
  frequency?: Cadence;
}

export interface DuePage {
  items: DueItem[];
  /** Items read before the filter: the cost of the query. */
  scanned: number;
  nextKey?: DuePosition;
}

export interface FanoutDeps {
  catalog: { listPlans(): Promise<PagePlan[]> };
  dueIndex: {
    /** The partitions one group is stored under. */
    partitionsFor(group: DueGroup): readonly string[];
    query(work: PartitionWork): Promise<DuePage>;
  };
  queue: { enqueue(jobs: readonly { job: SendJob; delaySeconds: number }[]): Promise<void> };
  runs: {
    lastCompleted(cadence: Cadence): Promise<number | undefined>;
    complete(cadence: Cadence, scheduledTime: number): Promise<void>;
  };
  continuations: { handOver(input: FanoutInput): Promise<void> };
  /** Milliseconds this invocation may still run. */
  timeLeft(): number;
  log: Log;
  lookbackMs: number;
  concurrency: number;
  /** Hand over when less than this is left. */
  reserveMs: number;
  /** Topics' editions: a topic that skips dates without one queues nothing for them. */
  editions?: Pick<EditionStore, 'list'>;
  /** Topics' content sources: asked for a date's edition before its first job is queued. */
  contentSource?: ContentSourceDeps;
  /** Broadcasts of topics: their jobs are queued by the run whose window holds their instant. */
  broadcasts?: Pick<BroadcastStore, 'listOpen' | 'markStarted' | 'markDone'>;
}

export interface FanoutResult {
  queued: number;
  scanned: number;
  partitions: number;
  handedOver: boolean;
}

/**
 * Queues one send job per subscription due in a slot that fell in this run's window: from
 * the cadence's last completed run (at most the lookback ago) to `scheduledTime`. Writes
 * nothing per subscriber; a run too big for one invocation hands the rest over.
 */
export async function runFanout(input: FanoutInput, deps: FanoutDeps): Promise<FanoutResult> {
  const { cadence, scheduledTime, continuation } = input;
  const windowFrom =
    continuation?.windowFrom ??
    Math.max(
      (await deps.runs.lastCompleted(cadence)) ?? Number.NEGATIVE_INFINITY,
      scheduledTime - deps.lookbackMs,
    );
  if (windowFrom >= scheduledTime)
    return { queued: 0, scanned: 0, partitions: 0, handedOver: false };

  const byTurns = continuation === undefined || continuation.startedThroughTurn !== undefined;
  const positionOf = (work: PartitionWork): PartitionPosition => ({
    turn: byTurns ? (work.turn ?? 0) : 0,
    partition: work.partition,
  });
  let startedThrough: PartitionPosition = {
    turn: continuation?.startedThroughTurn ?? 0,
    partition: continuation?.startedThrough ?? '',
  };
  const started = (work: PartitionWork) => comparePositions(positionOf(work), startedThrough) <= 0;
  const plans = await withoutSkippedDates(
    await withContentEditions(
      await deps.catalog.listPlans(),
      { cadence, from: windowFrom, to: scheduledTime, continued: continuation !== undefined },
      deps,
    ),
    { cadence, from: windowFrom, to: scheduledTime },
    deps,
  );
  const planned = [
    ...planPartitions(plans, cadence, windowFrom, scheduledTime, deps),
    ...(await planBroadcasts(plans, { cadence, from: windowFrom, to: scheduledTime }, deps)),
  ].sort((a, b) => comparePositions(positionOf(a), positionOf(b)));
  const todo = continuation
    ? [...continuation.inProgress, ...planned.filter((work) => !started(work))]
    : planned;

  const result: FanoutResult = { queued: 0, scanned: 0, partitions: 0, handedOver: false };
  const unfinished: PartitionWork[] = [];
  let next = 0;
  const outOfTime = () => deps.timeLeft() < deps.reserveMs;
  // Jobs from small partitions are pooled so SendMessageBatch calls go out full (10 a call),
  // and queued in Page turns so a sender batch holds several Pages, a few jobs each.
  let pending: { job: SendJob; delaySeconds: number }[] = [];
  const flush = async (all: boolean) => {
    const count = all ? pending.length : pending.length - (pending.length % FLUSH_SIZE);
    if (count === 0) return;
    const ordered = inPageTurns(pending, (entry) => entry.job.pageId, JOBS_PER_PAGE_TURN);
    pending = ordered.slice(count);
    await deps.queue.enqueue(ordered.slice(0, count));
  };

  const worker = async () => {
    while (next < todo.length && !outOfTime()) {
      let work = todo[next++] as PartitionWork;
      if (!started(work)) startedThrough = positionOf(work);
      result.partitions++;
      for (;;) {
        const page = await deps.dueIndex.query(work);
        result.scanned += page.scanned;
        result.queued += page.items.length;
        for (const item of page.items) {
          const { pageId, topicId, slot, broadcastId } = work;
          pending.push({
            job: {
              pageId,
              psid: item.psid,
              topicId,
              slot,
              scheduledTime,
              ...(broadcastId && { broadcastId }),
            },
            // A broadcast job is never held back: one still in cooldown is skipped, not sent late.
            delaySeconds: broadcastId ? 0 : holdBackSeconds(item, work, scheduledTime),
          });
        }
        if (pending.length >= FLUSH_SIZE) await flush(false);
        if (!page.nextKey) break;
        work = { ...work, startKey: page.nextKey };
        if (outOfTime()) {
          unfinished.push(work);
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: deps.concurrency }, worker));
  // Everything read is queued before the run is handed over or marked complete.
  await flush(true);

  if (unfinished.length > 0 || next < todo.length) {
    // Untaken work sorts after `startedThrough` except continuation leftovers, kept explicitly.
    const untakenLeftovers = todo.slice(next).filter(started);
    await deps.continuations.handOver({
      cadence,
      scheduledTime,
      continuation: {
        windowFrom,
        startedThrough: startedThrough.partition,
        ...(byTurns && { startedThroughTurn: startedThrough.turn }),
        inProgress: [...unfinished, ...untakenLeftovers],
      },
    });
    deps.log.info('fan-out handed over', { cadence, scheduledTime, ...result });
    return { ...result, handedOver: true };
  }
  await deps.runs.complete(cadence, scheduledTime);
  // Most runs of a 15-minute schedule find nothing due: those are not worth an info line.
  const level = result.queued > 0 ? 'info' : 'debug';
  deps.log[level]('fan-out completed', { cadence, scheduledTime, ...result });
  return result;
}

/**
 * Every due partition of a (topic, zone) with a slot in the window, each group's first
 * partition before any group's second (then by id), so Pages take turns. Only the latest slot
 * of a window counts: a caught-up run sends once, not once per missed slot.
 */
export function planPartitions(
  plans: readonly PagePlan[],
  cadence: Cadence,
  windowFrom: number,
  windowTo: number,
  deps: { dueIndex: Pick<FanoutDeps['dueIndex'], 'partitionsFor'>; log: Log },
): PartitionWork[] {
  const work: PartitionWork[] = [];
  for (const { page, topics, zones } of plans) {
    if (page.status !== 'active') continue;
    for (const topic of topics) {
      // Paused by the stop-spike breaker: no job is queued until an operator resumes it.
      if (topic.paused) continue;
      const rule: SlotRule = {
        cadence,
        sendTime: topic.sendTime,
        ...(topic.weekday !== undefined && { weekday: topic.weekday }),
        ...(topic.dayOfMonth !== undefined && { dayOfMonth: topic.dayOfMonth }),
      };
      for (const { cadence: zoneCadence, zone } of zones.get(topic.topicId) ?? []) {
        if (zoneCadence !== cadence) continue;
        try {
          const slot = slotsBetween(rule, zone, windowFrom, windowTo).at(-1);
          if (slot === undefined) continue;
          const common = { slot, rule, zone, route: page.deliveryRoute, pageZone: page.timezone };
          const threshold = lastSlotThreshold(common);
          const calendarThreshold = lastSlotThreshold({ ...common, frequency: cadence });
          const group = { cadence, pageId: page.pageId, topicId: topic.topicId, zone };
          for (const [turn, partition] of deps.dueIndex.partitionsFor(group).entries()) {
            work.push({
              partition,
              turn,
              pageId: page.pageId,
              topicId: topic.topicId,
              slot,
              threshold,
              calendarThreshold,
              route: page.deliveryRoute,
              pageZone: page.timezone,
            });
          }
        } catch (error: unknown) {
          deps.log.error('topic skipped by the fan-out: its slots cannot be computed', {
            pageId: page.pageId,
            topicId: topic.topicId,
            zone,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    }
  }
  return work.sort((a, b) =>
    comparePositions(
      { turn: a.turn ?? 0, partition: a.partition },
      { turn: b.turn ?? 0, partition: b.partition },
    ),
  );
}

/**
 * Seconds until Meta's cooldown since the last send is over, judged at the run's scheduled
 * time: a send that left late in its last slot would otherwise reach the sender early and be
 * put back. SQS holds a message at most 15 minutes; the sender covers the rest.
 */
function holdBackSeconds(item: DueItem, work: PartitionWork, scheduledTime: number): number {
  if (item.lastSentAt === undefined) return 0;
  const earliest = earliestSendAt({
    lastSentAt: item.lastSentAt,
    route: work.route,
    ...(item.frequency !== undefined && { frequency: item.frequency }),
    pageZone: work.pageZone,
  });
  return Math.max(0, Math.ceil((earliest - scheduledTime) / 1000));
}
