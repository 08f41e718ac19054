import type { DuePlacement } from '#lib/domain/due-placement.ts';
import type { FanoutDeps, FanoutInput } from '#lib/domain/fanout/run-fanout.ts';
import type { SendJob } from '#lib/domain/send-job.ts';
import type { GraphClient, GraphSendResult } from '#lib/domain/sending/ports.ts';
import { type Subscription, subscriptionId } from '#lib/domain/subscription.ts';
import type { Cadence } from '#lib/domain/topic.ts';
import { graphErrorOf } from '#lib/graph/graph-client.ts';
import { silentLog } from '#lib/log.ts';
import { errorBody, graphErrors } from '../local/meta-simulator/graph-errors.ts';
import type { MetaModel } from '../local/meta-simulator/model.ts';
import type { MemoryTable } from '../test/support/memory-ports.ts';

/**
 * What the `rules` benchmark adds to the in-memory ports of `test/support/memory-ports.ts`: the
 * fan-out's due index and runs with the conditions of `dynamoDueIndex` and `dynamoFanoutRuns`,
 * a send queue on the virtual clock with SQS's receive counts and redrive, and a Graph client
 * that calls the Meta simulator's rule model directly.
 */

/** The due index over the table's subscriptions: one partition per (Page, topic, cadence, zone). */
export function memoryDueIndex(table: MemoryTable) {
  const partitions = new Map<string, Set<string>>();
  const placedIn = new Map<string, string>();
  const zones = new Map<string, Map<string, DuePlacement>>();
  const partitionOf = (group: {
    pageId: string;
    topicId: string;
    cadence: Cadence;
    zone: string;
  }) => `${group.pageId}#${group.topicId}#${group.cadence}#${group.zone}`;

  /** Puts a subscription where its cadence and zone say, as the table's due-index keys would. */
  function place(item: Subscription): void {
    const id = subscriptionId(item);
    const topic = table.topics.get(`${item.pageId}#${item.topicId}`);
    if (!topic) return;
    const cadence = item.frequency ?? topic.cadence;
    const partition = partitionOf({ ...item, cadence, zone: item.timezone });
    const before = placedIn.get(id);
    if (before !== undefined && before !== partition) partitions.get(before)?.delete(id);
    let members = partitions.get(partition);
    if (!members) {
      members = new Set();
      partitions.set(partition, members);
    }
    members.add(id);
    placedIn.set(id, partition);
    const topicKey = `${item.pageId}#${item.topicId}`;
    const known = zones.get(topicKey) ?? new Map<string, DuePlacement>();
    known.set(`${cadence}#${item.timezone}`, { cadence, zone: item.timezone });
    zones.set(topicKey, known);
  }

  const dueIndex: FanoutDeps['dueIndex'] = {
    partitionsFor: (group) => [partitionOf(group)],
    async query(work) {
      const items = [];
      let scanned = 0;
      for (const id of partitions.get(work.partition) ?? []) {
        const item = table.subscriptions.get(id);
        // The index is sparse: only active subscriptions with a token are in it. It sees only
        // the projected `lastSlot`/`lastSentAt` (legacy claims), never the Marketing Message
        // claims' `claimedSlot`/`claimedSentAt`, as the table's `due` index does.
        if (item?.status !== 'active' || item.token === undefined) continue;
        scanned++;
        const due =
          (item.activeSince ?? 0) <= work.slot &&
          (item.tokenExpiresAt === undefined || item.tokenExpiresAt > work.slot) &&
          (item.lastSlot === undefined ||
            item.lastSlot < work.calendarThreshold ||
            (item.frequency === undefined && item.lastSlot < work.threshold));
        if (due) {
          items.push({
            psid: item.psid,
            ...(item.lastSentAt !== undefined && { lastSentAt: item.lastSentAt }),
            ...(item.frequency !== undefined && { frequency: item.frequency }),
          });
        }
      }
      return { items, scanned };
    },
  };

  const catalog: FanoutDeps['catalog'] = {
    async listPlans() {
      return [...table.pages.values()].map((page) => {
        const topics = [...table.topics.values()].filter((topic) => topic.pageId === page.pageId);
        const byTopic = new Map(
          topics.map((topic) => [
            topic.topicId,
            [...(zones.get(`${page.pageId}#${topic.topicId}`)?.values() ?? [])],
          ]),
        );
        return { page: structuredClone(page), topics: structuredClone(topics), zones: byTopic };
      });
    },
  };
  return { dueIndex, catalog, place };
}

/** One queued message as SQS keeps it. */
interface QueuedMessage {
  id: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
}

/**
 * The send queue on the virtual clock: messages visible from `visibleAt`, received oldest
 * first, each receive counted, moved to the DLQ past `maxReceiveCount` receives.
 */
