import { describe, expect, it } from 'vitest';
import { perSecond, renderSenderChart, type SenderSeries } from '../../../bench/chart.ts';

const aSeries = (overrides: Partial<SenderSeries> = {}): SenderSeries => ({
  label: '1 Page at 100/s',
  configuredRate: 100,
  points: pointsOf([90, 100, 95]),
  ...overrides,
});

/** One point per second with the given sends, the queue draining by the same amount. */
function pointsOf(sent: readonly number[]): SenderSeries['points'] {
  const total = sent.reduce((sum, value) => sum + value, 0);
  let left = total;
  return sent.map((value, second) => {
    left -= value;
    return { second, sent: value, queueDepth: left };
  });
}

const panelsOf = (svg: string) => svg.split('<g class="panel"').slice(1);

const attribute = (element: string, name: string) =>
  Number(new RegExp(`\\s${name}="([^"]*)"`).exec(element)?.[1]);

const elementOf = (panel: string, pattern: RegExp) => pattern.exec(panel)?.[0] ?? '';

describe('renderSenderChart', () => {
  it('draws a standalone SVG document with the title', () => {
    const svg = renderSenderChart([aSeries()], { title: 'Sender pacing, 3,000 sends' });

    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('>Sender pacing, 3,000 sends</text>');
  });

  it('stacks one panel per series, each with its label and a legend', () => {
    const series = [
      aSeries({ label: '1 Page at 20/s' }),
      aSeries({ label: '1 Page at 100/s' }),
      aSeries({ label: '3 Pages at 300/s' }),
    ];

    const panels = panelsOf(renderSenderChart(series));

    expect(panels).toHaveLength(3);
    const offsets = panels.map((panel) =>
      Number(/^ transform="translate\(0,(\d+)\)"/.exec(panel)?.[1]),
    );
    expect(offsets[1]).toBeGreaterThan(offsets[0] ?? Number.POSITIVE_INFINITY);
    expect(offsets[2]).toBeGreaterThan(offsets[1] ?? Number.POSITIVE_INFINITY);
    panels.forEach((panel, index) => {
      expect(panel).toContain(`>${series[index]?.label}</text>`);
      expect(panel).toContain('class="legend"');
    });
  });

  it('plots a sent and a queue-depth point for every second of the series', () => {
    const series = aSeries({ points: pointsOf([10, 20, 30, 40, 50, 60, 70]) });

    const [panel = ''] = panelsOf(renderSenderChart([series]));

    for (const line of ['sent', 'queue']) {
      const points = new RegExp(`<polyline class="${line}" points="([^"]*)"`).exec(panel)?.[1];
      expect(points?.split(' ')).toHaveLength(7);
    }
  });

  it('draws the configured rate as a dashed line at its value on the sends axis', () => {
    const series = aSeries({ configuredRate: 40, points: pointsOf([60, 50, 30]) });

    const [panel = ''] = panelsOf(renderSenderChart([series]));

    const configured = elementOf(panel, /<line class="configured" data-value="40" [^>]*>/);
    const tickAt40 = elementOf(panel, /<line class="grid" data-value="40" [^>]*>/);
    const tickAt0 = elementOf(panel, /<line class="grid" data-value="0" [^>]*>/);
    expect(attribute(configured, 'y1')).toBe(attribute(tickAt40, 'y1'));
    expect(attribute(configured, 'y2')).toBe(attribute(configured, 'y1'));
    expect(attribute(configured, 'y1')).toBeLessThan(attribute(tickAt0, 'y1'));
    expect(panel).toContain('>configured 40/s</text>');
  });

  it('ticks the sends axis in round, even steps from 0 past the highest value', () => {
    const series = aSeries({ configuredRate: 300, points: pointsOf([287, 301, 296]) });

    const [panel = ''] = panelsOf(renderSenderChart([series]));

    const ticks = [...panel.matchAll(/class="grid" data-value="([^"]+)"/g)].map((m) =>
      Number(m[1]),
    );
    const step = (ticks[1] ?? 0) - (ticks[0] ?? 0);
    expect(ticks[0]).toBe(0);
    expect(ticks.at(-1)).toBeGreaterThanOrEqual(301);
    expect(ticks.every((tick, i) => tick === i * step)).toBe(true);
    expect([1, 2, 5].map((m) => m * 10 ** Math.floor(Math.log10(step)))).toContain(step);
  });

  it('escapes labels and the title for XML', () => {
    const series = aSeries({ label: 'rate < limit & "burst"' });

    const svg = renderSenderChart([series], { title: 'A <b>bold</b> title' });

    expect(svg).toContain('rate &lt; limit &amp; &quot;burst&quot;');
    expect(svg).toContain('A &lt;b&gt;bold&lt;/b&gt; title');
    expect(svg).not.toContain('<b>');
  });

  it('draws an empty series and a one-point series without NaN', () => {
    const series = [
      aSeries({ label: 'empty', points: [] }),
      aSeries({ label: 'one second', points: [{ second: 0, sent: 7, queueDepth: 0 }] }),
    ];

    const svg = renderSenderChart(series);

    expect(svg).not.toMatch(/NaN|Infinity/);
    const [empty = '', single = ''] = panelsOf(svg);
    expect(empty).not.toContain('<polyline');
    expect(empty).toContain('>no data</text>');
    expect(/<polyline class="sent" points="([^"]*)"/.exec(single)?.[1]?.split(' ')).toHaveLength(1);
  });

  it('draws no panel for no series', () => {
    const svg = renderSenderChart([]);

    expect(panelsOf(svg)).toHaveLength(0);
    expect(svg).not.toContain('NaN');
  });
});

describe('perSecond', () => {
  const START = Date.parse('2026-11-21T09:00:00Z');

  it('counts the events in each whole second since the start, gaps included', () => {
    const sends = [START, START + 999, START + 1_000, START + 3_500];

    expect(perSecond(sends, START)).toEqual([2, 1, 0, 1]);
  });

  it('leaves out events before the start', () => {
    expect(perSecond([START - 1, START + 10], START)).toEqual([1]);
  });

  it('counts nothing when there were no events', () => {
    expect(perSecond([], START)).toEqual([]);
  });
});
