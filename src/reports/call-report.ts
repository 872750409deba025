// The call-outcome report: call records and a period in, one HTML page out. The page carries its
// own CSS and SVG, loads nothing and runs no script (its Content-Security-Policy forbids both),
// so it opens from a mail attachment or a file share with no network.
import type { CallOutcomeKind, CallRecord, Menu, TransferReason } from '../domain/call-record.ts';
import { PLOT_WIDTH, barList, columnChart, dataTable, escapeHtml, legend, shareChart, type Column, type Point, type Series } from './charts.ts';
import { RECORDED_PAYMENTS, callStats, type CallStats, type RecordedPayment, type ReportPeriod } from './call-stats.ts';
import { formatClockHour, formatDay, formatHour, formatInstant, formatShortDay, pacificDay, pacificHourOfDay } from './pacific.ts';

export type ReportOptions = { generatedAt?: Date };

export const OUTCOME_LABELS: Record<CallOutcomeKind, string> = {
  self_served: 'Self-served',
  transferred: 'Transferred',
  abandoned: 'Abandoned',
  gave_up: 'Gave up',
  failed: 'Failed',
};

export const TRANSFER_REASON_LABELS: Record<TransferReason, string> = {
  requested: 'Pressed 0',
  gave_up: 'Three failures in a row',
  error: 'Internal failure',
};

export const MENU_LABELS: Record<Menu, string> = {
  language: 'Language choice',
  main: 'Main menu',
  account: 'Account menu',
  balance: 'Balance',
  history: 'Payment history',
  caseInformation: 'Case information',
  services: 'Services',
  phone: 'Phone number update',
  forms: 'Forms by mail',
  recurring: 'Recurring payments',
  pinHelp: 'PIN help',
  forgotPin: 'Forgotten PIN',
  changePin: 'Change PIN',
  login: 'Login (ID and PIN)',
  payment: 'Card payment',
  paymentInfo: 'Payment information',
  hours: 'Hours',
  transfer: 'Transfer',
};

const PAYMENT_LABELS: Record<RecordedPayment, string> = { recorded: 'Recorded', declined: 'Declined', spooled: 'Spooled (approved, stored for later)' };

// Okabe–Ito colours: told apart with the common colour-vision deficiencies.
const COLOURS = { blue: '#0072B2', sky: '#56B4E9', green: '#009E73', orange: '#E69F00', vermillion: '#D55E00', purple: '#CC79A7' };

const CALLS: Series = { key: 'calls', label: 'calls', color: COLOURS.blue };
const SELF_SERVED_SHARE: Series = { key: 'containment', label: 'self-served', color: COLOURS.green };
const REACHED: Series = { key: 'reached', label: 'calls that reached it', color: COLOURS.sky };
const ENDED: Series = { key: 'ended', label: 'calls that ended there', color: COLOURS.vermillion };
const TRANSFERS: Series = { key: 'transfers', label: 'transfers', color: COLOURS.orange };
const IDENTIFICATION: Series[] = [
  { key: 'failed', label: 'calls that failed identification', color: COLOURS.vermillion },
  { key: 'throttled', label: 'calls stopped by the attempt limit', color: COLOURS.purple },
];
const PAYMENTS: Series[] = [
  { key: 'recorded', label: PAYMENT_LABELS.recorded, color: COLOURS.green },
  { key: 'declined', label: PAYMENT_LABELS.declined, color: COLOURS.vermillion },
  { key: 'spooled', label: PAYMENT_LABELS.spooled, color: COLOURS.orange },
];

const percent = (share: number | null) => (share === null ? '–' : `${Math.round(share * 100)}%`);
const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

// Axis labels at least this many SVG units apart, so they never overlap.
const LABEL_SPACING = 64;

/** Axis labels for hourly columns: every few hours on short periods, every day or few days on long ones. */
function hourAxis(hours: readonly Date[]): (string | null)[] {
  const width = PLOT_WIDTH / Math.max(hours.length, 1);
  const step = [1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 672].find((s) => s * width >= LABEL_SPACING) ?? 1344;
  let midnights = 0;
  return hours.map((hour) => {
    const hourOfDay = pacificHourOfDay(hour);
    if (hourOfDay === 0) return midnights++ % Math.max(1, step / 24) === 0 ? formatShortDay(pacificDay(hour)) : null;
    return step < 24 && hourOfDay % step === 0 ? formatClockHour(hour) : null;
  });
}

