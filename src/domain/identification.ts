// Who may try to identify, and what a failed try costs (spec section 4). Failures count per
// participant and per method (PIN; participant ID + SSN), per calling number, and line-wide; every
// count lives in the store (shared by every instance of the line) under keys that expire.
import { createHmac } from 'node:crypto';

export const IDENTIFICATION_METHODS = ['pin', 'ssn'] as const;
/** `pin`: an ID or SSN with a PIN (login). `ssn`: a participant ID with an SSN (card payment, forgot my PIN). */
export type IdentificationMethod = (typeof IDENTIFICATION_METHODS)[number];

export type IdentificationPolicy = {
  /** Failures of one method for one participant within `windowMs` that lock that method for them. */
  lockAfter: number;
  /** The lock lifts this long after the last failure (or at once when a new PIN is requested). */
  windowMs: number;
  /** Failed identifications from one calling number within `numberWindowMs`, any participant, any method. */
  perNumber: number;
  /** The one budget every withheld or anonymous number shares. */
  perWithheld: number;
  numberWindowMs: number;
  /** Failed identifications per minute across the line that raise a security alarm. */
  alarmPerMinute: number;
  /** At most one new PIN by mail per participant in this long. */
  resetIntervalMs: number;
};

export const DEFAULT_IDENTIFICATION_POLICY: IdentificationPolicy = {
  lockAfter: 6,
  windowMs: 24 * 3600_000,
  perNumber: 20,
  perWithheld: 100,
  numberWindowMs: 3600_000,
  alarmPerMinute: 60,
  resetIntervalMs: 24 * 3600_000,
};

/** Who is calling, as the limits count it: a keyed hash of the number, or the one withheld budget. */
export type CallerKey = string & { readonly __brand: 'CallerKey' };
export const WITHHELD: CallerKey = 'withheld' as CallerKey;

// What carriers pass for a withheld caller ID: the words, or (older Twilio behaviour) the words
// spelled on a keypad, e.g. ANONYMOUS as +266696687 (twilio.com/changelog, Nov. 16, 2022).
const WITHHELD_WORDS = ['anonymous', 'restricted', 'unknown', 'blocked', 'unavailable', 'private', 'withheld'];
const KEYPAD = ['', '', 'abc', 'def', 'ghi', 'jkl', 'mno', 'pqrs', 'tuv', 'wxyz'];
const spelled = (word: string) => `+${[...word].map((letter) => KEYPAD.findIndex((keys) => keys.includes(letter))).join('')}`;
const WITHHELD_NUMBERS = new Set(WITHHELD_WORDS.map(spelled));

/** The caller's key: never the number itself (it is hashed with a secret), so no count or log can name it. */
export function callerKeyOf(from: string | null | undefined, secret: string): CallerKey {
  const number = (from ?? '').trim();
  if (!/^\+[1-9]\d{6,14}$/.test(number) || WITHHELD_NUMBERS.has(number)) return WITHHELD;
  return `n:${createHmac('sha256', secret).update(`caller:${number}`).digest('base64url').slice(0, 22)}` as CallerKey;
}

export const isWithheld = (caller: CallerKey): boolean => caller === WITHHELD;

/** How an attempt stands before the caller's secret is compared. */
export type AttemptState = {
  /** This method is locked for this participant (the caller is never told). */
  locked: boolean;
  /** The calling number has used its failures for the hour. */
  throttled: boolean;
};

/** What a failure did, counted in one atomic step. */
export type FailureCounted = {
  /** This participant's failures of this method in the window (0 for an unknown participant). */
  failures: number;
  locked: boolean;
  /** This failure locked the method for the participant. */
  lockedNow: boolean;
  numberFailures: number;
  throttled: boolean;
  /** This failure used up the number's budget. */
  throttledNow: boolean;
  /** Failures across the line in this minute, and whether this one crossed the alarm threshold. */
  lineFailures: number;
  alarmNow: boolean;
};

/** The security events the line reports (a log line each, and counters): never an ID, SSN, PIN or full phone number. */
export type SecurityEvent =
  | { kind: 'identification-failed'; method: IdentificationMethod; reason: 'unknown' | 'mismatch' | 'locked' }
  | { kind: 'identification-locked'; method: IdentificationMethod }
  | { kind: 'identification-throttled'; scope: 'number' | 'withheld' }
  | { kind: 'identification-alarm'; failuresThisMinute: number }
  | { kind: 'signature-rejected'; status: number; path: string; reason: string }
  | { kind: 'payment-replay'; reason: 'consumed' | 'expired' | 'other-call' }
  /** A participant's phone updates for the day were used up (the per-call limit is the menus' own, and not reported). */
  | { kind: 'phone-update-limited'; scope: 'day' };

export type SecurityEvents = (event: SecurityEvent) => void;
export const ignoreSecurityEvents: SecurityEvents = () => {};
