import { describe, expect, it } from 'vitest';
import {
  classifyMetaError,
  type MetaErrorEntry,
  metaErrorFor,
  metaRefusalFor,
} from '#lib/domain/meta-errors.ts';

type Row = [string, { code: number; subcode?: number }, MetaErrorEntry];

const none = {
  subscription: 'none',
  page: 'none',
  slot: 'none',
  everyHolder: false,
  transient: false,
} as const;
const invalid = { ...none, subscription: 'invalid', everyHolder: true } as const;

/** META_PLATFORM.md section 5, the errors Recurrent knows, on a send. */
const ON_A_SEND: Row[] = [
  ['4/2018354', { code: 4, subcode: 2018354 }, { outcome: 'cooldown', ...none }],
  // Section 5: 2300052 is a conversation gap, not a cooldown (it was read as one before).
  ['2300052', { code: 2300052 }, { outcome: 'conversation-gap', ...none, slot: 'skip' }],
  [
    '100/2300052',
    { code: 100, subcode: 2300052 },
    { outcome: 'conversation-gap', ...none, slot: 'skip' },
  ],
  ['613/2018354', { code: 613, subcode: 2018354 }, { outcome: 'cooldown', ...none }],
  [
    '10/1893015',
    { code: 10, subcode: 1893015 },
    { outcome: 'stopped', ...none, subscription: 'stopped' },
  ],
  ['100', { code: 100 }, { outcome: 'invalid-token', ...invalid }],
  ['100/2018001', { code: 100, subcode: 2018001 }, { outcome: 'invalid-token', ...invalid }],
  ['551', { code: 551 }, { outcome: 'unreachable', ...none, subscription: 'unreachable' }],
  [
    '551/1',
    { code: 551, subcode: 1 },
    { outcome: 'unreachable', ...none, subscription: 'unreachable' },
  ],
  [
    '200/1545041',
    { code: 200, subcode: 1545041 },
    { outcome: 'unreachable', ...none, subscription: 'unreachable' },
  ],
  [
    '10/2018108',
    { code: 10, subcode: 2018108 },
    { outcome: 'unreachable', ...none, subscription: 'unreachable' },
  ],
  ['190', { code: 190 }, { outcome: 'page-token-invalid', ...none, page: 'pause' }],
  [
    '10/1893063',
    { code: 10, subcode: 1893063 },
    { outcome: 'page-restricted', ...none, page: 'pause' },
  ],
  ['368', { code: 368 }, { outcome: 'page-restricted', ...none, page: 'pause' }],
  ['200', { code: 200 }, { outcome: 'page-permission', ...none, page: 'pause' }],
  ['200/33', { code: 200, subcode: 33 }, { outcome: 'page-permission', ...none, page: 'pause' }],
  ['4', { code: 4 }, { outcome: 'rate-limited', ...none, page: 'rate-hold' }],
  ['17', { code: 17 }, { outcome: 'rate-limited', ...none, page: 'rate-hold' }],
  ['32', { code: 32 }, { outcome: 'rate-limited', ...none, page: 'rate-hold' }],
  ['613', { code: 613 }, { outcome: 'rate-limited', ...none, page: 'rate-hold' }],
  [
    '613/1893016',
    { code: 613, subcode: 1893016 },
    { outcome: 'rate-limited', ...none, page: 'rate-hold' },
  ],
  ['80006', { code: 80006 }, { outcome: 'rate-limited', ...none, page: 'rate-hold' }],
  ['1', { code: 1 }, { outcome: 'transient', ...none, transient: true }],
  ['2', { code: 2 }, { outcome: 'transient', ...none, transient: true }],
  ['10 alone', { code: 10 }, { outcome: 'unknown', ...none }],
  ['10/2534022', { code: 10, subcode: 2534022 }, { outcome: 'unknown', ...none }],
  ['9/2018352', { code: 9, subcode: 2018352 }, { outcome: 'unknown', ...none }],
  ['9999', { code: 9999 }, { outcome: 'unknown', ...none }],
];