export function virtualSendQueue(now: () => number, maxReceiveCount: number) {
  const heap: QueuedMessage[] = [];
  let sequence = 0;
  let deadLetters = 0;
  const before = (a: QueuedMessage, b: QueuedMessage) =>
    a.visibleAt < b.visibleAt || (a.visibleAt === b.visibleAt && a.id < b.id);
  const push = (message: QueuedMessage) => {
    heap.push(message);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as QueuedMessage, heap[parent] as QueuedMessage)) break;
      [heap[i], heap[parent]] = [heap[parent] as QueuedMessage, heap[i] as QueuedMessage];
      i = parent;
    }
  };
  const pop = (): QueuedMessage | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let least = i;
        if (l < heap.length && before(heap[l] as QueuedMessage, heap[least] as QueuedMessage))
          least = l;
        if (r < heap.length && before(heap[r] as QueuedMessage, heap[least] as QueuedMessage))
          least = r;
        if (least === i) break;
        [heap[i], heap[least]] = [heap[least] as QueuedMessage, heap[i] as QueuedMessage];
        i = least;
      }
    }
    return top;
  };
  return {
    enqueue: (jobs: readonly { job: SendJob; delaySeconds: number }[]) => {
      for (const { job, delaySeconds } of jobs) {
        sequence++;
        push({
          id: String(sequence).padStart(10, '0'),
          body: JSON.stringify(job),
          receiveCount: 0,
          visibleAt: now() + delaySeconds * 1000,
        });
      }
    },
    /** Up to `max` visible messages, each receive counted; those past their receives go to the DLQ. */
    receive(max: number): QueuedMessage[] {
      const got: QueuedMessage[] = [];
      while (got.length < max && heap[0] !== undefined && heap[0].visibleAt <= now()) {
        const message = pop() as QueuedMessage;
        message.receiveCount++;
        if (message.receiveCount > maxReceiveCount) deadLetters++;
        else got.push(message);
      }
      return got;
    },
    /** Makes a received message visible again after `delayMs`. */
    putBack(message: QueuedMessage, delayMs: number): void {
      push({ ...message, visibleAt: now() + delayMs });
    },
    /** When the next message becomes visible, if any is queued. */
    nextVisibleAt: () => heap[0]?.visibleAt,
    size: () => heap.length,
    deadLetters: () => deadLetters,
  };
}

/** When each cadence's fan-out last completed, moved only forward; continuations run next. */
export function memoryFanoutRuns() {
  const completed = new Map<Cadence, number>();
  const handedOver: FanoutInput[] = [];
  return {
    runs: {
      lastCompleted: async (cadence: Cadence) => completed.get(cadence),
      async complete(cadence: Cadence, scheduledTime: number) {
        if ((completed.get(cadence) ?? Number.NEGATIVE_INFINITY) < scheduledTime) {
          completed.set(cadence, scheduledTime);
        }
      },
    } satisfies FanoutDeps['runs'],
    continuations: {
      handOver: async (input: FanoutInput) => {
        handedOver.push(input);
      },
    } satisfies FanoutDeps['continuations'],
    handedOver,
    log: silentLog,
  };
}

/**
 * Meta as the sender reaches it, without HTTP: the simulator's rule model answers, its error
 * bodies read by the Graph client's own parser; while `down()` says so, Meta answers 503.
 */
export function modelGraph(model: MetaModel, down: () => boolean) {
  let accepted = 0;
  const graph: GraphClient = {
    async send(request): Promise<GraphSendResult> {
      if (down()) {
        const outage = graphErrors.serviceUnavailable(503);
        return { kind: 'refused', status: 503, error: graphErrorOf(errorBody(outage, 'outage')) };
      }
      const result =
        request.route === 'send_api'
          ? model.sendWithToken(request.pageId, request.token, request.message)
          : model.sendMarketing(request.adAccountId, {
              campaignId: request.campaignId,
              token: request.token,
              message: request.message,
            });
      if (result.ok) {
        accepted++;
        return { kind: 'accepted', ...(result.sent && { messageId: result.sent.messageId }) };
      }
      const error = graphErrorOf(errorBody(result.error, 'rules'));
      return { kind: 'refused', status: result.error.status, ...(error && { error }) };
    },
  };
  return { graph, accepted: () => accepted };
}

/**
 * The sender's sleep on the virtual clock, as concurrent timers behave: sleepers wake one at a
 * time, earliest first, each moving the clock to its own time once everything else waits. A
 * sleep that set the clock at once would move it for the Pages still working in the same
 * batch too, and their requests would leave late (hundreds of ms) as no real process's do.
 */
export function virtualSleep(clock: { now(): number; set(ms: number): void }) {
  const sleepers: { until: number; wake: () => void }[] = [];
  let scheduled = false;
  const wakeNext = () => {
    scheduled = false;
    sleepers.sort((a, b) => a.until - b.until);
    const next = sleepers.shift();
    if (!next) return;
    clock.set(Math.max(clock.now(), next.until));
    next.wake();
    schedule();
  };
  // setImmediate runs once every promise callback has: each sender is then waiting on a sleep.
  const schedule = () => {
    if (scheduled || sleepers.length === 0) return;
    scheduled = true;
    setImmediate(wakeNext);
  };
  return (ms: number) =>
    new Promise<void>((wake) => {
      sleepers.push({ until: clock.now() + Math.max(0, ms), wake });
      schedule();
    });
}
