// PIN rules (spec section 4). PINs exist only as bcrypt hashes at rest; these helpers never log.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomInt } from 'node:crypto';
import type { PinPolicy } from '../store/caseload.ts';

export const PIN_POLICY: PinPolicy = {
  lockAfter: 6,
  failureWindowMs: 24 * 3600_000,
  resetIntervalMs: 24 * 3600_000,
};

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

/** HMAC-SHA-256 keyed with SSN_HASH_KEY: SSNs are looked up by this, never kept in clear. */
export function ssnHash(ssn: string, key: string): string {
  return createHmac('sha256', key).update(`ssn:${ssn}`).digest('base64url');
}

// A digest of a PIN a caller is choosing, kept in the session between "enter" and "enter again".
// Spelt in letters only, so no run of its characters can ever look like the PIN's digits.
export function pendingPinDigest(participantId: string, pin: string, key: string): string {
  const bytes = createHmac('sha256', key).update(`pending-pin:${participantId}:${pin}`).digest();
  return Array.from(bytes.subarray(0, 16), (b) => String.fromCharCode(97 + (b % 26))).join('');
}

/** AES-256-GCM under a key derived from a configured secret and a purpose, so one secret serves several. */
export function seal(plain: string, secret: string, purpose: string): string {
  const key = createHmac('sha256', secret).update(purpose).digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function unseal(sealed: string, secret: string, purpose: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || !body) throw new Error('not a sealed value');
  const key = createHmac('sha256', secret).update(purpose).digest();
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/** The outbox holds a new PIN only sealed with PIN_LETTER_KEY; it is opened only to print the letter. */
export function encryptForLetter(pin: string, secret: string): string {
  return seal(pin, secret, 'pin-letter-key');
}

export function decryptForLetter(sealed: string, secret: string): string {
  return unseal(sealed, secret, 'pin-letter-key');
}
