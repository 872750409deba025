// PIN rules (spec section 4). PINs exist only as bcrypt hashes at rest; these helpers never log.
import { randomInt } from 'node:crypto';
import { seal, unseal } from './crypto.ts';

/** Failed tries in one call before the attempt ends. */
export const PIN_TRIES_PER_CALL = 3;
export const ISSUED_PIN_LENGTH = 6;

export type PinProblem = 'length' | 'same-as-old' | 'repeated-digit' | 'straight-run';

export function isPinShaped(pin: string): boolean {
  return /^\d{4,8}$/.test(pin);
}

/** Why a PIN a caller chose is refused, or null. `sameAsOld` is decided by the caller of this (bcrypt). */
export function pinProblem(pin: string): Exclude<PinProblem, 'same-as-old'> | null {
  if (!isPinShaped(pin)) return 'length';
  if (/^(\d)\1+$/.test(pin)) return 'repeated-digit';
  const steps = new Set<number>();
  for (let i = 1; i < pin.length; i++) steps.add(Number(pin[i]) - Number(pin[i - 1]));
  if (steps.size === 1 && (steps.has(1) || steps.has(-1))) return 'straight-run';
  return null;
}

/** A random PIN the line issues: 6 digits that pass its own rules. */
export function issuePin(): string {
  for (;;) {
    const pin = String(randomInt(0, 10 ** ISSUED_PIN_LENGTH)).padStart(ISSUED_PIN_LENGTH, '0');
    if (pinProblem(pin) === null) return pin;
  }
}

/** The outbox holds a new PIN only sealed with PIN_LETTER_KEY; it is opened only to print the letter. */
export function encryptForLetter(pin: string, secret: string): string {
  return seal(pin, secret, 'pin-letter-key');
}

export function decryptForLetter(sealed: string, secret: string): string {
  return unseal(sealed, secret, 'pin-letter-key');
}
