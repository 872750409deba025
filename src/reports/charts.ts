// Small SVG charts as strings, for a report that must open offline. Every bar or point drawn for a
// value is `class="mark"` with `data-series`, so a test can count them; a value of 0 draws no mark.
// Each chart is a role="img" with a title and a one-sentence summary; the page puts a table of
// the same numbers under it.

export type Series = { key: string; label: string; color: string };

/** One x position of a column chart: its values, one per series, stacked from the bottom. */
export type Column = { name: string; axisLabel: string | null; values: readonly number[] };

/** One y position of a bar list: values per series, each bar drawn from zero over the last. */
export type BarRow = { name: string; values: readonly number[]; valueText: string };

export type Point = { name: string; axisLabel: string | null; value: number | null; detail: string };

type Frame = { id: string; title: string; summary: string };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const WIDTH = 760;
const HEIGHT = 260;
const MARGIN = { top: 14, right: 14, bottom: 36, left: 48 };
const PLOT = { width: WIDTH - MARGIN.left - MARGIN.right, height: HEIGHT - MARGIN.top - MARGIN.bottom };
/** The width, in SVG units, that a column or share chart spreads its x positions over. */
export const PLOT_WIDTH = PLOT.width;
const n = (value: number) => String(Math.round(value * 100) / 100);

/** A top for the y axis and a step between gridlines: whole numbers, 1, 2 or 5 times a power of ten. */
export function countScale(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  const target = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(target));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= target) ?? 10 * magnitude);
  return { top: Math.ceil(max / step) * step, step };
}

function svgOpen(frame: Frame, height: number): string {
  return `<svg class="chart" role="img" aria-labelledby="${frame.id}-title" aria-describedby="${frame.id}-desc" viewBox="0 0 ${WIDTH} ${height}" preserveAspectRatio="xMidYMid meet">` +
    `<title id="${frame.id}-title">${escapeHtml(frame.title)}</title><desc id="${frame.id}-desc">${escapeHtml(frame.summary)}</desc>`;
}

