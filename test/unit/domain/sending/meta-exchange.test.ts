import { describe, expect, it } from 'vitest';
import { routeCooldownMs } from '#lib/domain/cooldown.ts';
import { refusalVerdict } from '#lib/domain/sending/meta-exchange.ts';
import { SENT_AT_MARGIN_MS } from '#lib/domain/sending/page-pacing.ts';
import {
  BOUNDARY_RETRY_MS,
  CAMPAIGN_HOLD_MS,
  FREQUENCY_CAP_REST_MS,
  RATE_LIMIT_HOLD_MS,
} from '#lib/domain/sending/retry-policy.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { SendFailedError } from '#lib/domain/sending/send-outcome.ts';
import {
  aJob,
  aPage,
  aRecord,
  aSubscription,
  HOUR_MS,
  NOW,
  refused,
  SLOT,
  values,
  world,
} from './sender-world.ts';

describe('sendBatch: request shapes', () => {
  it('sends over the Marketing Message API with the campaign of the Page', async () => {
    const w = world({
      pages: [aPage({ deliveryRoute: 'marketing_messages', adAccountId: '77', campaignId: 'c9' })],
    });

    await sendBatch([aRecord(aJob())], w.deps);

    expect(w.sent[0]?.request).toMatchObject({
      route: 'marketing_messages',
      adAccountId: '77',
      campaignId: 'c9',
      token: 'tok-p1',
    });
  });
});

describe('sendBatch: Meta refusals', () => {
  it('retries a token cooldown from the next eligible time Meta gives', async () => {
    const w = world({
      answer: () => ({
        kind: 'refused',
        status: 400,
        error: { code: 4, subcode: 2018354, nextEligibleAt: NOW + 90_000 },
      }),
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'meta-cooldown', delayMs: 90_000 });
    expect(w.subscription()?.lastSlot).toBeUndefined();
  });

  it('retries shortly when Meta finds a send early that by our record was on time', async () => {
    const w = world({
      subscriptions: [aSubscription({ lastSentAt: NOW - routeCooldownMs('send_api') })],
      answer: () => refused(4, 2018354),
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({
      kind: 'deferred',
      reason: 'meta-cooldown',
      delayMs: BOUNDARY_RETRY_MS,
    });
    expect(w.subscription()?.lastSentAt).toBe(NOW - routeCooldownMs('send_api'));
  });

  it('retries a token cooldown after the route cooldown when Meta gives no time', async () => {
    const w = world({
      pages: [aPage({ deliveryRoute: 'marketing_messages', adAccountId: '7', campaignId: 'c' })],
      answer: () => refused(2300035),
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({
      kind: 'deferred',
      delayMs: routeCooldownMs('marketing_messages'),
    });
  });

  it('stops the Page for a while on a rate limit that names no time', async () => {
    const w = world({ answer: () => refused(613) });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'meta-rate-limited' });
    expect(w.pressures).toEqual([
      { pageId: '1001', kind: 'stop', until: NOW + RATE_LIMIT_HOLD_MS },
    ]);
  });

  it.each([
    [10, 1893015, 'stopped'],
    [100, undefined, 'invalid'],
    [551, undefined, 'unreachable'],
  ] as const)(
    'marks the subscription on %i/%s as %s and releases its claim',
    async (code, subcode, status) => {
      const w = world({ answer: () => refused(code, subcode) });

      const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

      expect(outcome).toMatchObject({ kind: 'refused', action: status });
      expect(w.subscription()?.status).toBe(status);
      expect(w.subscription()?.lastSlot).toBeUndefined();
    },
  );

  it('pauses the Page on a Page-level error and acknowledges the job', async () => {
    const w = world({ answer: () => refused(190) });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'refused', action: 'page-paused' });
    expect(w.page()).toMatchObject({
      status: 'paused',
      pausedReason: expect.stringContaining('trace'),
    });
  });

  it('backs off transient errors longer with every receive, then fails the record', async () => {
    const delays: number[] = [];
    for (const receiveCount of [1, 2, 3, 4]) {
      const w = world({ answer: () => refused(1, undefined, 500) });
      const [outcome] = values(await sendBatch([aRecord(aJob(), receiveCount)], w.deps));
      if (outcome?.kind === 'deferred') delays.push(outcome.delayMs);
    }
    const last = world({ answer: () => refused(1, undefined, 500) });

    const [result] = await sendBatch([aRecord(aJob(), 5)], last.deps);

    expect(delays).toEqual([3_750, 7_500, 15_000, 30_000]);
    expect(result).toMatchObject({ status: 'rejected', reason: expect.any(SendFailedError) });
    expect(last.subscription()?.lastSlot).toBeUndefined();
  });

  it('counts a request that left without an answer as sent, and one that never left as transient', async () => {
    const left = world({
      answer: () => ({ kind: 'unanswered', requestLeft: true, cause: 'TimeoutError' }),
    });
    const notLeft = world({
      answer: () => ({ kind: 'unanswered', requestLeft: false, cause: 'ECONNREFUSED' }),
    });

    const [sent] = values(await sendBatch([aRecord(aJob())], left.deps));
    const [retried] = values(await sendBatch([aRecord(aJob())], notLeft.deps));

    expect(sent).toMatchObject({ kind: 'sent', confirmed: false });
    expect(left.subscription()).toMatchObject({
      lastSlot: SLOT,
      lastSentAt: NOW + SENT_AT_MARGIN_MS,
    });
    expect(retried).toMatchObject({ kind: 'deferred', reason: 'transient' });
    expect(notLeft.subscription()?.lastSlot).toBeUndefined();
  });
});

