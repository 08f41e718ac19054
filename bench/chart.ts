/** One sender run: what was sent and what waited in the queue, second by second. */
export interface SenderSeries {
  /** Shown above the panel, e.g. "1 Page at 100/s". */
  label: string;
  /** Sends per second configured, summed over the Pages. */
  configuredRate: number;
  /** One point per second since the run started. */
  points: { second: number; sent: number; queueDepth: number }[];
}

/** How the chart is headed. */
export interface SenderChartOptions {
  /** @default 'Sender pacing' */
  title?: string;
}

const WIDTH = 900;
const TITLE_HEIGHT = 40;
const PANEL_HEIGHT = 260;
const PLOT = { left: 70, right: WIDTH - 70, top: 40, bottom: PANEL_HEIGHT - 44 };
const COLOURS = { sent: '#1f77b4', configured: '#555555', queue: '#e6550d' };

const STYLE = `
  text { font-family: system-ui, sans-serif; font-size: 11px; fill: #333333; }
  .title { font-size: 16px; font-weight: 600; }
  .label { font-size: 13px; font-weight: 600; }
  .axis { stroke: #333333; stroke-width: 1; }
  .grid { stroke: #e5e5e5; stroke-width: 1; }
  .sent { fill: none; stroke: ${COLOURS.sent}; stroke-width: 1.5; }
  .configured { stroke: ${COLOURS.configured}; stroke-width: 1; stroke-dasharray: 6 4; }
  .queue { fill: none; stroke: ${COLOURS.queue}; stroke-width: 1.5; }
  .queue-axis { fill: ${COLOURS.queue}; }
`;

