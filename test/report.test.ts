import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseCallRecord, visitMenu, type CallRecord } from '../src/domain/call-record.ts';
import { CSV_COLUMNS, callRecordsCsv } from '../src/reports/call-csv.ts';
import { callRecordsFromJsonLines } from '../src/reports/call-record-source.ts';
import { callReportHtml } from '../src/reports/call-report.ts';
import { callStats } from '../src/reports/call-stats.ts';
import { countScale } from '../src/reports/charts.ts';
import { daysOf, hoursOf, pacificDay, pacificMidnight } from '../src/reports/pacific.ts';
import { EXPECTED, IN_PERIOD, OUTSIDE_PERIOD, PERIOD, RECORDS } from './report-records.ts';

const hourOf = (iso: string) => new Date(iso).toISOString();

describe('call records', () => {
  it('takes every record of the fixture as it is', () => {
    for (const record of RECORDS) expect(parseCallRecord(JSON.parse(JSON.stringify(record)))).to.deep.equal(record);
  });

  it('keeps only the fields of a record, whatever else the input carries', () => {
    const parsed = parseCallRecord({ ...IN_PERIOD[0], participantId: '1000000001', from: '+19165550143' });
    expect(Object.keys(parsed).sort()).to.deep.equal(Object.keys(IN_PERIOD[0]!).sort());
    expect(JSON.stringify(parsed)).to.not.match(/1000000001|9165550143/);
  });

  it('names the first bad field', () => {
    const good = IN_PERIOD[1]!;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, callSid: '=HYPERLINK("x")' }, /^callSid/],
      [{ ...good, startedAt: '2025-11-01 09:40' }, /^startedAt/],
      [{ ...good, endedAt: '2025-11-01T09:00:00-07:00' }, /^endedAt .*startedAt/],
      [{ ...good, durationSeconds: -1 }, /^durationSeconds/],
      [{ ...good, language: 'fr' }, /^language/],
      [{ ...good, menus: ['main', 'secret'] }, /^menus/],
      [{ ...good, outcome: 'hung_up' }, /^outcome/],
      [{ ...good, transferReason: null }, /^transferReason/],
      [{ ...IN_PERIOD[0], transferReason: 'requested' }, /^transferReason/],
      [{ ...good, identification: 'maybe' }, /^identification /],
      [{ ...good, identificationFailures: 1.5 }, /^identificationFailures/],
      [{ ...good, payment: 'approved' }, /^payment/],
      [{ ...good, twilioStatus: '' }, /^twilioStatus/],
    ];
    for (const [input, message] of cases) expect(() => parseCallRecord(input), JSON.stringify(input)).to.throw(message);
    expect(() => parseCallRecord([good])).to.throw(/JSON object/);
  });

  it('collapses a repeat of the menu the caller is already in, but not a return to it', () => {
    let menus = visitMenu([], 'language');
    for (const menu of ['main', 'main', 'account', 'main'] as const) menus = visitMenu(menus, menu);
    expect(menus).to.deep.equal(['language', 'main', 'account', 'main']);
  });
});

describe('Pacific hours and days', () => {
  it('gives the Sunday the clocks go back 25 hours, and each call its Pacific day', () => {
    expect(hoursOf(PERIOD.from, PERIOD.to)).to.have.length(73);
    expect(daysOf(PERIOD.from, PERIOD.to)).to.deep.equal(EXPECTED.days);
    expect(pacificDay(new Date('2025-11-02T06:30:00Z'))).to.equal('2025-11-01');
    expect(pacificMidnight('2025-11-02')?.toISOString()).to.equal('2025-11-02T07:00:00.000Z');
    expect(pacificMidnight('2025-11-03')?.toISOString()).to.equal('2025-11-03T08:00:00.000Z');
    expect(pacificMidnight('2025-02-30')).to.equal(null);
  });

  it('counts a period that starts mid-day from that day', () => {
    expect(daysOf(new Date('2025-11-03T17:00:00-08:00'), new Date('2025-11-05T09:00:00-08:00'))).to.deep.equal(['2025-11-03', '2025-11-04', '2025-11-05']);
    expect(hoursOf(new Date('2025-11-03T17:30:00-08:00'), new Date('2025-11-03T19:00:00-08:00'))).to.have.length(2);
  });
});