describe('refusalVerdict: META_PLATFORM.md section 5, the rows the code knows', () => {
  const page = aPage();
  const marketing = aPage({
    deliveryRoute: 'marketing_messages',
    adAccountId: '7',
    campaignId: 'c',
  });
  const subscription = aSubscription();
  /** Before the legacy switch-off, unless a row says otherwise. */
  const before = { legacySwitchOffAt: NOW + 1 };
  const after = { legacySwitchOffAt: NOW };
  const cooldownFromNow = NOW + routeCooldownMs('send_api');
  const hold = NOW + RATE_LIMIT_HOLD_MS;
  // NOW is 10:00:30 in Paris (the Page's zone): the next day starts at 23:00 UTC.
  const NEXT_DAY_IN_PARIS = Date.parse('2026-11-21T23:00:00Z');
  const reason = (code: string, status: number, outcome: string) =>
    `meta error ${code} (HTTP ${status}, fbtrace_id trace): ${outcome}`;

  it.each([
    // token cooldown not over: reschedule this token
    [
      '4/2018354',
      refused(4, 2018354),
      { kind: 'defer', reason: 'meta-cooldown', retryAt: cooldownFromNow },
    ],
    [
      '2300035 as a code',
      refused(2300035),
      { kind: 'defer', reason: 'meta-cooldown', retryAt: cooldownFromNow },
    ],
    [
      '100/2300035',
      refused(100, 2300035),
      { kind: 'defer', reason: 'meta-cooldown', retryAt: cooldownFromNow },
    ],
    // conversation gap (2300052 was read as a cooldown before section 5 named it): skip the slot
    ...[2300036, 2300052, 1893047].flatMap((code) => [
      [
        `${code} as a code`,
        refused(code),
        {
          kind: 'skip',
          reason: 'conversation-gap',
          detail: reason(`${code}/-`, 400, 'conversation-gap'),
        },
      ] as const,
      [`100/${code}`, refused(100, code), { kind: 'skip', reason: 'conversation-gap' }] as const,
    ]),
    // frequency caps: skip the slot, no retry of the person for a day
    ...[2300042, 2300043, 2300044].flatMap((code) => [
      [
        `${code} as a code`,
        refused(code),
        {
          kind: 'cap',
          until: NOW + FREQUENCY_CAP_REST_MS,
          reason: reason(`${code}/-`, 400, 'frequency-cap'),
        },
      ] as const,
      [`100/${code}`, refused(100, code), { kind: 'cap' }] as const,
    ]),
    // MM send rate: hold the Page like every rate limit
    ['2300078', refused(2300078), { kind: 'defer', reason: 'meta-rate-limited', retryAt: hold }],
    [
      '100/2300078',
      refused(100, 2300078),
      { kind: 'defer', reason: 'meta-rate-limited', retryAt: hold },
    ],
    // MM stop and dead MM tokens: every subscription that holds the token
    [
      '2300034',
      refused(2300034),
      {
        kind: 'mark',
        status: 'stopped',
        everyHolder: true,
        reason: reason('2300034/-', 400, 'stopped'),
      },
    ],
    ['100/2300034', refused(100, 2300034), { kind: 'mark', status: 'stopped', everyHolder: true }],
    ...[2300004, 2300037].flatMap((code) => [
      [
        `${code} as a code`,
        refused(code),
        { kind: 'mark', status: 'invalid', everyHolder: true },
      ] as const,
      [
        `100/${code}`,
        refused(100, code),
        { kind: 'mark', status: 'invalid', everyHolder: true },
      ] as const,
    ]),
    // campaign not ready: hold the Page's MM sends about an hour
    ...[2300000, 2300001, 2300002, 2300003, 2300012, 2300028, 2300041].map(
      (code) =>
        [
          `${code} (campaign not ready)`,
          refused(100, code),
          {
            kind: 'hold-page',
            until: NOW + CAMPAIGN_HOLD_MS,
            reason: reason(`100/${code}`, 400, 'campaign-not-ready'),
          },
        ] as const,
    ),
    // budget, payment, spend limit: hold until the next day in the Page's zone
    ...[2300007, 2300011, 2300015, 2300017, 2300053, 2300060, 2300063].map(
      (code) =>
        [
          `${code} (budget)`,
          refused(code),
          {
            kind: 'hold-page',
            until: NEXT_DAY_IN_PARIS,
            reason: reason(`${code}/-`, 400, 'budget'),
          },
        ] as const,
    ),
    // onboarding: pause the Page with the reason
    ...[2300005, 2300013, 2300019, 2300064, 2300067, 2300069].map(
      (code) =>
        [
          `${code} (onboarding)`,
          refused(code),
          { kind: 'pause-page', reason: reason(`${code}/-`, 400, 'onboarding') },
        ] as const,
    ),
    // region: skip the slot, with the reason
    ...[2300030, 2300031, 2300032].map(
      (code) =>
        [
          `${code} (region)`,
          refused(100, code),
          { kind: 'skip', reason: 'region', detail: reason(`100/${code}`, 400, 'region') },
        ] as const,
    ),
    // message or creative invalid: fail to the DLQ with the reason
    ...[2300018, 2300021, 2300027, 2300038, 2300046, 2300048, 2300070, 2300077].map(
      (code) =>
        [
          `${code} (message invalid)`,
          refused(code),
          { kind: 'fail', reason: reason(`${code}/-`, 400, 'message-invalid') },
        ] as const,
    ),
    // rate limited: hold the Page
    ['4', refused(4), { kind: 'defer', reason: 'meta-rate-limited', retryAt: hold }],
    ['17', refused(17), { kind: 'defer', reason: 'meta-rate-limited', retryAt: hold }],
    ['32', refused(32), { kind: 'defer', reason: 'meta-rate-limited', retryAt: hold }],
    ['613', refused(613), { kind: 'defer', reason: 'meta-rate-limited', retryAt: hold }],
    [
      '613/1893016 (an opt-in error, a rate limit on a send)',
      refused(613, 1893016),
      { kind: 'defer', reason: 'meta-rate-limited', retryAt: hold },
    ],
    ['80006', refused(80006), { kind: 'defer', reason: 'meta-rate-limited', retryAt: hold }],
    // person stopped, dead token, unreachable: the subscription's status
    [
      '10/1893015',
      refused(10, 1893015),
      { kind: 'mark', status: 'stopped', reason: reason('10/1893015', 400, 'stopped') },
    ],
    [
      '100',
      refused(100),
      { kind: 'mark', status: 'invalid', reason: reason('100/-', 400, 'invalid-token') },
    ],
    ['100/2018001', refused(100, 2018001), { kind: 'mark', status: 'invalid' }],
    [
      '551',
      refused(551),
      { kind: 'mark', status: 'unreachable', reason: reason('551/-', 400, 'unreachable') },
    ],
    ['200/1545041', refused(200, 1545041), { kind: 'mark', status: 'unreachable' }],
    ['10/2018108', refused(10, 2018108), { kind: 'mark', status: 'unreachable' }],
    // Page token invalid, restricted, policy block, permissions: pause the Page
    [
      '190',
      refused(190),
      { kind: 'pause-page', reason: reason('190/-', 400, 'page-token-invalid') },
    ],
    [
      '10/1893063',
      refused(10, 1893063),
      { kind: 'pause-page', reason: reason('10/1893063', 400, 'page-restricted') },
    ],
    ['368', refused(368), { kind: 'pause-page', reason: reason('368/-', 400, 'page-restricted') }],
    ['200', refused(200), { kind: 'pause-page', reason: reason('200/-', 400, 'page-permission') }],
    // 1, 2, HTTP 5xx: transient
    [
      '1',
      refused(1, undefined, 500),
      { kind: 'transient', reason: reason('1/-', 500, 'transient') },
    ],
    ['2', refused(2), { kind: 'transient', reason: reason('2/-', 400, 'transient') }],
    [
      'an unknown code on a 5xx',
      refused(9999, undefined, 503),
      { kind: 'transient', reason: reason('9999/-', 503, 'transient') },
    ],
    [
      'a 5xx without an error body',
      { kind: 'refused', status: 502 } as const,
      { kind: 'transient', reason: 'meta error no error body (HTTP 502): transient' },
    ],
    // anything else: fails, before the legacy switch-off
    ['an unknown code', refused(9999), { kind: 'fail', reason: reason('9999/-', 400, 'unknown') }],
    [
      'a 4xx without an error body',
      { kind: 'refused', status: 400 } as const,
      { kind: 'fail', reason: 'meta error no error body (HTTP 400): unknown' },
    ],
    ['10/2534022 (an opt-in error, unknown to a send)', refused(10, 2534022), { kind: 'fail' }],
  ] as const)('%s', (_, result, expected) => {
    expect(refusalVerdict(result, { page, subscription, now: NOW, options: before })).toMatchObject(
      expected,
    );
  });

  it('pauses the Page on an unknown error on a legacy send after the switch-off', () => {
    expect(refusalVerdict(refused(9999), { page, subscription, now: NOW, options: after })).toEqual(
      {
        outcome: 'unknown',
        kind: 'pause-page',
        reason: `${reason('9999/-', 400, 'unknown')}: legacy sends are switched off for this audience; the Page needs the Marketing Message API`,
      },
    );
  });

  it('fails an unknown error on the Marketing Message API even after the switch-off', () => {
    expect(
      refusalVerdict(refused(9999), { page: marketing, subscription, now: NOW, options: after }),
    ).toMatchObject({ kind: 'fail' });
  });

  it.each([
    ['a cooldown', 2300035, { kind: 'defer', reason: 'meta-cooldown', retryAt: NOW + 90_000 }],
    [
      'a rate limit',
      2300078,
      { kind: 'defer', reason: 'meta-rate-limited', retryAt: NOW + 90_000 },
    ],
    ['a campaign not ready', 2300002, { kind: 'hold-page', until: NOW + 90_000 }],
    ['a budget spent', 2300057, { kind: 'hold-page', until: NOW + 90_000 }],
    ['a frequency cap', 2300043, { kind: 'cap', until: NOW + 90_000 }],
  ] as const)('takes remaining_seconds first for %s', (_, code, expected) => {
    const result = {
      ...refused(100, code),
      error: { code: 100, subcode: code, remainingMs: 90_000, nextEligibleAt: NOW + 5_000 },
      usage: { percent: 100, regainAccessMs: 600_000 },
    };

    expect(
      refusalVerdict(result, { page: marketing, subscription, now: NOW, options: after }),
    ).toMatchObject(expected);
  });

  it('waits as long as the rate limit error says to regain access', () => {
    const result = { ...refused(613), usage: { percent: 100, regainAccessMs: 120_000 } };

    expect(refusalVerdict(result, { page, subscription, now: NOW, options: before })).toEqual({
      outcome: 'rate-limited',
      kind: 'defer',
      reason: 'meta-rate-limited',
      retryAt: NOW + 120_000,
    });
  });

  it.each([
    [
      'when Meta names the next eligible time',
      { ...refused(4, 2018354), error: { code: 4, subcode: 2018354, nextEligibleAt: NOW + 5_000 } },
      undefined,
      NOW + 5_000,
    ],
    [
      'shortly, at the boundary of our own cooldown',
      refused(4, 2018354),
      NOW - routeCooldownMs('send_api'),
      NOW + BOUNDARY_RETRY_MS,
    ],
    [
      'a whole cooldown on, well past our own',
      refused(4, 2018354),
      NOW - routeCooldownMs('send_api') - HOUR_MS,
      cooldownFromNow,
    ],
    [
      'a whole cooldown on, when by our record the cooldown was not over',
      refused(4, 2018354),
      NOW - 1_000,
      cooldownFromNow,
    ],
  ] as const)('retries a token cooldown %s', (_, result, lastSentAt, retryAt) => {
    const last = aSubscription(lastSentAt === undefined ? {} : { lastSentAt });

    expect(
      refusalVerdict(result, { page, subscription: last, now: NOW, options: before }),
    ).toMatchObject({ kind: 'defer', reason: 'meta-cooldown', retryAt });
  });
});
