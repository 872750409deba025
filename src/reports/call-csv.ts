// The report's data as CSV (RFC 4180): one row per call that started in the period, oldest
// first, so any chart can be rebuilt in a spreadsheet. A record holds nothing personal, and
// neither does a row.
import type { CallRecord } from '../domain/call-record.ts';
import { inPeriod, type ReportPeriod } from './call-stats.ts';
import { formatSortableMinute } from './pacific.ts';

export const CSV_COLUMNS = [
  'call_sid', 'started_at', 'started_pacific', 'ended_at', 'duration_seconds', 'language', 'outcome',
  'transfer_reason', 'identification', 'identification_failures', 'payment', 'twilio_status', 'menus', 'last_menu',
] as const;

const cell = (value: string | number | null) => {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

function row(record: CallRecord): (string | number | null)[] {
  return [
    record.callSid, record.startedAt, formatSortableMinute(new Date(record.startedAt)), record.endedAt, record.durationSeconds,
    record.language, record.outcome, record.transferReason, record.identification, record.identificationFailures,
    record.payment, record.twilioStatus, record.menus.join(' > '), record.menus[record.menus.length - 1] ?? null,
  ];
}

export function callRecordsCsv(records: Iterable<CallRecord>, period: ReportPeriod): string {
  const lines = [CSV_COLUMNS.join(','), ...inPeriod(records, period).map((record) => row(record).map(cell).join(','))];
  return lines.map((line) => `${line}\r\n`).join('');
}
