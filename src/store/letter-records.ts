// How both stores keep a letter: the record (JSON, no PIN) and, apart from it, a PIN letter's
// sealed PIN, so deleting the sealed PIN when the letter is sent leaves nothing secret behind.
import type { InOutbox, Letter, QueuedLetter } from '../domain/outbox.ts';

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