function yGrid(ticks: { value: number; label: string }[], scaleY: (value: number) => number): string {
  return `<g class="grid">${ticks.map((tick) => {
    const y = n(scaleY(tick.value));
    return `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}"/>` +
      `<text x="${MARGIN.left - 6}" y="${y}" dy="0.32em" text-anchor="end">${escapeHtml(tick.label)}</text>`;
  }).join('')}</g>`;
}

function xLabels(labels: (string | null)[]): string {
  const width = PLOT.width / Math.max(labels.length, 1);
  const baseline = MARGIN.top + PLOT.height;
  return `<g class="axis"><line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${baseline}" y2="${baseline}"/>${labels.map((label, i) => {
    if (label === null) return '';
    const x = n(MARGIN.left + (i + 0.5) * width);
    return `<line x1="${x}" x2="${x}" y1="${baseline}" y2="${baseline + 4}"/><text x="${x}" y="${baseline + 18}" text-anchor="middle">${escapeHtml(label)}</text>`;
  }).join('')}</g>`;
}

const markTitle = (name: string, label: string, value: string) => `<title>${escapeHtml(`${name} — ${label}: ${value}`)}</title>`;

/** Stacked columns over time (or any ordered categories). */
export function columnChart(frame: Frame & { series: readonly Series[]; columns: readonly Column[] }): string {
  const { top, step } = countScale(Math.max(0, ...frame.columns.map((c) => c.values.reduce((a, b) => a + b, 0))));
  const scaleY = (value: number) => MARGIN.top + PLOT.height * (1 - value / top);
  const ticks = Array.from({ length: top / step + 1 }, (_, i) => ({ value: i * step, label: String(i * step) }));
  const width = PLOT.width / Math.max(frame.columns.length, 1);
  const barWidth = Math.min(Math.max(width * 0.8, 0.6), 56);
  const marks = frame.columns.map((column, i) => {
    let below = 0;
    return column.values.map((value, s) => {
      const series = frame.series[s];
      if (!series || value <= 0) return '';
      const y = scaleY(below + value);
      const height = scaleY(below) - y;
      below += value;
      return `<rect class="mark" data-series="${series.key}" x="${n(MARGIN.left + i * width + (width - barWidth) / 2)}" y="${n(y)}" width="${n(barWidth)}" height="${n(height)}" fill="${series.color}">` +
        `${markTitle(column.name, series.label, String(value))}</rect>`;
    }).join('');
  }).join('');
  return `${svgOpen(frame, HEIGHT)}${yGrid(ticks, scaleY)}${xLabels(frame.columns.map((c) => c.axisLabel))}<g class="marks">${marks}</g></svg>`;
}

/** Shares (0 to 1) over time as points, joined where neighbours both have a value. */
export function shareChart(frame: Frame & { series: Series; points: readonly Point[] }): string {
  const scaleY = (share: number) => MARGIN.top + PLOT.height * (1 - share);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((value) => ({ value, label: `${value * 100}%` }));
  const width = PLOT.width / Math.max(frame.points.length, 1);
  const at = (i: number, value: number) => `${n(MARGIN.left + (i + 0.5) * width)},${n(scaleY(value))}`;
  const lines: string[] = [];
  let run: string[] = [];
  frame.points.forEach((point, i) => {
    if (point.value === null) {
      if (run.length > 1) lines.push(run.join(' '));
      run = [];
    } else run.push(at(i, point.value));
  });
  if (run.length > 1) lines.push(run.join(' '));
  const radius = n(Math.min(4, Math.max(1.5, width / 3)));
  const marks = frame.points.map((point, i) => {
    if (point.value === null) return '';
    const [x, y] = at(i, point.value).split(',');
    return `<circle class="mark" data-series="${frame.series.key}" cx="${x}" cy="${y}" r="${radius}" fill="${frame.series.color}">${markTitle(point.name, frame.series.label, point.detail)}</circle>`;
  }).join('');
  const polylines = lines.map((points) => `<polyline points="${points}" fill="none" stroke="${frame.series.color}" stroke-width="1.5"/>`).join('');
  return `${svgOpen(frame, HEIGHT)}${yGrid(ticks, scaleY)}${xLabels(frame.points.map((p) => p.axisLabel))}<g class="marks">${polylines}${marks}</g></svg>`;
}

const ROW_HEIGHT = 24;
const LABEL_WIDTH = 150;
const VALUE_ROOM = 170;

/** Horizontal bars, one row per category; a second series is drawn over the first from zero. */
export function barList(frame: Frame & { series: readonly Series[]; rows: readonly BarRow[] }): string {
  const height = MARGIN.top + frame.rows.length * ROW_HEIGHT + 8;
  const max = Math.max(1, ...frame.rows.flatMap((row) => row.values));
  const room = WIDTH - LABEL_WIDTH - VALUE_ROOM - MARGIN.right;
  const rows = frame.rows.map((row, i) => {
    const y = MARGIN.top + i * ROW_HEIGHT;
    const bars = row.values.map((value, s) => {
      const series = frame.series[s];
      if (!series || value <= 0) return '';
      const inset = s === 0 ? 2 : 7;
      return `<rect class="mark" data-series="${series.key}" x="${LABEL_WIDTH}" y="${y + inset}" width="${n((room * value) / max)}" height="${ROW_HEIGHT - 2 * inset}" fill="${series.color}">` +
        `${markTitle(row.name, series.label, String(value))}</rect>`;
    }).join('');
    const end = LABEL_WIDTH + (room * Math.max(0, ...row.values)) / max;
    return `<text x="${LABEL_WIDTH - 8}" y="${y + ROW_HEIGHT / 2}" dy="0.32em" text-anchor="end">${escapeHtml(row.name)}</text>${bars}` +
      `<text class="value" x="${n(end + 6)}" y="${y + ROW_HEIGHT / 2}" dy="0.32em">${escapeHtml(row.valueText)}</text>`;
  }).join('');
  return `${svgOpen(frame, height)}<g class="marks">${rows}</g></svg>`;
}

/** The colour key of a chart, in HTML so it wraps and reads in order. */
export function legend(series: readonly Series[]): string {
  return `<ul class="legend">${series.map((s) => `<li><span class="swatch" style="background:${s.color}"></span>${escapeHtml(s.label)}</li>`).join('')}</ul>`;
}

/** A table of the same numbers as a chart: header cells scoped to columns, the first cell of a row to its row. */
export function dataTable(caption: string, headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows.map(([first = '', ...rest]) => `<tr><th scope="row">${escapeHtml(first)}</th>${rest.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('');
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}
