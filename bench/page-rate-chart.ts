/** One many-Pages run: each Page's sends per second, so a starved Page shows as a flat line. */
export interface PageRateSeries {
  /** Shown above the panel, e.g. "10 Pages at 20/s". */
  label: string;
  /** Each Page's configured rate (all Pages share it in these runs). */
  ratePerPage: number;
  /** Per Page, sends in each whole second since the run started. */
  pages: { pageId: string; perSecond: number[] }[];
}

const WIDTH = 900;
const TITLE_HEIGHT = 40;
const PANEL_HEIGHT = 240;
const PLOT = { left: 60, right: WIDTH - 30, top: 36, bottom: PANEL_HEIGHT - 40 };

/**
 * Draws each run as a panel of one thin line per Page (sends/s over seconds) and the Pages'
 * rate dashed: lines bunched at the rate are Pages served together, a line at 0 while others
 * send is a Page starved.
 */
export function renderPageRateChart(series: readonly PageRateSeries[], title: string): string {
  const height = TITLE_HEIGHT + PANEL_HEIGHT * series.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    '<style>text { font-family: system-ui, sans-serif; font-size: 11px; fill: #333333; } .title { font-size: 16px; font-weight: 600; } .label { font-size: 13px; font-weight: 600; } .axis { stroke: #333333; } .rate { stroke: #555555; stroke-dasharray: 6 4; } .page { fill: none; stroke-width: 1; stroke-opacity: 0.6; }</style>',
    '<rect width="100%" height="100%" fill="#ffffff"/>',
    `<text class="title" x="${WIDTH / 2}" y="26" text-anchor="middle">${escapeXml(title)}</text>`,
    ...series.map((one, index) => renderPanel(one, TITLE_HEIGHT + PANEL_HEIGHT * index)),
    '</svg>',
    '',
  ].join('\n');
}

function renderPanel(series: PageRateSeries, top: number): string {
  const seconds = Math.max(1, ...series.pages.map((page) => page.perSecond.length));
  const most = Math.max(series.ratePerPage * 1.25, ...series.pages.flatMap((p) => p.perSecond));
  const x = (second: number) => round(PLOT.left + ((PLOT.right - PLOT.left) * second) / seconds);
  const y = (value: number) => round(PLOT.bottom - ((PLOT.bottom - PLOT.top) * value) / most);
  const rateY = y(series.ratePerPage);
  const lines = series.pages.map((page, index) => {
    const hue = Math.round((360 * index) / Math.max(1, series.pages.length));
    const points = page.perSecond.map((sent, second) => `${x(second)},${y(sent)}`).join(' ');
    return `<polyline class="page" data-page="${escapeXml(page.pageId)}" stroke="hsl(${hue},70%,40%)" points="${points}"/>`;
  });
  const xTicks = Array.from({ length: 6 }, (_, i) => Math.round((seconds * i) / 5));
  return [
    `<g class="panel" transform="translate(0,${top})">`,
    `<text class="label" x="${PLOT.left}" y="22">${escapeXml(series.label)}: one line per Page</text>`,
    `<line class="axis" x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}"/>`,
    `<line class="axis" x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}"/>`,
    ...xTicks.map(
      (tick) => `<text x="${x(tick)}" y="${PLOT.bottom + 16}" text-anchor="middle">${tick}</text>`,
    ),
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 32}" text-anchor="middle">seconds since start</text>`,
    `<text x="${PLOT.left - 6}" y="${PLOT.bottom}" text-anchor="end">0</text>`,
    `<text x="${PLOT.left - 6}" y="${rateY + 4}" text-anchor="end">${series.ratePerPage}/s</text>`,
    `<line class="rate" x1="${PLOT.left}" y1="${rateY}" x2="${PLOT.right}" y2="${rateY}"/>`,
    ...lines,
    '</g>',
  ].join('\n');
}

const round = (value: number) => Math.round(value * 10) / 10;

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
