// Twilio posts its parameters form-encoded: flat name=value pairs, nothing nested. They are read
// here in one pass (URLSearchParams) rather than through body-parser and qs, which build for
// nested forms and cost a webhook more than the rest of its HTTP handling (npm run bench -- --profile).
import type { IncomingMessage } from 'node:http';

const FORM = /^application\/x-www-form-urlencoded\b/i;

/** The POST parameters of a form-encoded request (none for another body), or 'too-large'. */
export function readForm(req: IncomingMessage, limitBytes: number): Promise<Record<string, string> | 'too-large'> {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!FORM.test(req.headers['content-type'] ?? '')) {
    req.resume();
    return Promise.resolve(params);
  }
  if (Number(req.headers['content-length'] ?? '0') > limitBytes) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        resolve('too-large');
        return;
      }
      for (const [name, value] of new URLSearchParams(Buffer.concat(chunks, size).toString('utf8'))) params[name] = value;
      resolve(params);
    });
    req.on('error', reject);
  });
}
