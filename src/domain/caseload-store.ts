// What the domain needs from wherever the caseload is kept: participants, cases, their ledgers,
// PIN security and the mail outbox. The store implements it twice (Redis; in process) under one
// contract suite (test/caseload-store.contract.test.ts). SSNs and PINs exist there only as hashes,
// and a mailed PIN only encrypted.
import type { Appointment, Case, CaseNumber, Participant, ParticipantId, Payment } from './caseload.ts';
import type { ParsedCase } from './caseload-file.ts';
import type { AttemptState, CallerKey, FailureCounted, IdentificationMethod, IdentificationPolicy } from './identification.ts';
import type { Letter, PinLetter, QueuedLetter, QueuedLetterId } from './outbox.ts';

export type LoadedParticipant = { participant: Participant; ssnHash: string; pinHash: string | null };
export type LoadedCaseload = { participants: LoadedParticipant[]; cases: ParsedCase[] };

/**
 * A participant's PINs as the line holds them: the one that works, and a PIN mailed after "Forgot
 * my PIN" that replaces it the first time it is used (until then both work).
 */
export type Credentials = { pinHash: string | null; pendingPinHash: string | null };

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
  credentials(participantId: ParticipantId): Promise<Credentials>;
  /** Every case the participant is a party to, in either role, with its balances now. */
  casesOf(participantId: ParticipantId): Promise<Case[]>;
  /** Newest first. */
  payments(caseNumber: CaseNumber): Promise<Payment[]>;
  appointments(caseNumber: CaseNumber): Promise<Appointment[]>;

  /**
   * Whether this method is locked for the participant (`null`: an unknown one, for which the same
   * work is done) and whether the calling number has used its failures for the hour.
   */
  identificationState(method: IdentificationMethod, participantId: ParticipantId | null, caller: CallerKey, at: Date, policy: IdentificationPolicy): Promise<AttemptState>;
  /** Counts a failed identification for the participant (if known), the calling number and the line, in one atomic step. */
  recordIdentificationFailure(method: IdentificationMethod, participantId: ParticipantId | null, caller: CallerKey, at: Date, policy: IdentificationPolicy): Promise<FailureCounted>;
  /** Sets a PIN the caller chose (already verified); a PIN mailed and not used yet no longer replaces it. */
  changePin(participantId: ParticipantId, pinHash: string, at: Date): Promise<void>;
  /**
   * Forgot my PIN: the new PIN waits beside the current one until it is first used, the PIN lock
   * and failures are cleared, the letter is queued; all or nothing, at most once per interval.
   */
  requestPinReset(participantId: ParticipantId, pendingPinHash: string, letter: PinLetter, at: Date, policy: IdentificationPolicy): Promise<PinReset>;
  /** The mailed PIN was used: it becomes the PIN (if it is still the one pending). */
  usePendingPin(participantId: ParticipantId, pendingPinHash: string, at: Date): Promise<void>;
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
