// What a caller can learn and change about their own account. Every answer is read from the
// store at the moment it is asked (no cached balances), and every question is about the
// participant the caller proved to be: nothing here takes a case number from the caller.
import { randomBytes } from 'node:crypto';
import type { CaseloadStore, PinReset } from './caseload-store.ts';
import {
  paymentHistory, roleIn, upcoming,
  type Appointment, type Case, type CaseNumber, type Participant, type ParticipantId, type PaymentMethod, type Role,
} from './caseload.ts';
import { BcryptGate } from './bcrypt-gate.ts';
import { balanceTotal, cents, type Cents } from './money.ts';
import { pendingPinDigest, ssnHash } from './crypto.ts';
import {
  DEFAULT_IDENTIFICATION_POLICY, ignoreSecurityEvents, isWithheld,
  type CallerKey, type FailureCounted, type IdentificationMethod, type IdentificationPolicy, type SecurityEvents,
} from './identification.ts';
import { encryptForLetter, issuePin, isPinShaped, pinProblem, type PinProblem } from './pin.ts';

/** At most this many cases are read out in a balance (spec section 5). */
export const MAX_CASES_READ = 5;

export type AccountSecrets = { ssnHashKey: string; pinLetterKey: string; bcryptCost: number };

/**
 * A locked participant, an unknown ID and a wrong PIN all answer `mismatch` (spec section 4: the
 * lock is never announced); `throttled` means the calling number has used its failures for the hour.
 */
export type LoginResult =
  | { ok: true; participantId: ParticipantId }
  | { ok: false; reason: 'mismatch' | 'throttled' };

/** Participant ID and SSN naming the same person (card payment, forgot my PIN). */
export type IdentityCheck =
  | { ok: true; participantId: ParticipantId }
  | { ok: false; reason: 'mismatch' | 'throttled' };

export type CaseBalance = {
  caseNumber: CaseNumber;
  role: Role;
  monthlyObligation: Cents;
  currentMonthDue: Cents;
  arrearsPrincipal: Cents;
  arrearsInterest: Cents;
  credit: Cents;
  total: Cents;
};

export type BalanceReport = {
  /** Open cases, paying ones first; at most MAX_CASES_READ. */
  cases: CaseBalance[];
  openCases: number;
  totals: { role: Role; cases: number; total: Cents }[];
};

/**
 * The answer said first when a caller reaches their account: what they owe on the open cases
 * where they pay, and the last payment received on the open cases where they receive.
 */
export type AccountSummary = {
  paying: { total: Cents; dueThisMonth: Cents } | null;
  /** `lastPayment` is null when nothing was received in the last 12 months. */
  receiving: { lastPayment: { amount: Cents; receivedAt: string } | null } | null;
};

export type HistoryItem = { caseNumber: CaseNumber; receivedAt: string; amount: Cents; method: PaymentMethod };

export type CaseSummary = { caseNumber: CaseNumber; county: string; status: Case['status']; role: Role };
export type AppointmentItem = Appointment & { caseNumber: CaseNumber };
export type CaseInformation = { cases: CaseSummary[]; appointments: AppointmentItem[] };

export type ForgotPinResult =
  | { ok: true }
  | { ok: false; reason: 'mismatch' | 'throttled' }
  | { ok: false; reason: 'recently-reset'; lastResetAt: string };

/** Only the parent an appointment is for hears it; one that does not say (`both`, or a file before version 2) is for both. */
function isFor(appointment: Appointment, role: Role): boolean {
  return appointment.attendee === undefined || appointment.attendee === 'both' || appointment.attendee === role;
}

/** Stands in for an unknown participant so that every attempt reads and writes as much as a real one. */
const NOBODY = '0000000000' as ParticipantId;
export type ProposedPin = { ok: true; digest: string } | { ok: false; reason: PinProblem };

