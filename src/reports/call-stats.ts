// The call-outcome report's numbers: call records in, counts per hour, day, menu and reason out.
// Pure; hours and days are Pacific time (see pacific.ts).
import {
  CALL_OUTCOMES, MENUS, TRANSFER_REASONS,
  type CallOutcomeKind, type CallRecord, type Menu, type PaymentResult, type TransferReason,
} from '../domain/call-record.ts';
import { daysOf, hourStart, hoursOf, pacificDay } from './pacific.ts';

/** From `from` (included) to `to` (excluded); a call belongs to the period it started in. */
export type ReportPeriod = { from: Date; to: Date };

/** Containment is charted per hour for a period this short, per day otherwise. */
export const HOURLY_CONTAINMENT_UP_TO_HOURS = 48;

export type RecordedPayment = Exclude<PaymentResult, 'none'>;
export const RECORDED_PAYMENTS: readonly RecordedPayment[] = ['recorded', 'declined', 'spooled'];

export type HourCount = { hour: Date; calls: number };
/** One hour (`hour` set) or one day (`hour` null) of containment. */
export type ContainmentPoint = { day: string; hour: Date | null; calls: number; selfServed: number; share: number | null };
export type FunnelStep = { menu: Menu; reached: number; endedHere: number };
export type DayIdentification = { day: string; failed: number; throttled: number; failedAttempts: number };
export type DayPayments = { day: string } & Record<RecordedPayment, number>;

export type CallStats = {
  period: ReportPeriod;
  calls: number;
  outcomes: Record<CallOutcomeKind, number>;
  /** Self-served calls over all calls; null without calls. */
  containment: number | null;
  languages: Record<CallRecord['language'], number>;
  /** Every hour of the period, those without calls too. */
  callsPerHour: HourCount[];
  containmentBy: 'hour' | 'day';
  /** Every hour or day of the period; `share` is null where there were no calls. */
  containmentOverTime: ContainmentPoint[];
  /** The menus at least one call reached, in the order of MENUS. */
  funnel: FunnelStep[];
  /** Calls that ended before reaching any menu (e.g. Twilio could not connect them). */
  endedBeforeAnyMenu: number;
  transfers: Record<TransferReason, number>;
  identification: { perDay: DayIdentification[]; verified: number; failed: number; throttled: number; failedAttempts: number };
  payments: { perDay: DayPayments[] } & Record<RecordedPayment, number>;
};

export function inPeriod(records: Iterable<CallRecord>, period: ReportPeriod): CallRecord[] {
  const from = period.from.getTime();
  const to = period.to.getTime();
  const kept: CallRecord[] = [];
  for (const record of records) {
    const started = Date.parse(record.startedAt);
    if (started >= from && started < to) kept.push(record);
  }
  return kept.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
}

const zeros = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;

/** A list of buckets with a map from key to bucket, filled in by walking the records once. */
function buckets<B>(keys: string[], make: (key: string) => B): { list: B[]; at: (key: string) => B | undefined } {
  const map = new Map(keys.map((key) => [key, make(key)]));
  return { list: [...map.values()], at: (key) => map.get(key) };
}

export function callStats(allRecords: Iterable<CallRecord>, period: ReportPeriod): CallStats {
  const records = inPeriod(allRecords, period);
  const hours = hoursOf(period.from, period.to);
  const days = daysOf(period.from, period.to);
  const containmentBy = hours.length <= HOURLY_CONTAINMENT_UP_TO_HOURS ? 'hour' : 'day';

  const perHour = buckets(hours.map((h) => h.toISOString()), (key) => ({ hour: new Date(key), calls: 0 }));
  const containment = containmentBy === 'hour'
    ? buckets(hours.map((h) => h.toISOString()), (key): ContainmentPoint => ({ day: pacificDay(new Date(key)), hour: new Date(key), calls: 0, selfServed: 0, share: null }))
    : buckets(days, (day): ContainmentPoint => ({ day, hour: null, calls: 0, selfServed: 0, share: null }));
  const identificationPerDay = buckets(days, (day): DayIdentification => ({ day, failed: 0, throttled: 0, failedAttempts: 0 }));
  const paymentsPerDay = buckets(days, (day): DayPayments => ({ day, recorded: 0, declined: 0, spooled: 0 }));
  const reached = zeros(MENUS);
  const endedIn = zeros(MENUS);

  const stats: CallStats = {
    period,
    calls: records.length,
    outcomes: zeros(CALL_OUTCOMES),
    containment: null,
    languages: { en: 0, es: 0 },
    callsPerHour: perHour.list,
    containmentBy,
    containmentOverTime: containment.list,
    funnel: [],
    endedBeforeAnyMenu: 0,
    transfers: zeros(TRANSFER_REASONS),
    identification: { perDay: identificationPerDay.list, verified: 0, failed: 0, throttled: 0, failedAttempts: 0 },
    payments: { perDay: paymentsPerDay.list, recorded: 0, declined: 0, spooled: 0 },
  };

  for (const record of records) {
    const started = new Date(record.startedAt);
    const hour = hourStart(started).toISOString();
    const day = pacificDay(started);
    const selfServed = record.outcome === 'self_served';

    stats.outcomes[record.outcome] += 1;
    stats.languages[record.language] += 1;
    perHour.at(hour)!.calls += 1;
    const point = containment.at(containmentBy === 'hour' ? hour : day)!;
    point.calls += 1;
    if (selfServed) point.selfServed += 1;

    for (const menu of new Set(record.menus)) reached[menu] += 1;
    const last = record.menus[record.menus.length - 1];
    if (last) endedIn[last] += 1;
    else stats.endedBeforeAnyMenu += 1;

    if (record.transferReason) stats.transfers[record.transferReason] += 1;

    const identification = identificationPerDay.at(day)!;
    identification.failedAttempts += record.identificationFailures;
    stats.identification.failedAttempts += record.identificationFailures;
    if (record.identification === 'failed' || record.identification === 'throttled') {
      identification[record.identification] += 1;
      stats.identification[record.identification] += 1;
    } else if (record.identification === 'verified') stats.identification.verified += 1;

    if (record.payment !== 'none') {
      paymentsPerDay.at(day)![record.payment] += 1;
      stats.payments[record.payment] += 1;
    }
  }

  for (const point of containment.list) point.share = point.calls ? point.selfServed / point.calls : null;
  stats.containment = records.length ? stats.outcomes.self_served / records.length : null;
  stats.funnel = MENUS.filter((menu) => reached[menu] > 0).map((menu) => ({ menu, reached: reached[menu], endedHere: endedIn[menu] }));
  return stats;
}
