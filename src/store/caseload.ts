// The caseload as the line's store holds it: participants, cases, their ledgers, PIN security
// and the mail outbox. One interface, an in-process and a Redis implementation, one contract
// suite (test/caseload-store.contract.test.ts). SSNs and PINs exist here only as hashes, and a
// mailed PIN only encrypted.
import type { Appointment, Case, CaseNumber, MailingAddress, Participant, ParticipantId, Payment, Language } from '../domain/caseload.ts';
import type { ParsedCase } from '../domain/caseload-file.ts';

export type LoadedParticipant = { participant: Participant; ssnHash: string; pinHash: string | null };
export type LoadedCaseload = { participants: LoadedParticipant[]; cases: ParsedCase[] };

/** The forms a caller can have mailed (spec section 8). */
export type MailedForm = 'change-of-address' | 'recurring-payment-registration' | 'payment-coupons';
export const MAILED_FORMS: readonly MailedForm[] = ['change-of-address', 'recurring-payment-registration', 'payment-coupons'];

/** Whom a letter goes to: the participant's name, letter language and address on file when it was queued. */
type Addressee = {
  participantId: ParticipantId;
  language: Language;
  name: string;
  address: MailingAddress;
  createdAt: string;
};

export type PinLetter = Addressee & {
  kind: 'pin-reset';
  /** The new PIN, AES-GCM encrypted with PIN_LETTER_KEY; decrypted only when the letter is printed. */
  encryptedPin: string;
};
export type FormLetter = Addressee & { kind: 'form'; form: MailedForm };
export type Letter = PinLetter | FormLetter;

export type LetterStatus = 'pending' | 'sent';
type InOutbox = { letterId: string; idempotencyKey: string; status: LetterStatus; sentAt: string | null };

/**
 * A letter as the outbox keeps it, sent ones too. A PIN letter's sealed PIN is kept apart from the
 * letter and deleted when the letter is sent, so here it is null from then on.
 */
export type QueuedLetter = ((Omit<PinLetter, 'encryptedPin'> & { encryptedPin: string | null }) | FormLetter) & InOutbox;

export type QueuedLetterId = { letterId: string; queued: boolean };

/** The sealed PIN of a PIN letter not sent yet; null for a form, or once the letter is sent. */
export function sealedPinOf(letter: QueuedLetter): string | null {
  return letter.kind === 'pin-reset' ? letter.encryptedPin : null;
}

/** A new letter as both stores keep it: the record (JSON, no PIN) and, apart from it, a PIN letter's sealed PIN. */
export function outboxEntry(letter: Letter, letterId: string, idempotencyKey: string): { record: string; sealedPin: string | null } {
  const inOutbox: InOutbox = { letterId, idempotencyKey, status: 'pending', sentAt: null };
  if (letter.kind === 'form') return { record: JSON.stringify({ ...letter, ...inOutbox }), sealedPin: null };
  const { encryptedPin, ...withoutPin } = letter;
  return { record: JSON.stringify({ ...withoutPin, ...inOutbox }), sealedPin: encryptedPin };
}

export function queuedLetter(record: string, sealedPin: string | null): QueuedLetter {
  const letter = JSON.parse(record) as QueuedLetter;
  return letter.kind === 'pin-reset' ? { ...letter, encryptedPin: sealedPin } : letter;
}

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
