import type { Broadcast, BroadcastKey, BroadcastStore } from '#lib/domain/broadcasts/broadcast.ts';

/**
 * Broadcasts in memory, with the conditions DynamoDB applies (no cancel once started, no start
 * once cancelled, done only once started); `writes` names every write that landed.
 */
export function memoryBroadcasts(
  initial: readonly Broadcast[] = [],
): BroadcastStore & { items: Map<string, Broadcast>; writes: string[] } {
  const id = ({ pageId, topicId, broadcastId }: BroadcastKey) =>
    `${pageId}#${topicId}#${broadcastId}`;
  const items = new Map(initial.map((broadcast) => [id(broadcast), structuredClone(broadcast)]));
  const writes: string[] = [];
  const ofTopic = (pageId: string, topicId: string) =>
    [...items.values()]
      .filter((broadcast) => broadcast.pageId === pageId && broadcast.topicId === topicId)
      .sort((a, b) => (a.broadcastId < b.broadcastId ? -1 : 1))
      .map((broadcast) => structuredClone(broadcast));
  return {
    items,
    writes,
    async create(broadcast) {
      if (items.has(id(broadcast))) throw new Error(`broadcast ${broadcast.broadcastId} exists`);
      items.set(id(broadcast), structuredClone(broadcast));
      writes.push(`create ${broadcast.broadcastId}`);
    },
    async get(key) {
      const broadcast = items.get(id(key));
      return broadcast && structuredClone(broadcast);
    },
    async list({ pageId, topicId }) {
      return ofTopic(pageId, topicId);
    },
    async listOpen({ pageId, topicId }) {
      return ofTopic(pageId, topicId).filter(
        (broadcast) => broadcast.doneAt === undefined && broadcast.cancelledAt === undefined,
      );
    },
    async cancel(key, at) {
      const broadcast = items.get(id(key));
      if (!broadcast) return { kind: 'missing' };
      if (broadcast.cancelledAt !== undefined) {
        return { kind: 'already-cancelled', cancelledAt: broadcast.cancelledAt };
      }
      if (broadcast.startedAt !== undefined)
        return { kind: 'started', startedAt: broadcast.startedAt };
      broadcast.cancelledAt = at;
      writes.push(`cancel ${key.broadcastId}`);
      return { kind: 'cancelled', broadcast: structuredClone(broadcast) };
    },
    async markStarted(key, at) {
      const broadcast = items.get(id(key));
      if (!broadcast || broadcast.cancelledAt !== undefined) return undefined;
      broadcast.startedAt ??= at;
      writes.push(`start ${key.broadcastId}`);
      return structuredClone(broadcast);
    },
    async markDone(key, at) {
      const broadcast = items.get(id(key));
      if (!broadcast || broadcast.startedAt === undefined || broadcast.doneAt !== undefined) return;
      if (broadcast.cancelledAt !== undefined) return;
      broadcast.doneAt = at;
      writes.push(`done ${key.broadcastId}`);
    },
    async count(key, counts) {
      const broadcast = items.get(id(key));
      if (!broadcast) return;
      for (const [name, by] of Object.entries(counts)) {
        const counter = name as keyof Broadcast['counts'];
        broadcast.counts[counter] = (broadcast.counts[counter] ?? 0) + (by ?? 0);
      }
      writes.push(`count ${key.broadcastId}`);
    },
  };
}
