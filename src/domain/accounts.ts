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
import { PIN_POLICY, encryptForLetter, issuePin, isPinShaped, pinProblem, type PinProblem } from './pin.ts';

/** At most this many cases are read out in a balance (spec section 5). */
export const MAX_CASES_READ = 5;

export type AccountSecrets = { ssnHashKey: string; pinLetterKey: string; bcryptCost: number };

export type LoginResult =
  | { ok: true; participantId: ParticipantId }
  | { ok: false; reason: 'mismatch' }
  | { ok: false; reason: 'locked' };

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

export type ForgotPinResult = { ok: true } | { ok: false; reason: 'mismatch' } | { ok: false; reason: 'recently-reset'; lastResetAt: string };
export type ProposedPin = { ok: true; digest: string } | { ok: false; reason: PinProblem };

export class Accounts {
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly store: CaseloadStore,
    private readonly secrets: AccountSecrets,
    private readonly clock: () => Date = () => new Date(),
    private readonly bcrypt: BcryptGate = new BcryptGate(),
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

  async login(candidate: ParticipantId | null, pin: string): Promise<LoginResult> {
    const [hash, locked] = candidate
      ? await Promise.all([this.store.pinHash(candidate), this.store.isPinLocked(candidate)])
      : [null, false];
    const matches = await this.bcrypt.compare(pin, hash ?? (await this.dummy()));
    if (!candidate || !hash) return { ok: false, reason: 'mismatch' };
    if (locked) return { ok: false, reason: 'locked' };
    if (matches) return { ok: true, participantId: candidate };
    const failure = await this.store.recordPinFailure(candidate, this.clock(), PIN_POLICY);
    return failure.locked ? { ok: false, reason: 'locked' } : { ok: false, reason: 'mismatch' };
  }

  /** Participant ID and SSN must name the same person (forgot-PIN, card payment). */
  async verifyIdentity(candidate: ParticipantId | null, ssn: string): Promise<ParticipantId | null> {
    if (!candidate || !/^\d{9}$/.test(ssn)) return null;
    const bySsn = await this.store.participantBySsnHash(ssnHash(ssn, this.secrets.ssnHashKey));
    return bySsn === candidate ? candidate : null;
  }

  async forgotPin(candidate: ParticipantId | null, ssn: string): Promise<ForgotPinResult> {
    const participantId = await this.verifyIdentity(candidate, ssn);
    const participant = participantId ? await this.store.participant(participantId) : null;
    if (!participantId || !participant) return { ok: false, reason: 'mismatch' };
    const pin = issuePin();
    const now = this.clock();
    const reset: PinReset = await this.store.resetPin(
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
      PIN_POLICY,
    );
    return reset.ok ? { ok: true } : { ok: false, reason: 'recently-reset', lastResetAt: reset.lastResetAt };
  }

  /** Checks a new PIN the caller chose; the digest lets the second entry be compared without keeping the PIN. */
  async proposePin(participantId: ParticipantId, pin: string): Promise<ProposedPin> {
    const problem = pinProblem(pin);
    if (problem) return { ok: false, reason: problem };
    const current = await this.store.pinHash(participantId);
    if (current && (await this.bcrypt.compare(pin, current))) return { ok: false, reason: 'same-as-old' };
    return { ok: true, digest: pendingPinDigest(participantId, pin, this.secrets.ssnHashKey) };
  }

  /** The second entry: saved only if it is the PIN proposed a moment ago. */
  async confirmPin(participantId: ParticipantId, pin: string, digest: string): Promise<boolean> {
    if (!isPinShaped(pin) || pendingPinDigest(participantId, pin, this.secrets.ssnHashKey) !== digest) return false;
    await this.store.changePin(participantId, await this.bcrypt.hash(pin, this.secrets.bcryptCost));
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
      cases.map(async ({ c }) => (await this.store.appointments(c.caseNumber)).map((a) => ({ ...a, caseNumber: c.caseNumber }))),
    );
    return {
      cases: cases
        .sort((a, b) => (a.c.status === b.c.status ? a.c.caseNumber.localeCompare(b.c.caseNumber) : a.c.status === 'open' ? -1 : 1))
        .map(({ c, role }) => ({ caseNumber: c.caseNumber, county: c.county, status: c.status, role })),
      appointments: upcoming(appointments.flat(), this.clock()),
    };
  }
}
