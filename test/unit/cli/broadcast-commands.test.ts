import { describe, expect, it } from 'vitest';
import { BROADCAST_COMMANDS } from '../../../cli/broadcast-commands.ts';
import { UsageError } from '../../../cli/command.ts';

const io = { env: {}, stdout: () => {}, stderr: () => {}, readStdin: async () => '' };
const aBroadcast = (fields: Record<string, unknown> = {}) => ({
  broadcastId: '20261123T120000-a1b2c3d4',
  pageId: '1001',
  topicId: 'deals',
  state: 'done',
  message: { text: 'Flash sale' },
  date: '2026-11-24',
  localTime: '12:00',
  window: { from: '2026-11-23T22:00:00.000Z', to: '2026-11-24T15:30:00.000Z' },
  createdAt: '2026-11-23T12:00:00.000Z',
  counts: { sent: 4, failed: 0, skipped: { cooldown: 3 } },
  ...fields,
});

describe('recurrent broadcast', () => {
  it('sends a text broadcast at a local date and time', async () => {
    const call = await BROADCAST_COMMANDS.broadcast?.build(
      { page: '1001', topic: 'deals', text: 'Flash sale', date: '2026-11-24', time: '12:00' },
      [],
      io,
    );

    expect(call).toEqual({
      method: 'POST',
      path: '/admin/topics/deals/broadcasts',
      body: {
        pageId: '1001',
        message: { text: 'Flash sale' },
        date: '2026-11-24',
        localTime: '12:00',
      },
    });
  });

  it('sends one now', async () => {
    const call = await BROADCAST_COMMANDS.broadcast?.build(
      { page: '1001', topic: 'deals', text: 'Flash sale', now: true },
      [],
      io,
    );

    expect(call?.body).toEqual({ pageId: '1001', message: { text: 'Flash sale' }, now: true });
  });

  it.each([
    [{ text: 'x', now: true, date: '2026-11-24', time: '12:00' }],
    [{ text: 'x' }],
    [{ date: '2026-11-24', time: '12:00' }],
    [{ text: 'x', file: 'm.json', now: true }],
  ])('wants one message and one of --date/--time or --now: %j', async (values) => {
    await expect(
      BROADCAST_COMMANDS.broadcast?.build({ page: '1001', topic: 'deals', ...values }, [], io),
    ).rejects.toThrow(UsageError);
  });

  it('prints the id, the state and the window', () => {
    const text = BROADCAST_COMMANDS.broadcast?.render(
      { broadcast: aBroadcast({ state: 'scheduled' }) },
      {},
    );

    expect(text).toContain(
      'Broadcast 20261123T120000-a1b2c3d4 of topic deals: scheduled, 2026-11-24 12:00 local',
    );
    expect(text).toContain(
      'from 2026-11-23T22:00:00.000Z (first zone) to 2026-11-24T15:30:00.000Z (last zone)',
    );
  });

  it('lists broadcasts with their sends and skips by reason', () => {
    const text = BROADCAST_COMMANDS['broadcast list']?.render({ items: [aBroadcast()] }, {}) ?? '';

    expect(text.split('\n')[0]).toMatch(/^ID\s+STATE\s+WHEN/);
    expect(text).toMatch(/done\s+2026-11-24 12:00 local.*\s4\s+0\s+cooldown 3$/m);
  });

  it('cancels one by id', async () => {
    const call = await BROADCAST_COMMANDS['broadcast cancel']?.build(
      { page: '1001', topic: 'deals', id: '20261123T120000-a1b2c3d4' },
      [],
      io,
    );

    expect(call).toEqual({
      method: 'DELETE',
      path: '/admin/topics/deals/broadcasts/20261123T120000-a1b2c3d4',
      query: { pageId: '1001' },
    });
  });
});