/** Axis labels for daily columns: the weekday too when there is room. */
function dayAxis(days: readonly string[]): (string | null)[] {
  const width = PLOT_WIDTH / Math.max(days.length, 1);
  if (width >= 96) return days.map(formatDay);
  const step = [1, 2, 7, 14, 28, 56].find((s) => s * width >= LABEL_SPACING) ?? 91;
  return days.map((day, i) => (i % step === 0 ? formatShortDay(day) : null));
}

type Section = { id: string; title: string; about: string; chart: string; table: string; legend?: string };

function section(s: Section): string {
  return `<section id="${s.id}" data-chart="${s.id}" aria-labelledby="${s.id}-heading">` +
    `<h2 id="${s.id}-heading">${escapeHtml(s.title)}</h2><p class="about">${escapeHtml(s.about)}</p>` +
    `${s.legend ?? ''}<figure>${s.chart}</figure>` +
    `<details><summary>The numbers as a table</summary>${s.table}</details></section>`;
}

function callsPerHour(stats: CallStats): string {
  const hours = stats.callsPerHour;
  const labels = hourAxis(hours.map((h) => h.hour));
  const busiest = hours.reduce((best, h) => (h.calls > best.calls ? h : best), hours[0] ?? { hour: new Date(0), calls: 0 });
  const withCalls = hours.filter((h) => h.calls > 0);
  return section({
    id: 'calls-per-hour',
    title: 'Calls per hour',
    about: 'How many calls started in each hour of the period. Hours without calls have no bar and are left out of the table.',
    chart: columnChart({
      id: 'calls-per-hour-chart',
      title: 'Calls per hour',
      summary: `${plural(stats.calls, 'call')} over ${plural(hours.length, 'hour')}; ${plural(withCalls.length, 'hour')} had calls; the busiest, ${formatHour(busiest.hour)}, had ${plural(busiest.calls, 'call')}.`,
      series: [CALLS],
      columns: hours.map((h, i): Column => ({ name: formatHour(h.hour), axisLabel: labels[i] ?? null, values: [h.calls] })),
    }),
    table: dataTable('Calls per hour (Pacific time)', ['Hour', 'Calls'], withCalls.map((h) => [formatHour(h.hour), String(h.calls)])),
  });
}

function containmentOverTime(stats: CallStats): string {
  const points = stats.containmentOverTime;
  const perHour = stats.containmentBy === 'hour';
  const labels = perHour ? hourAxis(points.flatMap((p) => (p.hour ? [p.hour] : []))) : dayAxis(points.map((p) => p.day));
  const name = (p: (typeof points)[number]) => (p.hour ? formatHour(p.hour) : formatDay(p.day));
  const unit = perHour ? 'hour' : 'day';
  return section({
    id: 'containment',
    title: `Containment per ${unit}`,
    about: `The share of calls that were self-served (handled by the line without a transfer), per ${unit}. ${perHour ? 'Periods up to 48 hours are shown per hour, longer ones per day. ' : ''}A ${unit} without calls has no point.`,
    chart: shareChart({
      id: 'containment-chart',
      title: `Containment per ${unit}`,
      summary: `Over the whole period ${percent(stats.containment)} of calls were self-served.`,
      series: SELF_SERVED_SHARE,
      points: points.map((p, i): Point => ({
        name: name(p),
        axisLabel: labels[i] ?? null,
        value: p.share,
        detail: `${percent(p.share)} (${p.selfServed} of ${plural(p.calls, 'call')})`,
      })),
    }),
    table: dataTable(`Containment per ${unit} (Pacific time)`, [perHour ? 'Hour' : 'Day', 'Calls', 'Self-served', 'Containment'],
      points.filter((p) => p.calls > 0).map((p) => [name(p), String(p.calls), String(p.selfServed), percent(p.share)])),
  });
}