export class Accounts {
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly store: CaseloadStore,
    private readonly secrets: AccountSecrets,
    private readonly clock: () => Date = () => new Date(),
    private readonly bcrypt: BcryptGate = new BcryptGate(),
    private readonly policy: IdentificationPolicy = DEFAULT_IDENTIFICATION_POLICY,
    private readonly securityEvent: SecurityEvents = ignoreSecurityEvents,
  ) {}

  // Unknown IDs are compared against this, so a wrong ID costs the same bcrypt work as a wrong PIN.
  private dummy(): Promise<string> {
    this.dummyHash ??= this.bcrypt.hash(randomBytes(16).toString('hex'), this.secrets.bcryptCost);
    return this.dummyHash;
  }

  /** A 10-digit participant ID or a 9-digit SSN, to the participant it names (or null). */
  async identify(entry: string): Promise<ParticipantId | null> {
    if (/^\d{10}$/.test(entry)) return (await this.store.participant(entry as ParticipantId))?.participantId ?? null;
    if (/^\d{9}$/.test(entry)) return this.store.participantBySsnHash(ssnHash(entry, this.secrets.ssnHashKey));
    return null;
  }

  async participant(participantId: ParticipantId): Promise<Participant | null> {
    return this.store.participant(participantId);
  }

  /** Whether a caller from this number may try to identify at all this hour. */
  async mayIdentify(caller: CallerKey): Promise<boolean> {
    const state = await this.store.identificationState('pin', null, caller, this.clock(), this.policy);
    if (state.throttled) this.securityEvent({ kind: 'identification-throttled', scope: isWithheld(caller) ? 'withheld' : 'number' });
    return !state.throttled;
  }

  /**
   * ID (or SSN) and PIN. The same work whatever the answer: an unknown ID is compared with a dummy
   * hash and counted like any failure; a locked participant is compared too and answered like a
   * wrong PIN. A PIN mailed after "Forgot my PIN" works beside the current one until first used.
   */
  async login(candidate: ParticipantId | null, pin: string, caller: CallerKey): Promise<LoginResult> {
    const at = this.clock();
    const [credentials, state] = await Promise.all([
      this.store.credentials(candidate ?? NOBODY),
      this.store.identificationState('pin', candidate, caller, at, this.policy),
    ]);
    if (state.throttled) return this.throttled(caller);
    const { pinHash, pendingPinHash } = candidate ? credentials : { pinHash: null, pendingPinHash: null };
    const current = await this.bcrypt.compare(pin, pinHash ?? (await this.dummy()));
    const pending = pendingPinHash !== null && !(current && pinHash) && (await this.bcrypt.compare(pin, pendingPinHash));
    if (candidate && !state.locked && ((current && pinHash) || pending)) {
      if (pending && pendingPinHash) await this.store.usePendingPin(candidate, pendingPinHash, at);
      return { ok: true, participantId: candidate };
    }
    return this.failed('pin', candidate, caller, at, !candidate ? 'unknown' : state.locked ? 'locked' : 'mismatch');
  }

  /** Participant ID and SSN must name the same person (forgot-PIN, card payment), under the same limits as a PIN. */
  async verifyIdentity(candidate: ParticipantId | null, ssn: string, caller: CallerKey): Promise<IdentityCheck> {
    const at = this.clock();
    // The SSN is looked up whether or not the ID named anyone, so an unknown ID costs what a known one does.
    const [bySsn, state] = await Promise.all([
      this.store.participantBySsnHash(ssnHash(/^\d{9}$/.test(ssn) ? ssn : '000000000', this.secrets.ssnHashKey)),
      this.store.identificationState('ssn', candidate, caller, at, this.policy),
    ]);
    if (state.throttled) return this.throttled(caller);
    if (candidate && !state.locked && /^\d{9}$/.test(ssn) && bySsn === candidate) return { ok: true, participantId: candidate };
    return this.failed('ssn', candidate, caller, at, !candidate ? 'unknown' : state.locked ? 'locked' : 'mismatch');
  }

  private throttled(caller: CallerKey): { ok: false; reason: 'throttled' } {
    this.securityEvent({ kind: 'identification-throttled', scope: isWithheld(caller) ? 'withheld' : 'number' });
    return { ok: false, reason: 'throttled' };
  }

  /** Counts the failure everywhere it counts and reports what it set off; the caller hears only mismatch or throttled. */
  private async failed(method: IdentificationMethod, candidate: ParticipantId | null, caller: CallerKey, at: Date, reason: 'unknown' | 'mismatch' | 'locked'): Promise<{ ok: false; reason: 'mismatch' | 'throttled' }> {
    const counted: FailureCounted = await this.store.recordIdentificationFailure(method, candidate, caller, at, this.policy);
    this.securityEvent({ kind: 'identification-failed', method, reason });
    if (counted.lockedNow) this.securityEvent({ kind: 'identification-locked', method });
    if (counted.alarmNow) this.securityEvent({ kind: 'identification-alarm', failuresThisMinute: counted.lineFailures });
    if (counted.throttled) return this.throttled(caller);
    return { ok: false, reason: 'mismatch' };
  }

  /**
   * A new PIN by mail. It waits beside the current PIN until first used, so a reset requested by
   * someone else cannot cut the parent off; the request lifts a PIN lock.
   */
  async forgotPin(candidate: ParticipantId | null, ssn: string, caller: CallerKey): Promise<ForgotPinResult> {
    const verified = await this.verifyIdentity(candidate, ssn, caller);
    if (!verified.ok) return verified;
    const { participantId } = verified;
    const participant = await this.store.participant(participantId);
    if (!participant) return { ok: false, reason: 'mismatch' };
    const pin = issuePin();
    const now = this.clock();
    const reset: PinReset = await this.store.requestPinReset(
      participantId,
      await this.bcrypt.hash(pin, this.secrets.bcryptCost),
      {
        kind: 'pin-reset',
        participantId,
        language: participant.language,
        name: `${participant.firstName} ${participant.lastName}`,
        address: participant.mailingAddress,
        createdAt: now.toISOString(),
        encryptedPin: encryptForLetter(pin, this.secrets.pinLetterKey),
      },
      now,
      this.policy,
    );
    return reset.ok ? { ok: true } : { ok: false, reason: 'recently-reset', lastResetAt: reset.lastResetAt };
  }

  /** Checks a new PIN the caller chose; the digest lets the second entry be compared without keeping the PIN. */
  async proposePin(participantId: ParticipantId, pin: string): Promise<ProposedPin> {
    const problem = pinProblem(pin);
    if (problem) return { ok: false, reason: problem };
    const { pinHash: current } = await this.store.credentials(participantId);
    if (current && (await this.bcrypt.compare(pin, current))) return { ok: false, reason: 'same-as-old' };
    return { ok: true, digest: pendingPinDigest(participantId, pin, this.secrets.ssnHashKey) };
  }

  /** The second entry: saved only if it is the PIN proposed a moment ago. */
  async confirmPin(participantId: ParticipantId, pin: string, digest: string): Promise<boolean> {
    if (!isPinShaped(pin) || pendingPinDigest(participantId, pin, this.secrets.ssnHashKey) !== digest) return false;
    await this.store.changePin(participantId, await this.bcrypt.hash(pin, this.secrets.bcryptCost), this.clock());
    return true;
  }

  private async partyCases(participantId: ParticipantId): Promise<{ c: Case; role: Role }[]> {
    const cases = await this.store.casesOf(participantId);
    return cases.flatMap((c) => {
      const role = roleIn(c, participantId);
      return role ? [{ c, role }] : [];
    });
  }

  async balances(participantId: ParticipantId): Promise<BalanceReport> {
    const open = (await this.partyCases(participantId))
      .filter(({ c }) => c.status === 'open')
      .sort((a, b) => (a.role === b.role ? a.c.caseNumber.localeCompare(b.c.caseNumber) : a.role === 'paying' ? -1 : 1));
    const cases = open.map(({ c, role }) => ({
      caseNumber: c.caseNumber, role,
      monthlyObligation: c.monthlyObligation, currentMonthDue: c.currentMonthDue,
      arrearsPrincipal: c.arrearsPrincipal, arrearsInterest: c.arrearsInterest, credit: c.credit,
      total: balanceTotal(c),
    }));
    const totals = (['paying', 'receiving'] as const).flatMap((role) => {
      const mine = cases.filter((c) => c.role === role);
      return mine.length ? [{ role, cases: mine.length, total: cents(mine.reduce((sum, c) => sum + c.total, 0)) }] : [];
    });
    return { cases: cases.slice(0, MAX_CASES_READ), openCases: cases.length, totals };
  }

  async summary(participantId: ParticipantId): Promise<AccountSummary> {
    const open = (await this.partyCases(participantId)).filter(({ c }) => c.status === 'open');
    const paying = open.filter(({ role }) => role === 'paying').map(({ c }) => c);
    const receiving = open.filter(({ role }) => role === 'receiving').map(({ c }) => c);
    const received = paymentHistory((await Promise.all(receiving.map((c) => this.store.payments(c.caseNumber)))).flat(), this.clock());
    const last = received[0];
    return {
      paying: paying.length === 0 ? null : {
        total: cents(paying.reduce((sum, c) => sum + balanceTotal(c), 0)),
        dueThisMonth: cents(paying.reduce((sum, c) => sum + c.currentMonthDue, 0)),
      },
      receiving: receiving.length === 0 ? null : { lastPayment: last ? { amount: last.amount, receivedAt: last.receivedAt } : null },
    };
  }

  async history(participantId: ParticipantId): Promise<HistoryItem[]> {
    const cases = await this.partyCases(participantId);
    const all = await Promise.all(
      cases.map(async ({ c }) => (await this.store.payments(c.caseNumber)).map((p) => ({ caseNumber: c.caseNumber, receivedAt: p.receivedAt, amount: p.amount, method: p.method }))),
    );
    return paymentHistory(all.flat(), this.clock());
  }

  async caseInformation(participantId: ParticipantId): Promise<CaseInformation> {
    const cases = await this.partyCases(participantId);
    const appointments = await Promise.all(
      cases.map(async ({ c, role }) => (await this.store.appointments(c.caseNumber)).filter((a) => isFor(a, role)).map((a) => ({ ...a, caseNumber: c.caseNumber }))),
    );
    return {
      cases: cases
        .sort((a, b) => (a.c.status === b.c.status ? a.c.caseNumber.localeCompare(b.c.caseNumber) : a.c.status === 'open' ? -1 : 1))
        .map(({ c, role }) => ({ caseNumber: c.caseNumber, county: c.county, status: c.status, role })),
      appointments: upcoming(appointments.flat(), this.clock()),
    };
  }
}
