// The mail outbox (spec section 8) as the domain sees it: the letters a caller can have queued,
// and what the print-and-mail job needs from wherever the outbox is kept (src/store/outbox.ts
// keeps it in Redis or in process; src/jobs/print-and-mail.ts prints it).
import type { Language } from './language.ts';
import type { MailingAddress, ParticipantId } from './caseload.ts';

/** The forms a caller can have mailed (spec section 8). */
export const MAILED_FORMS = ['change-of-address', 'recurring-payment-registration', 'payment-coupons'] as const;
export type MailedForm = (typeof MAILED_FORMS)[number];

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
export type InOutbox = { letterId: string; idempotencyKey: string; status: LetterStatus; sentAt: string | null };

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

/** `letter` is null only if its record is missing, which nothing the line does can cause. */
export type ClaimedLetter = { entryId: string; letterId: string; letter: QueuedLetter | null };

/** The print-and-mail job's side of the outbox. */
export interface Outbox {
  /**
   * One pass over what `consumer` should print, in batches: the letters it holds already (a run
   * under the same name stopped half-way), those another consumer has held for the minimum idle
   * time (a run that crashed), then new ones.
   */
  claims(consumer: string, batch: number): AsyncGenerator<ClaimedLetter[]>;
  /** Record sent (the first time only), sealed PIN deleted, claim released: one atomic step. */
  markSent(claimed: ClaimedLetter, at: Date): Promise<void>;
  /** Letters claimed and not sent yet, by any consumer. */
  pending(): Promise<number>;
  /** Letters queued and not sent yet, claimed or not: what is left to print (a read only). */
  unsent(): Promise<number>;
  /** Forgets `consumer` if it holds nothing, so the group does not collect one consumer per run. */
  release(consumer: string): Promise<void>;
}