function menuFunnel(stats: CallStats): string {
  const steps = stats.funnel;
  const beforeAny = stats.endedBeforeAnyMenu ? ` ${plural(stats.endedBeforeAnyMenu, 'call')} ended before any menu.` : '';
  return section({
    id: 'funnel',
    title: 'Menu funnel: where callers leave',
    about: 'For each menu, how many calls reached it (counted once per call, however often the caller came back) and how many calls ended with it as the last menu. Menus no call reached are left out.' + beforeAny,
    legend: legend([REACHED, ENDED]),
    chart: barList({
      id: 'funnel-chart',
      title: 'Menu funnel',
      summary: `${plural(steps.length, 'menu')} reached. ` + steps.map((s) => `${MENU_LABELS[s.menu]}: ${s.reached} reached, ${s.endedHere} ended there`).join('; ') + '.',
      series: [REACHED, ENDED],
      rows: steps.map((s) => ({ name: MENU_LABELS[s.menu], values: [s.reached, s.endedHere], valueText: `${s.reached} reached, ${s.endedHere} ended here` })),
    }),
    table: dataTable('Menu funnel', ['Menu', 'Calls that reached it', 'Calls that ended there'],
      steps.map((s) => [MENU_LABELS[s.menu], String(s.reached), String(s.endedHere)])),
  });
}

function transfersByReason(stats: CallStats): string {
  const reasons = Object.entries(stats.transfers) as [TransferReason, number][];
  const total = stats.outcomes.transferred;
  return section({
    id: 'transfers',
    title: 'Transfers by reason',
    about: 'Calls sent to a representative, by why: the caller pressed 0, the caller failed three times in a row, or the line apologised after an internal failure.',
    chart: barList({
      id: 'transfers-chart',
      title: 'Transfers by reason',
      summary: `${plural(total, 'transfer')}: ` + reasons.map(([reason, count]) => `${TRANSFER_REASON_LABELS[reason].toLowerCase()}, ${count}`).join('; ') + '.',
      series: [TRANSFERS],
      rows: reasons.map(([reason, count]) => ({ name: TRANSFER_REASON_LABELS[reason], values: [count], valueText: `${count} (${percent(total ? count / total : null)})` })),
    }),
    table: dataTable('Transfers by reason', ['Reason', 'Transfers', 'Share of transfers'],
      reasons.map(([reason, count]) => [TRANSFER_REASON_LABELS[reason], String(count), percent(total ? count / total : null)])),
  });
}

function identificationFailures(stats: CallStats): string {
  const id = stats.identification;
  const days = id.perDay;
  const labels = dayAxis(days.map((d) => d.day));
  return section({
    id: 'identification',
    title: 'Identification failures per day',
    about: 'Calls whose identification ended failed (wrong ID or PIN, and the caller gave up or was sent on) or stopped by the attempt limit, per day. The table also counts the failed attempts, in any call, including calls that were verified in the end.',
    legend: legend(IDENTIFICATION),
    chart: columnChart({
      id: 'identification-chart',
      title: 'Identification failures per day',
      summary: `${plural(id.failed, 'call')} failed identification, ${plural(id.throttled, 'call')} stopped by the attempt limit, ${plural(id.failedAttempts, 'failed attempt')} in all; ${plural(id.verified, 'call')} verified.`,
      series: IDENTIFICATION,
      columns: days.map((d, i): Column => ({ name: formatDay(d.day), axisLabel: labels[i] ?? null, values: [d.failed, d.throttled] })),
    }),
    table: dataTable('Identification failures per day (Pacific time)', ['Day', 'Calls failed', 'Calls stopped by the limit', 'Failed attempts'],
      days.map((d) => [formatDay(d.day), String(d.failed), String(d.throttled), String(d.failedAttempts)])),
  });
}

function cardPayments(stats: CallStats): string {
  const days = stats.payments.perDay;
  const labels = dayAxis(days.map((d) => d.day));
  return section({
    id: 'payments',
    title: 'Card payments per day',
    about: 'Card payments made on the line, per day: recorded on the case, declined by the card processor, or approved and spooled to be recorded once the store is back.',
    legend: legend(PAYMENTS),
    chart: columnChart({
      id: 'payments-chart',
      title: 'Card payments per day',
      summary: RECORDED_PAYMENTS.map((kind) => `${stats.payments[kind]} ${PAYMENT_LABELS[kind].toLowerCase()}`).join(', ') + '.',
      series: PAYMENTS,
      columns: days.map((d, i): Column => ({ name: formatDay(d.day), axisLabel: labels[i] ?? null, values: RECORDED_PAYMENTS.map((kind) => d[kind]) })),
    }),
    table: dataTable('Card payments per day (Pacific time)', ['Day', ...RECORDED_PAYMENTS.map((kind) => PAYMENT_LABELS[kind])],
      days.map((d) => [formatDay(d.day), ...RECORDED_PAYMENTS.map((kind) => String(d[kind]))])),
  });
}