describe('call stats', () => {
  const stats = callStats(RECORDS, PERIOD);

  it('counts the calls that started in the period, by outcome and language', () => {
    expect(stats.calls).to.equal(EXPECTED.calls);
    expect(stats.outcomes).to.deep.equal(EXPECTED.outcomes);
    expect(stats.languages).to.deep.equal(EXPECTED.languages);
    expect(stats.containment).to.equal(0.4);
  });

  it('counts calls per Pacific hour, the two 1:30 AMs of the Sunday apart', () => {
    expect(stats.callsPerHour).to.have.length(EXPECTED.hoursInPeriod);
    const withCalls = stats.callsPerHour.filter((h) => h.calls > 0);
    expect(withCalls).to.have.length(EXPECTED.hoursWithCalls);
    const at = (iso: string) => stats.callsPerHour.find((h) => h.hour.toISOString() === hourOf(iso))?.calls;
    expect(at('2025-11-01T09:00:00-07:00')).to.equal(2);
    expect(at('2025-11-01T23:00:00-07:00')).to.equal(1);
    expect(at('2025-11-02T01:00:00-07:00')).to.equal(1);
    expect(at('2025-11-02T01:00:00-08:00')).to.equal(1);
    expect(at('2025-11-02T11:00:00-08:00')).to.equal(3);
    expect(at('2025-11-03T08:00:00-08:00')).to.equal(4);
    expect(withCalls.reduce((sum, h) => sum + h.calls, 0)).to.equal(EXPECTED.calls);
  });

  it('gives containment per day for a period of three days', () => {
    expect(stats.containmentBy).to.equal('day');
    expect(stats.containmentOverTime.map((p) => p.day)).to.deep.equal(EXPECTED.days);
    expect(stats.containmentOverTime.map(({ calls, selfServed }) => ({ calls, selfServed }))).to.deep.equal(EXPECTED.containmentPerDay);
    expect(stats.containmentOverTime.map((p) => p.share)).to.deep.equal([0.2, 0.4, 0.5]);
  });

  it('gives containment per hour for a period of a day, with no share for hours without calls', () => {
    const monday = callStats(RECORDS, { from: new Date('2025-11-03T00:00:00-08:00'), to: new Date('2025-11-04T00:00:00-08:00') });
    expect(monday.containmentBy).to.equal('hour');
    expect(monday.containmentOverTime).to.have.length(24);
    const shares = monday.containmentOverTime.filter((p) => p.share !== null).map((p) => [p.hour?.toISOString(), p.share]);
    expect(shares).to.deep.equal([
      [hourOf('2025-11-03T08:00:00-08:00'), 0.5],
      [hourOf('2025-11-03T09:00:00-08:00'), 1],
      [hourOf('2025-11-03T12:00:00-08:00'), 0],
      [hourOf('2025-11-03T17:00:00-08:00'), 1],
      [hourOf('2025-11-03T19:00:00-08:00'), 0],
    ]);
  });

  it('counts each menu once per call that reached it, and the menu each call ended in', () => {
    expect(stats.funnel).to.deep.equal(EXPECTED.funnel);
    expect(stats.endedBeforeAnyMenu).to.equal(EXPECTED.endedBeforeAnyMenu);
    expect(stats.funnel.reduce((sum, step) => sum + step.endedHere, 0) + stats.endedBeforeAnyMenu).to.equal(EXPECTED.calls);
  });

  it('counts transfers by reason', () => {
    expect(stats.transfers).to.deep.equal(EXPECTED.transfers);
  });

  it('counts identification failures and card payments per day', () => {
    expect(stats.identification.perDay).to.deep.equal(EXPECTED.identificationPerDay);
    expect(stats.identification).to.include({ failed: 3, throttled: 1, failedAttempts: 10, verified: 8 });
    expect(stats.payments.perDay).to.deep.equal(EXPECTED.paymentsPerDay);
    expect(stats.payments).to.include({ recorded: 2, declined: 1, spooled: 1 });
  });

  it('counts nothing in a period without calls, but still has its hours and days', () => {
    const empty = callStats(OUTSIDE_PERIOD, PERIOD);
    expect(empty.calls).to.equal(0);
    expect(empty.containment).to.equal(null);
    expect(empty.funnel).to.deep.equal([]);
    expect(empty.callsPerHour.every((h) => h.calls === 0)).to.equal(true);
    expect(empty.payments.perDay).to.have.length(3);
  });
});

