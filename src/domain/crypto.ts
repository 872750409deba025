// Every secret-keyed operation of the line, in one place: the SSN's keyed hash, digests that stand
// in for a PIN, and sealing (AES-256-GCM) of what must travel or wait encrypted. Nothing here logs.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

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

/** A key for one purpose, derived from a configured secret, so one secret serves several. */
function purposeKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(purpose).digest();
}

function sealWith(plain: string, key: Buffer, iv: Buffer): string {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

/** AES-256-GCM with a random IV. */
export function seal(plain: string, secret: string, purpose: string): string {
  return sealWith(plain, purposeKey(secret, purpose), randomBytes(12));
}

/**
 * The same plaintext always seals to the same text (the IV is a keyed digest of it, as in SIV),
 * so a reply rendered again for a retry is byte-identical. Reveals only that two plaintexts are
 * equal: use it for values that are unique anyway (they name a call and a turn).
 */
export function sealStable(plain: string, secret: string, purpose: string): string {
  const key = purposeKey(secret, purpose);
  const iv = createHmac('sha256', key).update(`iv:${plain}`).digest().subarray(0, 12);
  return sealWith(plain, key, iv);
}

/** Opens what `seal` or `sealStable` made; throws if it was not sealed with this secret and purpose. */
export function unseal(sealed: string, secret: string, purpose: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || !body) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', purposeKey(secret, purpose), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