function totals(stats: CallStats): string {
  const o = stats.outcomes;
  const headline = `${plural(stats.calls, 'call')}: ${o.self_served} self-served (${percent(stats.containment)} containment), ` +
    `${o.transferred} transferred, ${o.abandoned} abandoned, ${o.gave_up} gave up, ${o.failed} failed.`;
  const item = (key: string, label: string, value: string) => `<div><dt>${escapeHtml(label)}</dt><dd data-total="${key}">${escapeHtml(value)}</dd></div>`;
  const share = (count: number) => `${count} (${percent(count / stats.calls)})`;
  return `<section id="totals" aria-labelledby="totals-heading"><h2 id="totals-heading">Totals</h2>` +
    `<p class="headline">${escapeHtml(headline)}</p><dl class="totals">` +
    item('calls', 'Calls', String(stats.calls)) +
    (Object.keys(OUTCOME_LABELS) as CallOutcomeKind[]).map((kind) => item(kind, OUTCOME_LABELS[kind], share(o[kind]))).join('') +
    item('containment', 'Containment', percent(stats.containment)) +
    item('en', 'In English', share(stats.languages.en)) +
    item('es', 'In Spanish', share(stats.languages.es)) +
    item('payments', 'Card payments recorded', String(stats.payments.recorded)) +
    `</dl></section>`;
}

const STYLE = `
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; background: #fff; margin: 0; }
main { max-width: 860px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 36px 0 4px; border-top: 1px solid #ddd; padding-top: 18px; }
.period, .generated, .about { color: #444; margin: 4px 0; }
.headline { font-size: 1.1rem; font-weight: 600; }
dl.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; margin: 12px 0; }
dl.totals div { border: 1px solid #ddd; border-radius: 6px; padding: 8px 10px; }
dt { color: #555; font-size: 0.85rem; }
dd { margin: 0; font-size: 1.15rem; font-weight: 600; }
figure { margin: 8px 0; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font: 12px system-ui, sans-serif; fill: #333; }
svg.chart .grid line { stroke: #e4e4e4; }
svg.chart .axis line { stroke: #888; }
svg.chart .mark:hover { opacity: 0.8; }
ul.legend { list-style: none; padding: 0; margin: 6px 0; display: flex; flex-wrap: wrap; gap: 14px; font-size: 0.9rem; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; border-radius: 2px; vertical-align: -1px; }
details { margin: 6px 0 0; }
summary { cursor: pointer; color: #0b5cad; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9rem; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #ddd; padding: 3px 10px; text-align: right; }
th[scope="row"], thead th:first-child { text-align: left; font-weight: normal; }
thead th { background: #f4f4f4; font-weight: 600; }
.empty { font-size: 1.1rem; padding: 24px 0; }
@media print { details { display: block; } summary { display: none; } }
`;

/** The page for statistics already computed. */
export function renderCallReport(stats: CallStats, options: ReportOptions = {}): string {
  const { from, to } = stats.period;
  const title = `Call outcomes, ${formatDay(pacificDay(from))} to ${formatDay(pacificDay(new Date(to.getTime() - 1)))}`;
  const time = (instant: Date) => `<time datetime="${instant.toISOString()}">${escapeHtml(formatInstant(instant))}</time>`;
  const generated = options.generatedAt ? `<p class="generated">Made ${time(options.generatedAt)}.</p>` : '';
  const body = stats.calls === 0
    ? `<p class="empty" role="status">There were no calls in this period.</p>`
    : [totals(stats), callsPerHour(stats), containmentOverTime(stats), menuFunnel(stats), transfersByReason(stats), identificationFailures(stats), cardPayments(stats)].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(`Customer Connect: ${title}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>Customer Connect: call outcomes</h1>
<p class="period">From ${time(from)} to ${time(to)} (Pacific time; a call counts in the period it started in).</p>
${generated}
</header>
${body}
</main>
</body>
</html>
`;
}

/** The report page for the calls among `records` that started in the period. */
export function callReportHtml(records: Iterable<CallRecord>, period: ReportPeriod, options: ReportOptions = {}): string {
  return renderCallReport(callStats(records, period), options);
}
