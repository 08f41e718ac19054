import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import { silentLog } from '#lib/log.ts';
import {
  createWebhookDelivery,
  metaJson,
  type OutgoingEvent,
  SettleTimeoutError,
} from '../../../../local/meta-simulator/webhook-delivery.ts';

const NOW = Date.parse('2026-11-21T09:00:00Z');

// Without a webhook URL every batch is recorded and dropped: batching and timing show without HTTP.
function aQueue() {
  const clock = fixedClock(NOW);
  const queue = createWebhookDelivery({ clock, appSecret: 'secret', log: silentLog });
  return { clock, queue };
}

function anEvent(pageId: string, dueAt = NOW, psid = '5001'): OutgoingEvent {
  return {
    kind: 'messaging',
    pageId,
    dueAt,
    event: { sender: { id: psid }, recipient: { id: pageId }, timestamp: dueAt, message: {} },
  };
}

describe('the bytes Meta signs', () => {
  it('escapes everything outside ASCII as \\uXXXX and slashes as \\/', () => {
    const text = metaJson({ title: 'Tägliche Angebote 🔥', zone: 'Europe/Berlin' });

    expect(text).toBe(
      '{"title":"T\\u00e4gliche Angebote \\ud83d\\udd25","zone":"Europe\\/Berlin"}',
    );
    expect(JSON.parse(text)).toEqual({ title: 'Tägliche Angebote 🔥', zone: 'Europe/Berlin' });
  });
});

describe('webhook batching and timing', () => {
  it('puts the events pending together for a Page into one delivery', async () => {
    const { queue } = aQueue();
    queue.enqueue(anEvent('1001', NOW, '5001'));
    queue.enqueue(anEvent('1001', NOW, '5002'));
    queue.enqueue(anEvent('2002'));

    await queue.settle();

    const records = queue.records();
    expect(records.map((record) => [record.pageId, record.events, record.state])).toEqual([
      ['1001', 2, 'dropped'],
      ['2002', 1, 'dropped'],
    ]);
    expect(JSON.parse(records[0]?.body ?? '{}').entry[0].messaging).toHaveLength(2);
  });

  it('splits more events than a delivery holds into several deliveries', async () => {
    const clock = fixedClock(NOW);
    const queue = createWebhookDelivery({
      clock,
      appSecret: 'secret',
      log: silentLog,
      maxBatchSize: 2,
    });
    for (const psid of ['1', '2', '3', '4', '5']) queue.enqueue(anEvent('1001', NOW, psid));

    await queue.settle({ timeoutMs: 1000 });

    expect(queue.records().map((record) => record.events)).toEqual([2, 2, 1]);
  });

  it('holds an event until the clock reaches its time', async () => {
    const { clock, queue } = aQueue();
    queue.enqueue(anEvent('1001', NOW + 1000));

    await queue.settle({ dueOnly: true });
    expect(queue.records()).toEqual([]);

    clock.set(NOW + 1000);
    await queue.settle();
    expect(queue.records()).toHaveLength(1);
  });

  it('gives up settling when the clock never reaches a pending event', async () => {
    const { queue } = aQueue();
    queue.enqueue(anEvent('1001', NOW + 1000));

    await expect(queue.settle({ timeoutMs: 50 })).rejects.toThrow(SettleTimeoutError);
  });
});
