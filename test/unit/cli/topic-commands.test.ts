import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

describe('recurrent topics put --content-url and topics rotate-secret', () => {
  const topic = {
    pageId: '1001',
    topicId: 'deals',
    title: 'Deals',
    cadence: 'DAILY',
    effectiveCadence: 'every day',
  };

  it('puts --content-url over the file’s contentUrl', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'topic-'));
    const file = path.join(dir, 'topic.json');
    await writeFile(
      file,
      JSON.stringify({ topicId: 'deals', contentUrl: 'https://old.example.com' }),
    );

    const request = await command('topics put').build(
      { file, 'content-url': 'https://content.example.com/editions' },
      [],
      io,
    );

    expect(request.body).toEqual({ contentUrl: 'https://content.example.com/editions' });
  });

  it('prints a content secret only when the answer carries one', () => {
    const { render } = command('topics put');

    expect(render({ created: true, topic, contentSecret: 'abc123' }, {})).toContain(
      'content source secret (shown this once; keep it where the source can read it): abc123',
    );
    expect(render({ created: false, topic }, {})).not.toContain('content source secret');
  });

  it('posts the Page to the content-secret route and prints the new secret', async () => {
    const { build, render } = command('topics rotate-secret');

    const request = await build({ page: '1001', id: 'deals' }, [], io);

    expect(request).toMatchObject({
      method: 'POST',
      path: '/admin/topics/deals/content-secret',
      body: { pageId: '1001' },
    });
    expect(
      render({ pageId: '1001', topicId: 'deals', contentSecret: 'f00d', rotatedAt: 'x' }, {}),
    ).toContain('secret (shown this once; keep it where the source can read it): f00d');
  });
});
