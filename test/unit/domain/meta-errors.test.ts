import { describe, expect, it } from 'vitest';
import {
  classifyMetaError,
  type MetaErrorEntry,
  metaErrorFor,
  metaRefusalFor,
} from '#lib/domain/meta-errors.ts';

type Row = [string, { code: number; subcode?: number }, MetaErrorEntry];

const none = { subscription: 'none', page: 'none', transient: false } as const;

/** META_PLATFORM.md section 5, the errors Recurrent knows, on a send. */
const ON_A_SEND: Row[] = [
  ['4/2018354', { code: 4, subcode: 2018354 }, { outcome: 'cooldown', ...none }],
  ['2300052', { code: 2300052 }, { outcome: 'cooldown', ...none }],
  ['100/2300052', { code: 100, subcode: 2300052 }, { outcome: 'cooldown', ...none }],
  ['613/2018354', { code: 613, subcode: 2018354 }, { outcome: 'cooldown', ...none }],
  [
    '10/1893015',
    { code: 10, subcode: 1893015 },
    { outcome: 'stopped', ...none, subscription: 'stopped' },
  ],
  ['100', { code: 100 }, { outcome: 'invalid-token', ...none, subscription: 'invalid' }],
  [
    '100/2018001',
    { code: 100, subcode: 2018001 },
    { outcome: 'invalid-token', ...none, subscription: 'invalid' },
  ],
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

/** The admin API's calls read the opt-in request's own errors first, then the same table. */
const ON_AN_ADMIN_CALL: Row[] = [
  ['10/2534022', { code: 10, subcode: 2534022 }, { outcome: 'outside-window', ...none }],
  ['10/2018278', { code: 10, subcode: 2018278 }, { outcome: 'outside-window', ...none }],
  ['613/1893016', { code: 613, subcode: 1893016 }, { outcome: 'opt-in-too-soon', ...none }],
  ['9/2018352', { code: 9, subcode: 2018352 }, { outcome: 'opt-in-rate-limited', ...none }],
  ['10/1404170', { code: 10, subcode: 1404170 }, { outcome: 'page-barred', ...none }],
  ['100/2018001', { code: 100, subcode: 2018001 }, { outcome: 'person-unknown', ...none }],
  ['613', { code: 613 }, { outcome: 'rate-limited', ...none, page: 'rate-hold' }],
  ['100', { code: 100 }, { outcome: 'invalid-token', ...none, subscription: 'invalid' }],
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
