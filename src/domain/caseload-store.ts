// What the domain needs from wherever the caseload is kept: participants, cases, their ledgers,
// PIN security and the mail outbox. The store implements it twice (Redis; in process) under one
// contract suite (test/caseload-store.contract.test.ts). SSNs and PINs exist there only as hashes,
// and a mailed PIN only encrypted.
import type { Appointment, Case, CaseNumber, Participant, ParticipantId, Payment } from './caseload.ts';
import type { ParsedCase } from './caseload-file.ts';
import type { Letter, PinLetter, QueuedLetter, QueuedLetterId } from './outbox.ts';

export type LoadedParticipant = { participant: Participant; ssnHash: string; pinHash: string | null };
export type LoadedCaseload = { participants: LoadedParticipant[]; cases: ParsedCase[] };

export type PinPolicy = {
  /** Failed PIN tries within `failureWindowMs` that lock PIN login until a reset. */
  lockAfter: number;
  failureWindowMs: number;
  /** At most one reset in this long. */
  resetIntervalMs: number;
};

export type PinFailure = { failuresInWindow: number; locked: boolean };

/** Who changed what, when: phone numbers masked to their last four digits. */
export type AuditEntry = { at: string; participantId: ParticipantId; action: 'phone-update'; oldPhone: string | null; newPhone: string; via: 'phone-line'; callSid?: string };

/** A payment taken by the line; `confirmationCode` (Twilio's PaymentConfirmationCode) makes it unique. */
export type LinePayment = Payment & { confirmationCode: string };
export type RecordedPayment =
  | { status: 'recorded' | 'duplicate'; payment: LinePayment }
  | { status: 'no-case' };
export type PinReset = { ok: true; letterId: string } | { ok: false; reason: 'recently-reset'; lastResetAt: string };

export interface CaseloadStore {
  /** Replaces the whole caseload at once: readers see the old one or the new one, never a mix. */
  replaceCaseload(caseload: LoadedCaseload): Promise<void>;
  participant(participantId: ParticipantId): Promise<Participant | null>;
  participantBySsnHash(ssnHash: string): Promise<ParticipantId | null>;
  pinHash(participantId: ParticipantId): Promise<string | null>;
  /** Every case the participant is a party to, in either role, with its balances now. */
  casesOf(participantId: ParticipantId): Promise<Case[]>;
  /** Newest first. */
  payments(caseNumber: CaseNumber): Promise<Payment[]>;
  appointments(caseNumber: CaseNumber): Promise<Appointment[]>;

  isPinLocked(participantId: ParticipantId): Promise<boolean>;
  /** Counts a failed PIN try and locks PIN login when the policy says so, in one atomic step. */
  recordPinFailure(participantId: ParticipantId, at: Date, policy: PinPolicy): Promise<PinFailure>;
  /** Sets a PIN the caller chose (already verified). */
  changePin(participantId: ParticipantId, pinHash: string): Promise<void>;
  /** New PIN, lock and failures cleared, letter queued: all or nothing, at most once per interval. */
  resetPin(participantId: ParticipantId, pinHash: string, letter: PinLetter, at: Date, policy: PinPolicy): Promise<PinReset>;
  /**
   * Queues a letter in the mail outbox once per idempotency key: a repeat (a retried webhook)
   * queues nothing and answers the first letter's ID with `queued: false`. The outbox is not
   * part of the caseload: a reload keeps it.
   */
  queueLetter(letter: Letter, idempotencyKey: string): Promise<QueuedLetterId>;
  /** Every letter queued, oldest first, sent ones too; the print-and-mail job reads the outbox through outbox.ts. */
  letters(): Promise<QueuedLetter[]>;

  /**
   * Records a payment and its effect on the case in one atomic step, once per confirmation code:
   * a repeat (a retried or concurrent callback) records nothing and returns the first payment.
   * `apply` is the money rule (domain), run against the case as it is at that moment.
   */
  recordPayment(caseNumber: CaseNumber, payment: LinePayment, apply: (c: Case) => Case): Promise<RecordedPayment>;

  /** Sets the participant's phone and appends the audit entry, together; the previous number, or null if no such participant. */
  updatePhone(participantId: ParticipantId, phone: string, audit: AuditEntry): Promise<{ previous: string | null } | null>;
  /** Most recent first. */
  auditTrail(limit: number): Promise<AuditEntry[]>;
}
