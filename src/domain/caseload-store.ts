// What the domain needs from wherever the caseload is kept. Two sides (docs/caseload.md, spec section
// 12): the agency's (participants, cases, posted payments and appointments, as the last file said;
// each load replaces it whole) and the line's (what callers did: PINs, card payments, phone
// updates, failures and locks, letters, the changes for the agency's export), which no load
// touches and which is laid on top of the agency's side when a caller is answered. The store
// implements it twice (Redis; in process) under one contract suite. SSNs and PINs exist there
// only as hashes, and a mailed PIN only encrypted.
import type { Appointment, Case, CaseNumber, Participant, ParticipantId, Payment } from './caseload.ts';
import type { ParsedCase } from './caseload-file.ts';
import type { AttemptState, CallerKey, FailureCounted, IdentificationMethod, IdentificationPolicy } from './identification.ts';
import type { Letter, PinLetter, QueuedLetter, QueuedLetterId } from './outbox.ts';

/** `resetPin`: the agency reset this participant's PIN; its PIN (or none) replaces one the line set before the load. */
export type LoadedParticipant = { participant: Participant; ssnHash: string; pinHash: string | null; resetPin: boolean };
export type LoadedCaseload = { participants: LoadedParticipant[]; cases: ParsedCase[] };

/** A load in progress: a new generation written batch by batch, switched in only by `commit`. */
export interface CaseloadLoad {
  addParticipants(participants: readonly LoadedParticipant[]): Promise<void>;
  addCases(cases: readonly ParsedCase[]): Promise<void>;
  /** Switches the new caseload in and clears the one it replaced; what the load kept and retired. */
  commit(): Promise<LoadReport>;
  /** Drops what was written; the loaded caseload stays as it was. */
  abandon(): Promise<void>;
}

/** A load that stalled so long another load took it for dead and cleared what it wrote: nothing changed. */
export class LoadAbandonedError extends Error {
  override readonly name = 'LoadAbandonedError';
  constructor() {
    super('this load stalled so long that another load took it for dead and cleared it: nothing was changed; load the file again');
  }
}

export type LoadReport = {
  participants: number;
  cases: number;
  /** The line's card payments this file confirms (same code, same case): counted once, from the file, from now on. */
  paymentsConfirmed: number;
  /** A file's confirmation code found on a line payment of another case: the line's payment stays; reported. */
  confirmationMismatches: number;
  /** Each of those (the first MISMATCHES_LISTED), for the person who reconciles them. */
  mismatches: ConfirmationMismatch[];
  /** Phone numbers the file now carries (or overtook), and line PINs a `resetPin` replaced. */
  phonesRetired: number;
  pinsRetired: number;
};

/** A card payment the line took on `lineCase` whose confirmation code the file lists on `fileCase`. */
export type ConfirmationMismatch = { confirmationCode: string; lineCase: CaseNumber; fileCase: CaseNumber };
export const MISMATCHES_LISTED = 100;

/**
 * A participant's PINs as the line holds them: the one that works, and a PIN mailed after "Forgot
 * my PIN" that replaces it the first time it is used (until then both work).
 */
export type Credentials = { pinHash: string | null; pendingPinHash: string | null };

/** Who changed what, when: phone numbers masked to their last four digits. */
export type AuditEntry = { at: string; participantId: ParticipantId; action: 'phone-update'; oldPhone: string | null; newPhone: string; via: 'phone-line'; callSid?: string };

/** A payment taken by the line; `confirmationCode` (Twilio's PaymentConfirmationCode) makes it unique. */
export type LinePayment = Payment & { confirmationCode: string };
/**
 * `duplicate`: that confirmation code was recorded already (a retried callback). `replayed`: the
 * <Pay> URL's ticket was used by another payment (a replayed URL); either way nothing new is
 * recorded and the first payment is answered.
 */
export type RecordedPayment =
  | { status: 'recorded' | 'duplicate' | 'replayed'; payment: LinePayment; caseNumber: CaseNumber }
  | { status: 'no-case' };

