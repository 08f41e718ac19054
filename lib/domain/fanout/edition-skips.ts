import type { Log } from '../../log.ts';
import type { EditionStore } from '../editions/edition.ts';
import { editionDateOf } from '../editions/edition-date.ts';
import { type SlotRule, slotsBetween } from '../slots.ts';
import type { Cadence, Topic } from '../topic.ts';
import type { PagePlan } from './run-fanout.ts';

/**
 * The plans without the (topic, zone) pairs whose slot in the window falls on a local date
 * with no edition, for topics that skip such dates (`whenNoEdition: skip`): no job is queued
 * for them, so nobody's cooldown is used. One Query per such topic reads the few dates the
 * window's slots fall on (a day or two across every zone).
 */
export async function withoutSkippedDates(
  plans: readonly PagePlan[],
  window: { cadence: Cadence; from: number; to: number },
  deps: { editions?: Pick<EditionStore, 'list'>; log: Log },
): Promise<PagePlan[]> {
  const { editions } = deps;
  if (!editions) return [...plans];
  return Promise.all(
    plans.map(async (plan) => {
      if (plan.page.status !== 'active') return plan;
      const zones = new Map(plan.zones);
      for (const topic of plan.topics) {
        if (topic.whenNoEdition !== 'skip') continue;
        const placements = zones.get(topic.topicId) ?? [];
        const dated = placements.map((placement) => ({
          placement,
          date:
            placement.cadence === window.cadence
              ? slotDate(topic, placement.zone, window)
              : undefined,
        }));
        const dates = dated.flatMap(({ date }) => (date === undefined ? [] : [date])).sort();
        const [from, to] = [dates[0], dates.at(-1)];
        if (from === undefined || to === undefined) continue;
        const { pageId, topicId } = topic;
        const present = new Set(
          (await editions.list({ pageId, topicId, from, to })).map((edition) => edition.date),
        );
        const missing = dated.filter(({ date }) => date !== undefined && !present.has(date));
        if (missing.length === 0) continue;
        zones.set(
          topicId,
          dated.filter((entry) => !missing.includes(entry)).map(({ placement }) => placement),
        );
        deps.log.info('slots skipped: no edition', {
          pageId,
          topicId,
          cadence: window.cadence,
          dates: [...new Set(missing.map(({ date }) => date))],
          zones: missing.length,
        });
      }
      return { ...plan, zones };
    }),
  );
}

/** The edition date of the window's latest slot in `zone`, as the fan-out plans it; none if no slot. */
export function slotDate(
  topic: Topic,
  zone: string,
  window: { cadence: Cadence; from: number; to: number },
): string | undefined {
  const rule: SlotRule = {
    cadence: window.cadence,
    sendTime: topic.sendTime,
    ...(topic.weekday !== undefined && { weekday: topic.weekday }),
    ...(topic.dayOfMonth !== undefined && { dayOfMonth: topic.dayOfMonth }),
  };
  try {
    const slot = slotsBetween(rule, zone, window.from, window.to).at(-1);
    return slot === undefined ? undefined : editionDateOf(rule, zone, slot);
  } catch {
    // A zone whose slots cannot be computed is logged and left out by the planning itself.
    return undefined;
  }
}
