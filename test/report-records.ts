// Twenty calls over three Pacific days (Sat Nov 1 to Mon Nov 3, 2025, the clocks going back on
// the Sunday at 2 AM), and two just outside, with what the report should count from them.
import type { CallRecord, Menu } from '../src/domain/call-record.ts';
import type { ReportPeriod } from '../src/reports/call-stats.ts';

export const PERIOD: ReportPeriod = { from: new Date('2025-11-01T00:00:00-07:00'), to: new Date('2025-11-04T00:00:00-08:00') };

const IDENTIFIED: Menu[] = ['language', 'main', 'account', 'login'];

let next = 0;
function call(startedAt: string, outcome: CallRecord['outcome'], menus: Menu[], extra: Partial<CallRecord> = {}): CallRecord {
  next += 1;
  const started = new Date(startedAt);
  return {
    callSid: `CA${String(next).padStart(32, '0')}`,
    startedAt,
    endedAt: new Date(started.getTime() + 150_000).toISOString(),
    durationSeconds: 150,
    language: 'en',
    menus,
    outcome,
    transferReason: null,
    identification: 'none',
    identificationFailures: 0,
    payment: 'none',
    twilioStatus: 'completed',
    ...extra,
  };
}

export const IN_PERIOD: CallRecord[] = [
  // Saturday, Nov 1 (PDT)
  call('2025-11-01T09:05:00-07:00', 'self_served', [...IDENTIFIED, 'balance'], { identification: 'verified' }),
  call('2025-11-01T09:40:00-07:00', 'transferred', ['language', 'main', 'transfer'], { transferReason: 'requested' }),
  call('2025-11-01T10:15:00-07:00', 'abandoned', ['language'], { language: 'es' }),
  call('2025-11-01T14:20:00-07:00', 'abandoned', ['language', 'main', 'hours']),
  call('2025-11-01T23:30:00-07:00', 'gave_up', IDENTIFIED, { identification: 'failed', identificationFailures: 3 }),
  // Sunday, Nov 2: 1:30 AM twice, once in PDT and once in PST
  call('2025-11-02T01:30:00-07:00', 'self_served', [...IDENTIFIED, 'payment'], { identification: 'verified', payment: 'recorded' }),
  call('2025-11-02T01:30:00-08:00', 'transferred', [...IDENTIFIED, 'payment'], { transferReason: 'error', identification: 'verified', payment: 'spooled' }),
  call('2025-11-02T11:00:00-08:00', 'failed', [], { twilioStatus: 'failed', durationSeconds: null }),
  call('2025-11-02T11:10:00-08:00', 'self_served', [...IDENTIFIED, 'history'], { language: 'es', identification: 'verified' }),
  call('2025-11-02T11:50:00-08:00', 'abandoned', IDENTIFIED, { identification: 'throttled', identificationFailures: 2 }),
  // Monday, Nov 3 (PST)
  call('2025-11-03T08:00:00-08:00', 'self_served', [...IDENTIFIED, 'balance', 'main', 'hours'], { identification: 'verified' }),
  call('2025-11-03T08:10:00-08:00', 'transferred', IDENTIFIED, { transferReason: 'gave_up', identification: 'failed', identificationFailures: 3 }),
  call('2025-11-03T08:20:00-08:00', 'transferred', ['language', 'main', 'services', 'transfer'], { transferReason: 'requested', language: 'es' }),
  call('2025-11-03T08:45:00-08:00', 'self_served', [...IDENTIFIED, 'payment'], { identification: 'verified', identificationFailures: 1, payment: 'declined' }),
  call('2025-11-03T09:05:00-08:00', 'self_served', [...IDENTIFIED, 'payment'], { identification: 'verified', payment: 'recorded' }),
  call('2025-11-03T09:30:00-08:00', 'self_served', ['language', 'main', 'forms']),
  call('2025-11-03T12:00:00-08:00', 'transferred', [...IDENTIFIED, 'transfer'], { transferReason: 'requested', identification: 'verified' }),
  call('2025-11-03T12:05:00-08:00', 'gave_up', ['language', 'main']),
  call('2025-11-03T17:45:00-08:00', 'self_served', ['language', 'main', 'account', 'pinHelp', 'forgotPin']),
  call('2025-11-03T19:59:00-08:00', 'abandoned', IDENTIFIED, { language: 'es', identification: 'failed', identificationFailures: 1 }),
];

export const OUTSIDE_PERIOD: CallRecord[] = [
  call('2025-10-31T23:59:59-07:00', 'transferred', ['language', 'main', 'transfer'], { transferReason: 'requested' }),
  call('2025-11-04T00:00:00-08:00', 'self_served', ['language', 'main', 'hours']),
];

/** The fixture's records in an order the report must not depend on. */
export const RECORDS: CallRecord[] = [...IN_PERIOD.slice(10), OUTSIDE_PERIOD[1]!, ...IN_PERIOD.slice(0, 10), OUTSIDE_PERIOD[0]!];

/** Counted by hand from the calls above. */
export const EXPECTED = {
  calls: 20,
  outcomes: { self_served: 8, transferred: 5, abandoned: 4, gave_up: 2, failed: 1 },
  containmentPercent: '40%',
  languages: { en: 16, es: 4 },
  hoursInPeriod: 73, // the Sunday has 25
  hoursWithCalls: 12,
  days: ['2025-11-01', '2025-11-02', '2025-11-03'],
  containmentPerDay: [
    { calls: 5, selfServed: 1 },
    { calls: 5, selfServed: 2 },
    { calls: 10, selfServed: 5 },
  ],
  funnel: [
    { menu: 'language', reached: 19, endedHere: 1 },
    { menu: 'main', reached: 18, endedHere: 1 },
    { menu: 'account', reached: 13, endedHere: 0 },
    { menu: 'balance', reached: 2, endedHere: 1 },
    { menu: 'history', reached: 1, endedHere: 1 },
    { menu: 'services', reached: 1, endedHere: 0 },
    { menu: 'forms', reached: 1, endedHere: 1 },
    { menu: 'pinHelp', reached: 1, endedHere: 0 },
    { menu: 'forgotPin', reached: 1, endedHere: 1 },
    { menu: 'login', reached: 12, endedHere: 4 },
    { menu: 'payment', reached: 4, endedHere: 4 },
    { menu: 'hours', reached: 2, endedHere: 2 },
    { menu: 'transfer', reached: 3, endedHere: 3 },
  ],
  endedBeforeAnyMenu: 1,
  transfers: { requested: 3, gave_up: 1, error: 1 },
  identificationPerDay: [
    { day: '2025-11-01', failed: 1, throttled: 0, failedAttempts: 3 },
    { day: '2025-11-02', failed: 0, throttled: 1, failedAttempts: 2 },
    { day: '2025-11-03', failed: 2, throttled: 0, failedAttempts: 5 },
  ],
  paymentsPerDay: [
    { day: '2025-11-01', recorded: 0, declined: 0, spooled: 0 },
    { day: '2025-11-02', recorded: 1, declined: 0, spooled: 1 },
    { day: '2025-11-03', recorded: 1, declined: 1, spooled: 0 },
  ],
} as const;