/** What a <Pay> action URL carries to make it good for one payment: its nonce, kept this long once used. */
export type PayTicket = { nonce: string; keepMs: number };

/** A line payment no file has confirmed yet, for reconciliation. */
export type UnconfirmedPayment = LinePayment & { caseNumber: CaseNumber };

export type PhoneUpdate =
  | { ok: true; previous: string | null }
  | { ok: false; reason: 'no-participant' | 'daily-limit' };

/** How long what the line keeps about finished things is kept (spec sections 8 and 9, retention). */
export type Retention = {
  /** Letters printed, their idempotency keys; card payments a file confirmed. */
  sentDays: number;
  /** The audit trail, by age. */
  auditDays: number;
};
export type PinReset = { ok: true; letterId: string } | { ok: false; reason: 'recently-reset'; lastResetAt: string };

export interface CaseloadStore {
  /** Starts replacing the agency's side: readers see the old caseload or the new one, never a mix. */
  beginLoad(): Promise<CaseloadLoad>;
  /** A whole caseload in one load (small files, tests, the demo). */
  replaceCaseload(caseload: LoadedCaseload): Promise<LoadReport>;
  /** The participant as the file says, with a phone number updated by phone laid on top. */
  participant(participantId: ParticipantId): Promise<Participant | null>;
  participantBySsnHash(ssnHash: string): Promise<ParticipantId | null>;
  credentials(participantId: ParticipantId): Promise<Credentials>;
  /** Every case the participant is a party to, in either role, with its balances now: the file's, with the line's unconfirmed card payments applied. */
  casesOf(participantId: ParticipantId): Promise<Case[]>;
  /** The file's payments and the line's unconfirmed ones, newest first. */
  payments(caseNumber: CaseNumber): Promise<Payment[]>;
  appointments(caseNumber: CaseNumber): Promise<Appointment[]>;
  /** The line's card payments no file has confirmed, received before `before`, oldest first. */
  unconfirmedPayments(before: Date): Promise<UnconfirmedPayment[]>;

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
   * Records a card payment on the line's side in one atomic step, once per confirmation code and
   * once per <Pay> ticket: a retried callback (same code) or a replayed URL (same ticket, another
   * code) records nothing and answers the first payment. It counts in the balance from now on.
   */
  recordPayment(caseNumber: CaseNumber, payment: LinePayment, ticket: PayTicket): Promise<RecordedPayment>;

  /** Sets the participant's phone on the line's side and appends the audit entry, together; at most `perDay` a Pacific day. */
  updatePhone(participantId: ParticipantId, phone: string, audit: AuditEntry, limits: { perDay: number; day: string }): Promise<PhoneUpdate>;
  /** Most recent first. */
  auditTrail(limit: number): Promise<AuditEntry[]>;
}

/**
 * A change the line recorded (spec section 12), as the store keeps it for the agency's export:
 * `id` orders the changes and never changes; `change` is the JSON the store wrote (never a PIN,
 * hash, SSN or card detail); `payer` the paying parent of a card payment's case when it was taken.
 */
export type RecordedChange = { id: string; change: string; payer: string | null };

/** The changes for one export file: those after `after` up to and including `last`. */
export type ExportRange = { after: string; last: string; count: number };

/**
 * The export's side of the line's changes. A range is fixed (kept pending) before its file is
 * written and the cursor moves past it only once its file exists, so a run that stops anywhere
 * leaves a range the next run writes again, or finds written: each change lands in one file.
 */
export interface LineChanges {
  /** The range left pending by a run that did not finish it, else a new one of at most `max` changes after the cursor; null when every change is exported. */
  nextExportRange(max: number): Promise<ExportRange | null>;
  /** The range's changes in order, `batch` at a time. */
  changesIn(range: ExportRange, batch: number): AsyncGenerator<RecordedChange[]>;
  /**
   * The range's file is written: the cursor moves past it, unless another run did already
   * (`stale`); exported changes recorded before `trimBefore` are dropped.
   */
  exported(range: ExportRange, trimBefore: Date): Promise<'advanced' | 'stale'>;
}
