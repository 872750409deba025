// Only Twilio may drive the line: every webhook carries X-Twilio-Signature, an HMAC-SHA1 over
// the URL Twilio requested and the sorted POST parameters (twilio.com/docs/usage/security).
// Behind a proxy the URL must be the public one, so it is PUBLIC_URL + the path and query.
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import twilio from 'twilio';

export type SignatureRejection = { status: 400 | 403; path: string; reason: 'missing' | 'mismatch' };

/** The same URL with its port written out or left off, whichever it was not (Twilio may sign either for a default port). */
function otherPortForm(url: string): string | null {
  const parsed = new URL(url);
  const defaultPort = parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : null;
  if (!defaultPort) return null;
  const withPort = /^(https?:\/\/[^/:?#]+)(:\d+)?/i.exec(url);
  if (!withPort) return null;
  if (withPort[2]) return withPort[2] === `:${defaultPort}` ? url.replace(withPort[0], withPort[1]!) : null;
  return url.replace(withPort[0], `${withPort[1]}:${defaultPort}`);
}

/** The path alone: the query can carry a sealed payment reference, which a log has no use for. */
const pathOf = (url: string): string => url.split('?')[0] ?? url;

function matches(authToken: string, signature: string, url: string, params: Record<string, string>): boolean {
  const expected = Buffer.from(twilio.getExpectedTwilioSignature(authToken, url, params));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * One HMAC for a request signed as PUBLIC_URL says (twilio's validateRequest computes two when the
 * URL has a port, up to six for a bad signature); only a mismatch also tries the other form of a
 * default port. Returns null when the request is Twilio's, else the status to refuse it with.
 */
export function checkSignature(authToken: string, url: string, params: Record<string, string>, signature: string | undefined): 400 | 403 | null {
  if (!signature) return 400;
  if (matches(authToken, signature, url, params)) return null;
  const other = otherPortForm(url);
  return other !== null && matches(authToken, signature, other, params) ? null : 403;
}

/** The check as Express middleware, for a body already parsed (the line itself uses voiceWebhooks). */
export function requireTwilioSignature(authToken: string, publicUrl: string, onReject?: (rejection: SignatureRejection) => void): RequestHandler {
  return (req, res, next) => {
    const signature = req.header('X-Twilio-Signature');
    const refused = checkSignature(authToken, publicUrl + req.originalUrl, (req.body ?? {}) as Record<string, string>, signature);
    if (refused) {
      onReject?.({ status: refused, path: pathOf(req.originalUrl), reason: refused === 400 ? 'missing' : 'mismatch' });
      res.status(refused).type('text/plain').send(refused === 400 ? 'Missing X-Twilio-Signature' : 'Invalid X-Twilio-Signature');
      return;
    }
    next();
  };
}
