import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/command.ts';
import { EDITION_COMMANDS, editionCalendar } from '../../../cli/edition-commands.ts';

const io = { env: {}, stdout: () => {}, stderr: () => {}, readStdin: async () => '' };
const anEdition = (date: string, fields: Record<string, unknown> = {}) => ({
  pageId: '1001',
  topicId: 'deals',
  date,
  message: { text: `Deal of ${date}` },
  updatedAt: '2026-11-30T10:00:00.000Z',
  ...fields,
});

describe('recurrent editions', () => {
  it('puts a text edition for one date', async () => {
    const command = EDITION_COMMANDS['editions put'];

    const call = await command?.build(
      { page: '1001', topic: 'deals', date: '2026-12-05', text: 'Socks -30 %' },
      [],
      io,
    );

    expect(call).toEqual({
      method: 'PUT',
      path: '/admin/topics/deals/editions/2026-12-05',
      body: { pageId: '1001', message: { text: 'Socks -30 %' } },
    });
  });

  it('wants exactly one of --text and --file', async () => {
    const command = EDITION_COMMANDS['editions put'];

    await expect(
      command?.build({ page: '1001', topic: 'deals', date: '2026-12-05' }, [], io),
    ).rejects.toThrow(UsageError);
  });

  it('lists a month from its first to its last day, and refuses a month that is none', () => {
    const command = EDITION_COMMANDS['editions list'];

    expect(command?.build({ page: '1001', topic: 'deals', month: '2028-02' }, [], io)).toEqual({
      method: 'GET',
      path: '/admin/topics/deals/editions',
      query: { pageId: '1001', from: '2028-02-01', to: '2028-02-29' },
    });
    expect(() =>
      command?.build({ page: '1001', topic: 'deals', month: '2026-13' }, [], io),
    ).toThrow('--month must be YYYY-MM, got "2026-13"');
  });

  it('shows the month as a calendar, Monday first, marking editions and those that went out', () => {
    const text = editionCalendar('2026-12', [
      anEdition('2026-12-01', {
        firstSentAt: '2026-11-30T19:00:00.000Z',
        results: { sent: 120, delivered: 118, read: 90, clicked: 12 },
      }),
      anEdition('2026-12-05'),
    ]);

    expect(text.split('\n')).toEqual([
      'December 2026  (e: edition, s: went out)',
      ' Mo  Tu  We  Th  Fr  Sa  Su',
      '      1s  2   3   4   5e  6',
      '  7   8   9  10  11  12  13',
      ' 14  15  16  17  18  19  20',
      ' 21  22  23  24  25  26  27',
      ' 28  29  30  31',
      '',
      'DATE        FIRST SENT                SENT  DELIVERED  READ  CLICKED  MESSAGE',
      '2026-12-01  2026-11-30T19:00:00.000Z   120        118    90       12  Deal of 2026-12-01',
      '2026-12-05  not yet                      0          0     0        0  Deal of 2026-12-05',
    ]);
  });
});
