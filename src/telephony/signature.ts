// Only Twilio may drive the line: every webhook carries X-Twilio-Signature, an HMAC-SHA1 over
// the URL Twilio requested and the sorted POST parameters (twilio.com/docs/usage/security).
// Behind a proxy the URL must be the public one, so it is PUBLIC_URL + the path and query.
import type { RequestHandler } from 'express';
import twilio from 'twilio';

export function requireTwilioSignature(authToken: string, publicUrl: string): RequestHandler {
  return (req, res, next) => {
    const signature = req.header('X-Twilio-Signature');
    if (!signature) {
      res.status(400).type('text/plain').send('Missing X-Twilio-Signature');
      return;
    }
    const params = (req.body ?? {}) as Record<string, string>;
    if (!twilio.validateRequest(authToken, signature, publicUrl + req.originalUrl, params)) {
      res.status(403).type('text/plain').send('Invalid X-Twilio-Signature');
      return;
    }
    next();
  };
}