describe('chart scales', () => {
  it('tops the count axis at a round number at or above the largest value', () => {
    expect(countScale(0)).to.deep.equal({ top: 1, step: 1 });
    expect(countScale(1)).to.deep.equal({ top: 1, step: 1 });
    expect(countScale(4)).to.deep.equal({ top: 4, step: 1 });
    expect(countScale(7)).to.deep.equal({ top: 8, step: 2 });
    expect(countScale(120)).to.deep.equal({ top: 150, step: 50 });
  });
});

describe('call report page (as text)', () => {
  it('says there were no calls in an empty period, and draws no chart', () => {
    const html = callReportHtml([], PERIOD);
    expect(html).to.match(/^<!doctype html>/);
    expect(html).to.include('There were no calls in this period.');
    expect(html).to.not.include('<svg');
  });

  it('loads nothing from anywhere and runs no script', () => {
    const html = callReportHtml(RECORDS, PERIOD, { generatedAt: new Date('2025-11-04T09:00:00-08:00') });
    expect(html).to.include(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).to.not.match(/<script|<link|<img|@import|url\(|src=|href=/i);
    expect(html).to.include('Sat, Nov 1, 2025, 12:00 AM PDT').and.include('Tue, Nov 4, 2025, 12:00 AM PST');
  });
});

describe('call CSV', () => {
  it('has one row per call of the period, oldest first, with the columns documented', () => {
    const lines = callRecordsCsv(RECORDS, PERIOD).split('\r\n');
    expect(lines.pop()).to.equal('');
    expect(lines[0]).to.equal(CSV_COLUMNS.join(','));
    expect(lines).to.have.length(1 + EXPECTED.calls);
    expect(lines.slice(1).map((line) => line.split(',')[0])).to.deep.equal(IN_PERIOD.map((r) => r.callSid));
    const row = (sid: string) => Object.fromEntries(lines[1 + IN_PERIOD.findIndex((r) => r.callSid === sid)]!.split(',').map((cell, i) => [CSV_COLUMNS[i], cell]));
    expect(row(IN_PERIOD[6]!.callSid)).to.deep.equal({
      call_sid: IN_PERIOD[6]!.callSid, started_at: '2025-11-02T01:30:00-08:00', started_pacific: '2025-11-02 01:30',
      ended_at: '2025-11-02T09:32:30.000Z', duration_seconds: '150', language: 'en', outcome: 'transferred', transfer_reason: 'error',
      identification: 'verified', identification_failures: '0', payment: 'spooled', twilio_status: 'completed',
      menus: 'language > main > account > login > payment', last_menu: 'payment',
    });
    expect(row(IN_PERIOD[7]!.callSid)).to.include({ duration_seconds: '', menus: '', last_menu: '', twilio_status: 'failed' });
  });

  it('is only the header for a period without calls', () => {
    expect(callRecordsCsv(OUTSIDE_PERIOD, PERIOD)).to.equal(`${CSV_COLUMNS.join(',')}\r\n`);
  });
});

describe('call records from a JSON Lines file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-records-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const collect = async (path: string): Promise<CallRecord[]> => {
    const records: CallRecord[] = [];
    for await (const record of callRecordsFromJsonLines(path)(PERIOD.from, PERIOD.to)) records.push(record);
    return records;
  };

  it('yields the records of the period, skipping blank lines', async () => {
    const path = join(dir, 'calls.jsonl');
    await writeFile(path, RECORDS.map((r) => JSON.stringify(r)).join('\n\n') + '\n');
    const records = await collect(path);
    expect(records.map((r) => r.callSid).sort()).to.deep.equal(IN_PERIOD.map((r) => r.callSid).sort());
  });

  it('names the file and line of a bad record', async () => {
    const path = join(dir, 'bad.jsonl');
    await writeFile(path, `${JSON.stringify(IN_PERIOD[0])}\n${JSON.stringify({ ...IN_PERIOD[1], outcome: 'lost' })}\n`);
    let error: unknown;
    await collect(path).catch((e: unknown) => { error = e; });
    expect(String(error)).to.include(`${path}:2: outcome must be one of`);

    await writeFile(path, '{"callSid":\n');
    error = undefined;
    await collect(path).catch((e: unknown) => { error = e; });
    expect(String(error)).to.include(`${path}:1: not a JSON object`);
  });

  it('says when the file is missing', async () => {
    let error: unknown;
    await collect(join(dir, 'missing.jsonl')).catch((e: unknown) => { error = e; });
    expect(String(error)).to.include('cannot read records file').and.include('no such file');
  });
});
