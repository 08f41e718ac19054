import type { Log } from '../../log.ts';
import type { Broadcast, BroadcastStore } from '../broadcasts/broadcast.ts';
import { broadcastInstant } from '../broadcasts/broadcast-window.ts';
import type { DuePlacement } from '../due-placement.ts';
import type { Cadence } from '../topic.ts';
import type { FanoutDeps, PagePlan, PartitionWork } from './run-fanout.ts';

/** What planning a run's broadcasts uses of the fan-out's ports. */
export interface BroadcastPlanDeps {
  broadcasts?: Pick<BroadcastStore, 'listOpen' | 'markStarted' | 'markDone'>;
  dueIndex: Pick<FanoutDeps['dueIndex'], 'partitionsFor'>;
  log: Log;
}

/**
 * The due partitions to read for the broadcasts of this cadence's topics whose instant in a
 * zone falls in the run's window: one read per (broadcast, zone), for every cadence the topic's
 * subscribers are placed under, with `lastSlot` below the broadcast's instant (so a zone queued
 * by an overlapping run is not queued twice, and the sender's claim stops any duplicate). The
 * run that starts a broadcast also queues its zones already past (a broadcast sent at once,
 * one created as a run read the list); a broadcast whose every zone came before the window was
 * queued by an earlier run: it is marked done.
 */
export async function planBroadcasts(
  plans: readonly PagePlan[],
  window: { cadence: Cadence; from: number; to: number },
  deps: BroadcastPlanDeps,
): Promise<PartitionWork[]> {
  const { broadcasts } = deps;
  if (!broadcasts) return [];
  const work: PartitionWork[] = [];
  for (const { page, topics, zones } of plans) {
    if (page.status !== 'active') continue;
    for (const topic of topics) {
      if (topic.cadence !== window.cadence || topic.paused) continue;
      const { pageId, topicId } = topic;
      for (const broadcast of await broadcasts.listOpen({ pageId, topicId })) {
        const timed = instantsOf(broadcast, zones.get(topicId) ?? [], deps.log);
        const lastAt = Math.max(broadcast.lastAt, ...timed.map(({ at }) => at));
        const startedHere = broadcast.startedAt === undefined || broadcast.startedAt === window.to;
        const from = startedHere ? Math.min(window.from, broadcast.createdAt - 1) : window.from;
        const due = timed.filter(({ at }) => at > from && at <= window.to);
        if (due.length === 0) {
          if (lastAt > window.to) continue;
          // Queued to the end by an earlier run, or nobody to queue: every zone is done.
          if (broadcast.startedAt !== undefined ? lastAt <= window.from : timed.length === 0) {
            if (broadcast.startedAt === undefined)
              await broadcasts.markStarted(broadcast, window.to);
            await broadcasts.markDone(broadcast, window.to);
          }
          continue;
        }
        if (broadcast.startedAt === undefined) {
          const started = await broadcasts.markStarted(broadcast, window.to);
          if (!started) continue;
        }
        deps.log.info('broadcast queued', {
          pageId,
          topicId,
          broadcastId: broadcast.broadcastId,
          zones: due.map(({ placement }) => placement.zone),
        });
        for (const { placement, at } of due) {
          const group = { cadence: placement.cadence, pageId, topicId, zone: placement.zone };
          for (const [turn, partition] of deps.dueIndex.partitionsFor(group).entries()) {
            work.push({
              partition,
              turn,
              pageId,
              topicId,
              slot: at,
              threshold: at,
              calendarThreshold: at,
              route: page.deliveryRoute,
              pageZone: page.timezone,
              broadcastId: broadcast.broadcastId,
            });
          }
        }
      }
    }
  }
  return work;
}

/** The broadcast's instant in each placement's zone; a zone that cannot be read is logged, left out. */
function instantsOf(
  broadcast: Broadcast,
  placements: readonly DuePlacement[],
  log: Log,
): { placement: DuePlacement; at: number }[] {
  return placements.flatMap((placement) => {
    try {
      return [
        { placement, at: broadcastInstant(broadcast.timing, broadcast.createdAt, placement.zone) },
      ];
    } catch (error: unknown) {
      log.error('broadcast zone skipped: its instant cannot be computed', {
        broadcastId: broadcast.broadcastId,
        zone: placement.zone,
        error: error instanceof Error ? error.message : String(error),
      });
      return [];
    }
  });
}
