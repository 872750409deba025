// The line's clock as the browser phone can set it, to try office hours and holidays: real time,
// or real time moved so that it reads an instant staff chose and runs on from there (as a call
// script's `at:` does).
import { pacificTime } from '../domain/hours.ts';

export class SettableClock {
  private offsetMs = 0;
  private moved = false;

  constructor(private readonly realNow: () => number = Date.now) {}

  readonly now = (): Date => new Date(this.realNow() + this.offsetMs);

  /** Whether the clock reads a time staff set rather than real time. */
  get isSet(): boolean {
    return this.moved;
  }

  /** The clock reads `at` now and runs on from there; null puts it back on real time. */
  set(at: Date | null): void {
    this.moved = at !== null;
    this.offsetMs = at === null ? 0 : at.getTime() - this.realNow();
  }

  /** Runs `work` with the clock at `at`, then puts the clock back as it was, as if `work` had not moved it. */
  async borrow<T>(at: Date, work: () => Promise<T>): Promise<T> {
    const { offsetMs, moved } = this;
    this.set(at);
    try {
      return await work();
    } finally {
      this.offsetMs = offsetMs;
      this.moved = moved;
    }
  }
}

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The instant a Pacific wall-clock time (a datetime-local value, "2026-11-24T10:00") names; null
 * if it names none (a malformed value, or a time skipped when the clocks go forward). Of the two
 * 1:30 AMs of the night the clocks go back, the first (daylight time).
 */
export function pacificWallTime(text: string): Date | null {
  const match = WALL_TIME.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  if (hour > 23 || minute > 59 || second > 59) return null;
  // Los Angeles is UTC-7 in daylight time and UTC-8 in standard time.
  for (const offset of [7, 8]) {
    const instant = new Date(Date.UTC(year, month - 1, day, hour + offset, minute, second));
    const t = pacificTime(instant);
    if (t.year === year && t.month === month && t.day === day && t.minutes === hour * 60 + minute) return instant;
  }
  return null;
}
