import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../cli/commands.ts';

const io = { env: {}, stdout: () => {}, stderr: () => {}, readStdin: async () => '' };
const pause = {
  at: Date.parse('2026-12-01T14:20:00Z'),
  reason: "7 stops and blocks over 200 sends in 24 h (3.5 %), above the topic's 3 %",
  sends: 200,
  stops: 7,
  ratePercent: 3.5,
  thresholdPercent: 3,
};

function command(name: string) {
  const found = COMMANDS[name];
  if (!found) throw new Error(`no ${name} command`);
  return found;
}

describe('recurrent topics resume', () => {
  it('posts the Page to the topic’s resume route', async () => {
    const request = await command('topics resume').build({ page: '1001', id: 'deals' }, [], io);

    expect(request).toMatchObject({
      method: 'POST',
      path: '/admin/topics/deals/resume',
      body: { pageId: '1001' },
    });
  });

  it('says what paused the topic it resumed, or that it was not paused', () => {
    const { render } = command('topics resume');

    expect(render({ pageId: '1001', topicId: 'deals', resumed: true, pause }, {})).toBe(
      `Topic deals of Page 1001 resumed; it was paused at 2026-12-01T14:20:00.000Z: ${pause.reason}.`,
    );
    expect(render({ pageId: '1001', topicId: 'deals', resumed: false }, {})).toBe(
      'Topic deals of Page 1001 was not paused.',
    );
  });
});

describe('recurrent topics list', () => {
  it('names each paused topic under the table, with the numbers and how to resume it', () => {
    const topic = {
      pageId: '1001',
      title: 'Deals',
      cadence: 'DAILY',
      effectiveCadence: 'every day at 09:00',
    };
    const text = command('topics list').render(
      {
        items: [
          { ...topic, topicId: 'deals', paused: pause },
          { ...topic, topicId: 'news' },
        ],
      },
      { page: '1001' },
    );

    expect(text.split('\n').slice(-1)).toEqual([
      `PAUSED deals since 2026-12-01T14:20:00.000Z: ${pause.reason} (recurrent topics resume --page 1001 --id deals)`,
    ]);
    expect(text).not.toContain('PAUSED news');
  });
});