/** Draws the sender benchmark's runs as one standalone SVG, a panel per run, stacked. */
export function renderSenderChart(
  series: readonly SenderSeries[],
  options: SenderChartOptions = {},
): string {
  const title = options.title ?? 'Sender pacing';
  const height = TITLE_HEIGHT + PANEL_HEIGHT * series.length;
  const panels = series.map((one, index) => renderPanel(one, TITLE_HEIGHT + PANEL_HEIGHT * index));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<style>${STYLE}</style>`,
    '<rect width="100%" height="100%" fill="#ffffff"/>',
    `<text class="title" x="${WIDTH / 2}" y="26" text-anchor="middle">${escapeXml(title)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}

/** Counts events per whole second since `startMs`; events before the start are left out. */
export function perSecond(timestamps: readonly number[], startMs: number): number[] {
  const counts: number[] = [];
  for (const timestamp of timestamps) {
    const second = Math.floor((timestamp - startMs) / 1000);
    if (!Number.isFinite(second) || second < 0) continue;
    while (counts.length <= second) counts.push(0);
    counts[second] = (counts[second] ?? 0) + 1;
  }
  return counts;
}

type SenderPoint = SenderSeries['points'][number];

function renderPanel(series: SenderSeries, top: number): string {
  // A chart must not emit NaN coordinates: a value that is not a number is drawn as 0.
  const points = series.points
    .map((point) => ({
      second: finite(point.second),
      sent: finite(point.sent),
      queueDepth: finite(point.queueDepth),
    }))
    .sort((a, b) => a.second - b.second);
  const configuredRate = finite(series.configuredRate);
  const xTicks = niceTicks(maxOf(points.map((point) => point.second)));
  // Headroom above the configured rate, so the line does not sit on the panel's top edge.
  const sentTicks = niceTicks(1.1 * maxOf([configuredRate, ...points.map((point) => point.sent)]));
  const queueTicks = niceTicks(maxOf(points.map((point) => point.queueDepth)));
  const x = scale(xTicks, PLOT.left, PLOT.right);
  const ySent = scale(sentTicks, PLOT.bottom, PLOT.top);
  const yQueue = scale(queueTicks, PLOT.bottom, PLOT.top);
  const configuredY = round(ySent(configuredRate));
  const middle = (PLOT.top + PLOT.bottom) / 2;

  const parts = [
    `<g class="panel" transform="translate(0,${top})">`,
    `<text class="label" x="${PLOT.left}" y="22">${escapeXml(series.label)}</text>`,
    renderLegend(),
    ...sentTicks.map((tick) => {
      const y = round(ySent(tick));
      return [
        `<line class="grid" data-value="${tick}" x1="${PLOT.left}" y1="${y}" x2="${PLOT.right}" y2="${y}"/>`,
        `<text class="tick-sent" x="${PLOT.left - 6}" y="${y}" dy="4" text-anchor="end">${tick}</text>`,
      ].join('');
    }),
    ...queueTicks.map((tick) => {
      const y = round(yQueue(tick));
      return `<text class="tick-queue queue-axis" x="${PLOT.right + 6}" y="${y}" dy="4">${tick}</text>`;
    }),
    ...xTicks.map((tick) => {
      const at = round(x(tick));
      return [
        `<line class="axis" x1="${at}" y1="${PLOT.bottom}" x2="${at}" y2="${PLOT.bottom + 4}"/>`,
        `<text class="tick-x" x="${at}" y="${PLOT.bottom + 16}" text-anchor="middle">${tick}</text>`,
      ].join('');
    }),
    `<line class="axis" x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}"/>`,
    `<line class="axis" x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}"/>`,
    `<line class="axis" x1="${PLOT.right}" y1="${PLOT.top}" x2="${PLOT.right}" y2="${PLOT.bottom}"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 34}" text-anchor="middle">seconds since start</text>`,
    `<text x="18" y="${middle}" text-anchor="middle" transform="rotate(-90 18 ${middle})">sends/s</text>`,
    `<text class="queue-axis" x="${WIDTH - 18}" y="${middle}" text-anchor="middle" transform="rotate(90 ${WIDTH - 18} ${middle})">queue depth</text>`,
    `<line class="configured" data-value="${formatNumber(configuredRate)}" x1="${PLOT.left}" y1="${configuredY}" x2="${PLOT.right}" y2="${configuredY}"/>`,
    `<text x="${PLOT.right - 4}" y="${configuredY - 4}" text-anchor="end">configured ${formatNumber(configuredRate)}/s</text>`,
  ];
  if (points.length === 0) {
    parts.push(
      `<text x="${(PLOT.left + PLOT.right) / 2}" y="${middle}" text-anchor="middle">no data</text>`,
    );
  } else {
    const line = (y: (value: number) => number, value: (point: SenderPoint) => number) =>
      points.map((point) => `${round(x(point.second))},${round(y(value(point)))}`).join(' ');
    parts.push(
      `<polyline class="queue" points="${line(yQueue, (point) => point.queueDepth)}"/>`,
      `<polyline class="sent" points="${line(ySent, (point) => point.sent)}"/>`,
    );
    const [only] = points;
    if (points.length === 1 && only) {
      // A polyline of one point draws nothing: mark the lone second.
      const at = round(x(only.second));
      parts.push(
        `<circle cx="${at}" cy="${round(yQueue(only.queueDepth))}" r="3" fill="${COLOURS.queue}"/>`,
        `<circle cx="${at}" cy="${round(ySent(only.sent))}" r="3" fill="${COLOURS.sent}"/>`,
      );
    }
  }
  parts.push('</g>');
  return parts.join('\n');
}

function renderLegend(): string {
  const entries = [
    { text: 'sent/s', className: 'sent' },
    { text: 'configured', className: 'configured' },
    { text: 'queue depth (visible + in flight)', className: 'queue' },
  ];
  let at = PLOT.right - 420;
  const items = entries.map(({ text, className }) => {
    const item = `<line class="${className}" x1="${at}" y1="18" x2="${at + 24}" y2="18"/><text x="${at + 30}" y="22">${text}</text>`;
    at += 30 + text.length * 6 + 20;
    return item;
  });
  return `<g class="legend">${items.join('')}</g>`;
}

/** Round ticks from 0 covering `max`: steps of 1, 2 or 5 times a power of ten, at least 1. */
function niceTicks(max: number): number[] {
  const top = Math.max(max, 1);
  const rough = top / 6;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power);
  const count = Math.ceil(top / step);
  return Array.from({ length: count + 1 }, (_, i) => i * step);
}

/** Maps the ticks' range (0 to the last tick) onto pixels `from` to `to`. */
function scale(ticks: readonly number[], from: number, to: number): (value: number) => number {
  const top = ticks.at(-1) ?? 1;
  return (value) => from + ((to - from) * value) / top;
}

function maxOf(values: readonly number[]): number {
  return values.reduce((max, value) => Math.max(max, value), 0);
}

const finite = (value: number) => (Number.isFinite(value) ? value : 0);

const round = (value: number) => Math.round(value * 10) / 10;

const formatNumber = (value: number) => String(round(value));

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ENTITIES[char] ?? char);
}
