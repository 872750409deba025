// Hours and days as the line's office sees them: Pacific time, whatever the machine's zone.
import { PACIFIC, pacificTime } from '../domain/hours.ts';

const HOUR_MS = 3_600_000;

/** The Pacific hour of the day an instant falls in, 0 to 23. */
export const pacificHourOfDay = (instant: Date) => Math.floor(pacificTime(instant).minutes / 60);

/** YYYY-MM-DD of the Pacific calendar day an instant falls on. */
export function pacificDay(instant: Date): string {
  const t = pacificTime(instant);
  return `${t.year}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant a Pacific calendar day (YYYY-MM-DD) begins; null if it is no such day. */
export function pacificMidnight(day: string): Date | null {
  const match = DAY.exec(day);
  if (!match) return null;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Midnight is always on the clock in Los Angeles (the clocks change at 2 AM), at UTC-7 or UTC-8.
  for (const offset of [7, 8]) {
    const instant = new Date(Date.UTC(year, month - 1, date, offset));
    const t = pacificTime(instant);
    if (t.year === year && t.month === month && t.day === date && t.minutes === 0) return instant;
  }
  return null;
}

/** The start of the hour an instant falls in. Pacific offsets are whole hours, so a UTC hour is a Pacific hour. */
export function hourStart(instant: Date): Date {
  return new Date(Math.floor(instant.getTime() / HOUR_MS) * HOUR_MS);
}

/** Every hour that overlaps [from, to), by its start. */
export function hoursOf(from: Date, to: Date): Date[] {
  const hours: Date[] = [];
  for (let t = hourStart(from).getTime(); t < to.getTime(); t += HOUR_MS) hours.push(new Date(t));
  return hours;
}

/** Every Pacific day that overlaps [from, to), as YYYY-MM-DD. */
export function daysOf(from: Date, to: Date): string[] {
  if (to.getTime() <= from.getTime()) return [];
  const first = pacificTime(from);
  const last = pacificDay(new Date(to.getTime() - 1));
  const days: string[] = [];
  // Calendar arithmetic on UTC dates, which have no clock changes.
  for (let n = 0; ; n++) {
    const day = new Date(Date.UTC(first.year, first.month - 1, first.day + n)).toISOString().slice(0, 10);
    days.push(day);
    if (day >= last) return days;
  }
}

const formats = {
  hour: new Intl.DateTimeFormat('en-US', { timeZone: PACIFIC, weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', timeZoneName: 'short' }),
  clockHour: new Intl.DateTimeFormat('en-US', { timeZone: PACIFIC, hour: 'numeric' }),
  day: new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'short', month: 'short', day: 'numeric' }),
  shortDay: new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' }),
  instant: new Intl.DateTimeFormat('en-US', {
    timeZone: PACIFIC, weekday: 'short', year: 'numeric', month: 'short', day: 'numeric',
    hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
  }),
  minute: new Intl.DateTimeFormat('sv-SE', { timeZone: PACIFIC, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
};

// ICU puts a narrow no-break space before AM/PM; a plain space reads the same and is easier to search.
const plain = (text: string) => text.replace(/[\u202f\u00a0]/g, ' ');
const utcDate = (day: string) => new Date(`${day}T00:00:00Z`);

/** "Mon, Nov 3, 9 AM PST": the zone tells apart the two 1 AMs of the night the clocks go back. */
export const formatHour = (hour: Date) => plain(formats.hour.format(hour));
/** "9 AM" */
export const formatClockHour = (hour: Date) => plain(formats.clockHour.format(hour));
/** "Mon, Nov 3" for a YYYY-MM-DD day */
export const formatDay = (day: string) => formats.day.format(utcDate(day));
/** "Nov 3" */
export const formatShortDay = (day: string) => formats.shortDay.format(utcDate(day));
/** "Mon, Nov 3, 2025, 9:05 AM PST" */
export const formatInstant = (instant: Date) => plain(formats.instant.format(instant));
/** "2025-11-03 09:05", Pacific: sorts as text, for spreadsheets. */
export const formatSortableMinute = (instant: Date) => plain(formats.minute.format(instant));
