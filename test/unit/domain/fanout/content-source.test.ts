import { describe, expect, it } from 'vitest';
import { CONTENT_SIGNATURE_HEADER, signContentBody } from '#lib/domain/content-source.ts';
import {
  type ContentAnswer,
  type ContentSourceDeps,
  readContentAnswer,
  withContentEditions,
} from '#lib/domain/fanout/content-source.ts';
import type { PagePlan } from '#lib/domain/fanout/run-fanout.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { captureLog } from '../../../support/capture-log.ts';
import { aTopic as aSharedTopic } from '../../../support/fixtures.ts';
import { memoryContentEditions, memoryEditions } from '../../../support/memory-editions.ts';

const answered = (status: number, body: unknown = ''): ContentAnswer => ({
  kind: 'answered',
  status,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('readContentAnswer', () => {
  it.each<[string, ContentAnswer, unknown]>([
    [
      '200 with a good message: the edition',
      answered(200, { message: { text: 'Socks -30 %' } }),
      { kind: 'edition', message: { text: 'Socks -30 %' } },
    ],
    ['204: no edition for the date', answered(204), { kind: 'none' }],
    [
      '200 that is not JSON: failed for good',
      answered(200, '<html>oops</html>'),
      { kind: 'failed', reason: 'answered 200 with a body that is not JSON', retry: false },
    ],
    [
      '200 without a message: failed for good',
      answered(200, { text: 'hi' }),
      { kind: 'failed', reason: 'answered 200 without a message', retry: false },
    ],
    [
      '200 with a message that is no Send API message: the field named',
      answered(200, { message: { text: 'a', colour: 'red' } }),
      { kind: 'failed', reason: expect.stringMatching(/^message/), retry: false },
    ],
    [
      '200 with a message Meta would refuse on the route: the rule named',
      answered(200, { message: { text: 'x'.repeat(641) } }),
      {
        kind: 'failed',
        reason: 'message.text: at most 640 characters on the Marketing Message route, got 641',
        retry: false,
      },
    ],
    ['500: transient', answered(500), { kind: 'failed', reason: 'answered 500', retry: true }],
    ['429: transient', answered(429), { kind: 'failed', reason: 'answered 429', retry: true }],
    [
      '404: failed for good',
      answered(404),
      { kind: 'failed', reason: 'answered 404', retry: false },
    ],
    [
      'a timeout: transient',
      { kind: 'timeout' },
      { kind: 'failed', reason: 'no answer within 3000 ms', retry: true },
    ],
    [
      'no connection: transient',
      { kind: 'unreachable', reason: 'ECONNREFUSED' },
      { kind: 'failed', reason: 'unreachable: ECONNREFUSED', retry: true },
    ],
  ])('%s', (_, answer, outcome) => {
    expect(readContentAnswer(answer, 'marketing_messages', 3000)).toEqual(outcome);
  });

  it('refuses a placeholder on the legacy route, as a save would', () => {
    const outcome = readContentAnswer(
      answered(200, { message: { text: 'Hi {{first_name}}' } }),
      'send_api',
      3000,
    );

    expect(outcome).toEqual(expect.objectContaining({ kind: 'failed', retry: false }));
  });
});

const ZONES = ['Pacific/Kiritimati', 'Europe/Paris', 'Pacific/Pago_Pago'];
// 20:00 UTC on 4 December: Kiritimati's 09:00 of the 5th (19:00 UTC), Pago Pago's 09:00 of the
// 4th (20:00 UTC), Paris's 09:00 of the 4th (08:00 UTC).
const WINDOW = {
  cadence: 'DAILY' as const,
  from: Date.parse('2026-12-04T07:45:00Z'),
  to: Date.parse('2026-12-04T20:00:00Z'),
  continued: false,
};

function aTopic(overrides: Partial<Topic> = {}): Topic {
  return aSharedTopic({ contentUrl: 'https://content.example.com/editions', ...overrides });
}

function aPlan(topics: Topic[]): PagePlan {
  return {
    page: {
      pageId: '1001',
      accessToken: 'page-token',
      deliveryRoute: 'marketing_messages',
      ratePerSecond: 20,
      timezone: 'UTC',
      status: 'active',
    },
    topics,
    zones: new Map(
      topics.map((topic) => [topic.topicId, ZONES.map((zone) => ({ cadence: 'DAILY', zone }))]),
    ),
  };
}

/** A content source that answers from a script, recording every request it got. */
function aSource(answer: (request: { date: string; topicId: string }) => ContentAnswer) {
  const editions = memoryEditions();
  const calls: { url: string; body: string; headers: Record<string, string> }[] = [];
  const sleeps: number[] = [];
  const contentSource: ContentSourceDeps = {
    client: {
      async post(url, request) {
        calls.push({ url, body: request.body, headers: request.headers });
        return answer(JSON.parse(request.body));
      },
    },
    secrets: { get: async ({ topicId }) => (topicId === 'unsigned' ? undefined : 'the-secret') },
    editions: memoryContentEditions(editions),
    timeoutMs: 3000,
    retries: 2,
    backoffMs: 100,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  const log = captureLog();
  const deps = { contentSource, editions, log, timeLeft: () => Number.POSITIVE_INFINITY };
  return { editions, calls, sleeps, log, deps };
}

describe('withContentEditions', () => {
  it("asks once per date the window's slots fall on, signed, and stores each answer", async () => {
    const source = aSource(({ date }) => answered(200, { message: { text: `Deal of ${date}` } }));

    await withContentEditions([aPlan([aTopic()])], WINDOW, source.deps);

    expect(source.calls.map((call) => JSON.parse(call.body))).toEqual([
      { pageId: '1001', topicId: 'deals', date: '2026-12-04', cadence: 'DAILY' },
      { pageId: '1001', topicId: 'deals', date: '2026-12-05', cadence: 'DAILY' },
    ]);
    for (const call of source.calls) {
      expect(call.url).toBe('https://content.example.com/editions');
      expect(call.headers[CONTENT_SIGNATURE_HEADER]).toBe(signContentBody(call.body, 'the-secret'));
      expect(call.headers['content-type']).toBe('application/json');
    }
    expect([...source.editions.items.values()].map((e) => [e.date, e.message])).toEqual([
      ['2026-12-04', { text: 'Deal of 2026-12-04' }],
      ['2026-12-05', { text: 'Deal of 2026-12-05' }],
    ]);
  });

  it('asks nothing for a date that has its edition, and keeps one stored meanwhile', async () => {
    const source = aSource(() => answered(200, { message: { text: 'from the source' } }));
    await source.editions.put(
      { pageId: '1001', topicId: 'deals', date: '2026-12-04', message: { text: 'by hand' } },
      0,
    );
    // Another run stores the 5th between this run's read and its write.
    const racing = source.deps.contentSource.editions;
    source.deps.contentSource.editions = {
      async create(edition, at) {
        await source.editions.put({ ...edition, message: { text: 'the other run' } }, at);
        return racing.create(edition, at);
      },
    };

    await withContentEditions([aPlan([aTopic()])], WINDOW, source.deps);

    expect(source.calls.map((call) => JSON.parse(call.body).date)).toEqual(['2026-12-05']);
    expect(source.editions.items.get('1001#deals#2026-12-04')?.message).toEqual({
      text: 'by hand',
    });
    expect(source.editions.items.get('1001#deals#2026-12-05')?.message).toEqual({
      text: 'the other run',
    });
    expect(source.log.entries).toContainEqual(
      expect.objectContaining({
        message: 'content source edition kept: another run stored one first',
        date: '2026-12-05',
      }),
    );
  });

  it('stores nothing on 204', async () => {
    const source = aSource(() => answered(204));

    await withContentEditions([aPlan([aTopic()])], WINDOW, source.deps);

    expect(source.calls).toHaveLength(2);
    expect(source.editions.items.size).toBe(0);
    expect(source.log.entries.filter((e) => e.level === 'error')).toEqual([]);
  });

  it('retries a failing source twice with growing waits, then logs the failure once per date', async () => {
    const source = aSource(() => answered(503));

    await withContentEditions([aPlan([aTopic({ whenNoEdition: 'skip' })])], WINDOW, source.deps);

    expect(source.calls).toHaveLength(6);
    expect(source.sleeps).toEqual([100, 200, 100, 200]);
    expect(source.editions.items.size).toBe(0);
    const failures = source.log.entries.filter((e) => e.message === 'content source failed');
    expect(failures).toEqual([
      expect.objectContaining({ date: '2026-12-04', reason: 'answered 503', attempts: 3 }),
      expect.objectContaining({ date: '2026-12-05', reason: 'answered 503', attempts: 3 }),
    ]);
    expect(failures[0]).toEqual(expect.objectContaining({ whenNoEdition: 'skip' }));
    expect(source.log.lines.join('\n')).not.toContain('the-secret');
  });

  it('does not retry an answer that will not get better', async () => {
    const source = aSource(() => answered(200, 'not json'));

    await withContentEditions([aPlan([aTopic()])], WINDOW, source.deps);

    expect(source.calls).toHaveLength(2);
    expect(source.sleeps).toEqual([]);
  });

  it("stops asking a topic's source once its time is spent", async () => {
    let left = 300_000;
    const source = aSource(() => {
      left -= 3_000;
      return { kind: 'timeout' };
    });

    await withContentEditions([aPlan([aTopic()])], WINDOW, {
      ...source.deps,
      timeLeft: () => left,
    });

    // 3 s a try: the first date's three tries, then the second date's until 12 s are spent.
    expect(source.calls).toHaveLength(5);
    expect(source.log.entries.filter((e) => e.message === 'content source failed')).toHaveLength(2);
  });

  it('leaves other topics alone, and asks nothing in a continuation, of a paused topic or without a secret', async () => {
    const source = aSource(() => answered(200, { message: { text: 'x' } }));
    const plans = [
      aPlan([
        aTopic({ topicId: 'plain', contentUrl: undefined }),
        aTopic({
          topicId: 'held',
          paused: { at: 0, reason: 'r', sends: 1, stops: 1, ratePercent: 1, thresholdPercent: 1 },
        }),
        aTopic({ topicId: 'unsigned' }),
      ]),
    ];

    await withContentEditions(plans, { ...WINDOW, continued: true }, source.deps);
    await withContentEditions(plans, WINDOW, source.deps);

    expect(source.calls).toEqual([]);
    expect(source.log.entries.filter((e) => e.message === 'content source failed')).toEqual([
      expect.objectContaining({ topicId: 'unsigned', date: '2026-12-04', attempts: 0 }),
      expect.objectContaining({ topicId: 'unsigned', date: '2026-12-05', attempts: 0 }),
    ]);
  });
});
