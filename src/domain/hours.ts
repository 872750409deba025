// When representatives answer (spec section 8). Self-service is open at all hours; this is
// only about people. Everything is judged in Pacific time, whatever the server's zone.

export const PACIFIC = 'America/Los_Angeles';

/** Minutes after midnight, Pacific time. */
export const REPRESENTATIVE_HOURS = { opens: 7 * 60, closes: 20 * 60, weekdays: [1, 2, 3, 4, 5] } as const;

type HolidayRule =
  | { name: string; month: number; day: number; saturday?: 'friday-before' }
  | { name: string; month: number; weekday: number; nth: number | 'last'; plusDays?: number };

// California state holidays (CalHR). A holiday on a Sunday is observed the Monday after; one on
// a Saturday is not moved, except Veterans Day, observed the Friday before. Edit here only.
export const STATE_HOLIDAYS: readonly HolidayRule[] = [
  { name: "New Year's Day", month: 1, day: 1 },
  { name: 'Martin Luther King Jr. Day', month: 1, weekday: 1, nth: 3 },
  { name: "Presidents' Day", month: 2, weekday: 1, nth: 3 },
  { name: 'Cesar Chavez Day', month: 3, day: 31 },
  { name: 'Memorial Day', month: 5, weekday: 1, nth: 'last' },
  { name: 'Independence Day', month: 7, day: 4 },
  { name: 'Labor Day', month: 9, weekday: 1, nth: 1 },
  { name: 'Veterans Day', month: 11, day: 11, saturday: 'friday-before' },
  { name: 'Thanksgiving Day', month: 11, weekday: 4, nth: 4 },
  { name: 'Day after Thanksgiving', month: 11, weekday: 4, nth: 4, plusDays: 1 },
  { name: 'Christmas Day', month: 12, day: 25 },
];

export type PacificTime = { year: number; month: number; day: number; weekday: number; minutes: number };

const pacificFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: PACIFIC, year: 'numeric', month: 'numeric', day: 'numeric', weekday: 'short',
  hour: 'numeric', minute: 'numeric', hourCycle: 'h23',
});
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function pacificTime(instant: Date): PacificTime {
  const parts: Record<string, string> = {};
  for (const part of pacificFormat.formatToParts(instant)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ''),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** A calendar day as UTC midnight: calendar arithmetic without time zones. */
function day(year: number, month: number, date: number): Date {
  return new Date(Date.UTC(year, month - 1, date));
}

function ruleDate(rule: HolidayRule, year: number): Date {
  if ('day' in rule) {
    const date = day(year, rule.month, rule.day);
    const weekday = date.getUTCDay();
    if (weekday === 0) return day(year, rule.month, rule.day + 1);
    if (weekday === 6 && rule.saturday === 'friday-before') return day(year, rule.month, rule.day - 1);
    return date;
  }
  let date: Date;
  if (rule.nth === 'last') {
    const lastOfMonth = day(year, rule.month + 1, 0);
    date = day(year, rule.month, lastOfMonth.getUTCDate() - ((lastOfMonth.getUTCDay() - rule.weekday + 7) % 7));
  } else {
    const first = day(year, rule.month, 1);
    date = day(year, rule.month, 1 + ((rule.weekday - first.getUTCDay() + 7) % 7) + (rule.nth - 1) * 7);
  }
  return rule.plusDays ? day(year, rule.month, date.getUTCDate() + rule.plusDays) : date;
}

/** The days the state observes as holidays in a year, as YYYY-MM-DD. */
export function observedHolidays(year: number): { date: string; name: string }[] {
  return STATE_HOLIDAYS.map((rule) => ({ date: ruleDate(rule, year).toISOString().slice(0, 10), name: rule.name }));
}

export function holidayOn(instant: Date): string | null {
  const t = pacificTime(instant);
  const date = day(t.year, t.month, t.day).toISOString().slice(0, 10);
  return observedHolidays(t.year).find((holiday) => holiday.date === date)?.name ?? null;
}

export function representativesAvailable(instant: Date): boolean {
  const t = pacificTime(instant);
  if (!(REPRESENTATIVE_HOURS.weekdays as readonly number[]).includes(t.weekday)) return false;
  if (t.minutes < REPRESENTATIVE_HOURS.opens || t.minutes >= REPRESENTATIVE_HOURS.closes) return false;
  return holidayOn(instant) === null;
}
