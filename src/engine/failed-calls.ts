// The calls whose last webhook this process answered with the apology (or a spooled payment):
// kept here because the store, the usual place, may be the thing that failed. Bounded, and each
// entry lasts as long as a session would.
import type { TurnFailure } from '../domain/call-record.ts';

export class FailedCalls {
  private readonly calls = new Map<string, { failure: TurnFailure; until: number }>();

  constructor(private readonly keepMs: number, private readonly max = 10_000, private readonly now: () => number = Date.now) {}

  remember(callSid: string, failure: TurnFailure): void {
    const now = this.now();
    if (this.calls.size >= this.max) {
      for (const [sid, entry] of this.calls) if (entry.until <= now) this.calls.delete(sid);
      // Still full: the oldest entry goes (a Map iterates in insertion order).
      if (this.calls.size >= this.max) this.calls.delete(this.calls.keys().next().value as string);
    }
    this.calls.delete(callSid);
    this.calls.set(callSid, { failure, until: now + this.keepMs });
  }

  /** The call's failure, forgotten as it is read. */
  take(callSid: string): TurnFailure | null {
    const entry = this.calls.get(callSid);
    this.calls.delete(callSid);
    return entry && entry.until > this.now() ? entry.failure : null;
  }
}
