import { describe, expect, it } from 'vitest';
import { SENT_AT_MARGIN_MS } from '#lib/domain/sending/page-pacing.ts';
import { BATCH_LOG_MESSAGE, sendBatch } from '#lib/domain/sending/send-batch.ts';
import { PoisonJobError } from '#lib/domain/sending/send-outcome.ts';
import { captureLog } from '../../../support/capture-log.ts';
import { aJob, aRecord, NOW, SLOT, values, world } from './sender-world.ts';

describe('sendBatch: sending', () => {
  it('sends an eligible job and records the send, its id and the counter', async () => {
    const w = world();

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent', confirmed: true, messageId: 'm_1' });
    expect(w.sent[0]?.request).toEqual({
      route: 'send_api',
      pageId: '1001',
      accessToken: 'page-token',
      token: 'tok-p1',
      message: { text: 'hi' },
    });
    expect(w.subscription()).toMatchObject({
      lastSlot: SLOT,
      lastSentAt: NOW + SENT_AT_MARGIN_MS,
    });
    expect(w.increments).toEqual([
      [{ pageId: '1001', topicId: 'deals', day: '2026-11-21', counts: { sent: 1 } }],
    ]);
  });
});

describe('sendBatch: logs', () => {
  it('logs each job at debug and one summary of the batch at info', async () => {
    const w = world();
    const log = captureLog();
    w.deps.log = log;
    const stale = aJob({ scheduledTime: NOW - 7 * 3_600_000 });

    await sendBatch([aRecord(aJob()), aRecord(stale, 1, 'old'), aRecord('{}', 1, 'bad')], w.deps);

    const info = log.entries.filter((entry) => entry.level === 'info');
    expect(info.filter((entry) => entry.message === BATCH_LOG_MESSAGE)).toEqual([
      {
        level: 'info',
        message: BATCH_LOG_MESSAGE,
        jobs: 3,
        pages: 1,
        sent: 1,
        skipped: { stale: 1 },
        deferred: {},
        refused: 0,
        retried: 1,
      },
    ]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'debug', message: 'send job skipped', reason: 'stale' }),
    );
    expect(info.map((entry) => entry.message)).not.toContain('send job skipped');
  });
});

describe('sendBatch: bad input and failures', () => {
  it('rejects a poison job and still sends the rest of the batch', async () => {
    const w = world();

    const results = await sendBatch(
      [aRecord('{"pageId":1}', 1, 'bad'), aRecord(aJob(), 1, 'good')],
      w.deps,
    );

    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(PoisonJobError) });
    expect(results[1]).toMatchObject({ status: 'fulfilled', value: { kind: 'sent' } });
  });

  it('rejects every job when the batch cannot be loaded, having sent nothing', async () => {
    const w = world();
    w.deps.subscriptions.getMany = async () => {
      throw new Error('DynamoDB is down');
    };

    const results = await sendBatch(
      [aRecord(aJob(), 1, 'a'), aRecord(aJob({ psid: 'p2' }), 1, 'b')],
      w.deps,
    );

    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(w.sent).toHaveLength(0);
  });

  it('writes once per send: the claim records the slot and the send time', async () => {
    const w = world();

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent' });
    expect(w.writes()).toEqual([{ kind: 'claim', psid: 'p1' }]);
  });
});
