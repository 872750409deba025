// Posts webhooks at the line the way Twilio does: the full parameter set, signed.
import { randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import twilio from 'twilio';
import { callParams, newCallSid } from '../../src/simulator/call-params.ts';

export { callParams, newCallSid };

export const PUBLIC_URL = 'https://ivr.example.test';
export const AUTH_TOKEN = 'test-auth-token-7f3a';

export type Posted = { status: number; text: string };

export async function post(
  app: RequestListener,
  path: string,
  params: Record<string, string>,
  options: { token?: string; publicUrl?: string; signature?: string | null; idempotencyToken?: string } = {},
): Promise<Posted> {
  const url = (options.publicUrl ?? PUBLIC_URL) + path;
  let req = request(app).post(path).type('form').set('I-Twilio-Idempotency-Token', options.idempotencyToken ?? randomUUID());
  const signature = options.signature === undefined ? twilio.getExpectedTwilioSignature(options.token ?? AUTH_TOKEN, url, params) : options.signature;
  if (signature !== null) req = req.set('X-Twilio-Signature', signature);
  const res = await req.send(params);
  return { status: res.status, text: res.text };
}

/** The action URL of the reply's <Gather> (or <Dial>), as a path the next post can use. */
export function nextPath(twiml: string, attribute: 'action' = 'action'): string {
  const match = new RegExp(`${attribute}="([^"]+)"`).exec(twiml);
  if (!match?.[1]) throw new Error(`no ${attribute} URL in ${twiml}`);
  return match[1].replace(/&amp;/g, '&').replace(PUBLIC_URL, '');
}

/** The <Redirect> a silent caller falls through to. */
export function noInputPath(twiml: string): string {
  const match = /<Redirect[^>]*>([^<]+)<\/Redirect>/.exec(twiml);
  if (!match?.[1]) throw new Error(`no Redirect in ${twiml}`);
  return match[1].replace(/&amp;/g, '&').replace(PUBLIC_URL, '');
}

/** What the line says in a reply, as plain text: SSML <say-as> digits one by one, as the voice says them. */
export function saidIn(twiml: string): string {
  return [...twiml.matchAll(/<Say[^>]*>([\s\S]*?)<\/Say>/g)]
    .map((m) => (m[1] ?? '').replace(/<say-as interpret-as="(?:digits|telephone)">([^<]*)<\/say-as>/g, (_, digits: string) => digits.split('').join(' ')))
    .join(' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}