/** Every number of a range of section 5, both ends included. */
function range(from: number, to = from): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The MM API's numbers of section 5 and what each does, whatever form they come in. */
const MM_NUMBERS: [number[], MetaErrorEntry][] = [
  [range(2300035), { outcome: 'cooldown', ...none }],
  [[2300036, 2300052, 1893047], { outcome: 'conversation-gap', ...none, slot: 'skip' }],
  [range(2300042, 2300044), { outcome: 'frequency-cap', ...none, slot: 'skip' }],
  [range(2300078), { outcome: 'rate-limited', ...none, page: 'rate-hold' }],
  [range(2300034), { outcome: 'stopped', ...none, subscription: 'stopped', everyHolder: true }],
  [[2300004, 2300037], { outcome: 'invalid-token', ...invalid }],
  [
    [...range(2300000, 2300003), 2300012, 2300028, 2300041],
    { outcome: 'campaign-not-ready', ...none, page: 'mm-hold' },
  ],
  [
    [2300007, 2300011, ...range(2300015, 2300017), ...range(2300053, 2300063)],
    { outcome: 'budget', ...none, page: 'mm-hold' },
  ],
  [
    [2300005, 2300013, 2300019, ...range(2300064, 2300067), 2300069],
    { outcome: 'onboarding', ...none, page: 'pause' },
  ],
  [range(2300030, 2300032), { outcome: 'region', ...none, slot: 'skip' }],
  [
    [
      2300018,
      ...range(2300021, 2300027),
      2300038,
      ...range(2300046, 2300048),
      ...range(2300070, 2300077),
    ],
    { outcome: 'message-invalid', ...none, slot: 'fail' },
  ],
];

/** Each MM number as the code, as a subcode under code 100, and under another code. */
const MM_ON_A_SEND: Row[] = MM_NUMBERS.flatMap(([numbers, entry]) =>
  numbers.flatMap((number): Row[] => [
    [String(number), { code: number }, entry],
    [`100/${number}`, { code: 100, subcode: number }, entry],
    [`10/${number}`, { code: 10, subcode: number }, entry],
  ]),
);

/** The admin API's calls read the opt-in request's own errors first, then the same table. */
const ON_AN_ADMIN_CALL: Row[] = [
  ['10/2534022', { code: 10, subcode: 2534022 }, { outcome: 'outside-window', ...none }],
  ['10/2018278', { code: 10, subcode: 2018278 }, { outcome: 'outside-window', ...none }],
  ['613/1893016', { code: 613, subcode: 1893016 }, { outcome: 'opt-in-too-soon', ...none }],
  ['9/2018352', { code: 9, subcode: 2018352 }, { outcome: 'opt-in-rate-limited', ...none }],
  ['10/1404170', { code: 10, subcode: 1404170 }, { outcome: 'page-barred', ...none }],
  ['100/2018001', { code: 100, subcode: 2018001 }, { outcome: 'person-unknown', ...none }],
  ['613', { code: 613 }, { outcome: 'rate-limited', ...none, page: 'rate-hold' }],
  ['100', { code: 100 }, { outcome: 'invalid-token', ...invalid }],
  ['190', { code: 190 }, { outcome: 'page-token-invalid', ...none, page: 'pause' }],
  ['4/2018354', { code: 4, subcode: 2018354 }, { outcome: 'cooldown', ...none }],
  ['2', { code: 2 }, { outcome: 'transient', ...none, transient: true }],
];

describe('metaErrorFor', () => {
  it.each(ON_A_SEND)('reads %s on a send', (_, error, entry) => {
    expect(metaErrorFor(error)).toEqual(entry);
    expect(metaErrorFor(error, 'send')).toEqual(entry);
    expect(classifyMetaError(error)).toBe(entry.outcome);
  });

  it.each(MM_ON_A_SEND)('reads the MM error %s on a send', (_, error, entry) => {
    expect(metaErrorFor(error)).toEqual(entry);
  });

  it('knows every number of section 5, each in one row', () => {
    const numbers = MM_NUMBERS.flatMap(([list]) => list);

    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers).toHaveLength(65);
  });

  it.each(ON_AN_ADMIN_CALL)('reads %s on an admin call', (_, error, entry) => {
    expect(metaErrorFor(error, 'admin')).toEqual(entry);
  });
});

describe('metaRefusalFor', () => {
  it.each([
    ['a known error, whatever the status', 503, { code: 100 }, 'invalid-token'],
    ['an unknown error on a 5xx as transient', 500, { code: 9999 }, 'transient'],
    ['no error body on a 5xx as transient', 502, undefined, 'transient'],
    ['an unknown error on a 4xx as unknown', 400, { code: 9999 }, 'unknown'],
    ['no error body on a 4xx as unknown', 404, undefined, 'unknown'],
  ] as const)('reads %s', (_, status, error, outcome) => {
    const entry = metaRefusalFor(status, error);

    expect(entry.outcome).toBe(outcome);
    expect(entry.transient).toBe(outcome === 'transient');
  });
});
