// The caseload as the line's store holds it: participants, cases, their ledgers, PIN security
// and the mail outbox. One interface, an in-process and a Redis implementation, one contract
// suite (test/caseload-store.contract.test.ts). SSNs and PINs exist here only as hashes, and a
// mailed PIN only encrypted.
import type { Appointment, Case, CaseNumber, MailingAddress, Participant, ParticipantId, Payment, Language } from '../domain/caseload.ts';
import type { ParsedCase } from '../domain/caseload-file.ts';

export type LoadedParticipant = { participant: Participant; ssnHash: string; pinHash: string | null };
export type LoadedCaseload = { participants: LoadedParticipant[]; cases: ParsedCase[] };

export type Letter = {
  kind: 'pin-reset';
  participantId: ParticipantId;
  language: Language;
  name: string;
  address: MailingAddress;
  createdAt: string;
  /** The new PIN, AES-GCM encrypted with PIN_LETTER_KEY; decrypted only when the letter is printed. */
  encryptedPin: string;
};

export type QueuedLetter = Letter & { letterId: string; idempotencyKey: string };

export type PinPolicy = {
  /** Failed PIN tries within `failureWindowMs` that lock PIN login until a reset. */
  lockAfter: number;
  failureWindowMs: number;
  /** At most one reset in this long. */
  resetIntervalMs: number;
};

export type PinFailure = { failuresInWindow: number; locked: boolean };

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
  resetPin(participantId: ParticipantId, pinHash: string, letter: Letter, at: Date, policy: PinPolicy): Promise<PinReset>;
  /** Oldest first; for the print-and-mail job and for tests. */
  letters(): Promise<QueuedLetter[]>;

  /**
   * Records a payment and its effect on the case in one atomic step, once per confirmation code:
   * a repeat (a retried or concurrent callback) records nothing and returns the first payment.
   * `apply` is the money rule (domain), run against the case as it is at that moment.
   */
  recordPayment(caseNumber: CaseNumber, payment: LinePayment, apply: (c: Case) => Case): Promise<RecordedPayment>;
}
