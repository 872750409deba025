// The webhook contract (spec section 9): Twilio's parameters in, one typed event to the engine,
// TwiML out. Only this file knows Twilio's parameter names.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerEvent, DialStatus, HeardSpeech, PayResult } from '../../flows/events.ts';
import type { PayRequest } from '../../flows/payment.ts';
import { sealStable, unseal } from '../domain/crypto.ts';
import { parseCaseNumber } from '../domain/caseload.ts';
import { callerKeyOf } from '../domain/identification.ts';
import { parseLanguage, type Language } from '../domain/language.ts';
import { representativesAvailable } from '../domain/hours.ts';
import { cents } from '../domain/money.ts';
import type { Engine, PaymentInFlight } from '../engine/engine.ts';
import { apology, type PayTicket, type Reply } from '../engine/reply.ts';
import { describeError, type Logger } from '../log.ts';
import { readForm } from './form-body.ts';
import { checkSignature, type SignatureRejection } from './signature.ts';
import { emptyResponse, renderReply, type PaySettings, type ReplyUrls } from './twiml.ts';

export const PATHS = {
  answer: '/voice',
  input: '/voice/input',
  noInput: '/voice/no-input',
  dialEnded: '/voice/dial-ended',
  pay: '/voice/pay',
  payStatus: '/voice/pay-status',
  status: '/voice/status',
} as const;

const PAY_RESULTS = new Set<PayResult>([
  'success', 'too-many-failed-attempts', 'payment-connector-error', 'caller-interrupted-with-star', 'caller-hung-up', 'validation-error', 'internal-error',
]);

const FINAL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);
const DIAL_STATUSES = new Set<DialStatus>(['completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled']);

const PAYMENT_REF = 'payment-ref';

/**
 * Action URLs carry only the turn and the language, never anything the caller entered. The <Pay>
 * action also carries the case and amount being charged, sealed (AES-GCM under a key derived
 * from SSN_HASH_KEY), so a payment Twilio approved can be recorded even if the session cannot be
 * read, without the caller's digits appearing in a URL. Sealed stably, so a reply rendered again
 * for a retry is the same document.
 */
export function replyUrls(publicUrl: string, secret: string) {
  return (turn: number, language: Language, pay: (PayRequest & PayTicket) | null = null): ReplyUrls => {
    const query = `?turn=${turn}&lang=${language}`;
    return {
      input: `${publicUrl}${PATHS.input}${query}`,
      noInput: `${publicUrl}${PATHS.noInput}${query}`,
      dialEnded: `${publicUrl}${PATHS.dialEnded}${query}`,
      pay: `${publicUrl}${PATHS.pay}${query}${pay ? `&ref=${sealStable([pay.caseNumber, pay.amountCents, pay.callSid, pay.expiresAt, pay.nonce].join(':'), secret, PAYMENT_REF)}` : ''}`,
      payStatus: `${publicUrl}${PATHS.payStatus}`,
    };
  };
}

export type RenderSettings = PaySettings & { publicUrl: string; secret: string; agentNumber: string };

/** The engine's replies as TwiML, with this line's URLs, transfer number and payment connector. */
export function twimlRenderer(settings: RenderSettings): (reply: Reply) => string {
  const urlsFor = replyUrls(settings.publicUrl, settings.secret);
  return (reply) => renderReply(reply, urlsFor(reply.turn, reply.language, reply.pay), settings.agentNumber, settings);
}

/** The last four digits of the masked card number Twilio posts, and nothing else of it. */
function lastFour(masked: string | null): string {
  const digits = (masked ?? '').replace(/\D/g, '');
  return digits.length >= 4 ? digits.slice(-4) : '';
}

/** One webhook as the handlers read it: Twilio's POST parameters and the action URL's query. */
type Webhook = { params: Record<string, string>; query: URLSearchParams; path: string; idempotencyToken: string | null };

const param = (hook: Webhook, name: string): string | null => hook.params[name] ?? null;

/** Twilio's longest call status is 11 characters (`in-progress`); anything far longer is not Twilio's. */
const MAX_STATUS_LENGTH = 32;

/** The CallSid every webhook carries, or null having answered 400: it names keys and log lines, so nothing else gets in. */
function callSidOf(hook: Webhook, res: ServerResponse): string | null {
  const callSid = param(hook, 'CallSid');
  if (callSid && /^CA[0-9a-f]{32}$/i.test(callSid)) return callSid;
  sendTwiml(res, 400, 'CallSid missing or malformed', 'text/plain; charset=utf-8');
  return null;
}

function sendTwiml(res: ServerResponse, status: number, body: string, type = 'text/xml; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The <Pay> reference parsed at the edge: the case and amount it was sealed with, or null. */
function paymentOf(ref: string | null, secret: string): PaymentInFlight | null {
  if (!ref) return null;
  try {
    const [sealedCase, amount, callSid, expiresAt, nonce] = unseal(ref, secret, PAYMENT_REF).split(':');
    const caseNumber = parseCaseNumber(sealedCase ?? '');
    if (!caseNumber || !amount || !/^[1-9]\d{0,8}$/.test(amount) || !callSid || !expiresAt || !/^\d{1,15}$/.test(expiresAt) || !nonce) return null;
    return { caseNumber, amountCents: cents(Number(amount)), callSid, expiresAt: Number(expiresAt), nonce };
  } catch {
    return null;
  }
}

export type VoiceSettings = RenderSettings & {
  authToken: string;
  /** Told about every request refused for its signature (400, 403). */
  onSignatureRejected?: (rejection: SignatureRejection) => void;
  /** The largest body a webhook may have. */
  limitBytes?: number;
  /** The line's clock: whether the apology after a failure offers a representative. */
  clock: () => Date;
};

/**
 * Every Twilio webhook: one listener in front of the app, dispatching by path from a table, so a
 * webhook costs its body, its signature and its turn, not a walk through Express's router (npm run
 * bench -- --profile). It answers a POST to a voice path and says so (true); anything else is left
 * to the rest of the app (false).
 */
export function voiceWebhooks(engine: Engine, settings: VoiceSettings, logger: Logger): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { secret } = settings;
  const render = twimlRenderer(settings);
  const limitBytes = settings.limitBytes ?? 64 * 1024;

  type Handler = (hook: Webhook, res: ServerResponse) => Promise<void> | void;

  const take = (toEvent: (hook: Webhook, payment: PaymentInFlight | null) => CallerEvent | HeardSpeech | null): Handler => async (hook, res) => {
    const callSid = callSidOf(hook, res);
    if (!callSid) return;
    const turn = hook.query.get('turn');
    const payment = paymentOf(hook.query.get('ref'), secret);
    const reply = await engine.take({
      callSid,
      event: toEvent(hook, payment),
      payment,
      turn: turn && /^\d{1,9}$/.test(turn) ? Number(turn) : null,
      language: parseLanguage(hook.query.get('lang')),
      idempotencyToken: hook.idempotencyToken,
      path: hook.path,
      caller: callerKeyOf(param(hook, 'From'), secret),
    });
    sendTwiml(res, 200, render(reply));
  };

  const handlers = new Map<string, Handler>([
    [PATHS.answer, take(() => null)],
    [PATHS.input, take((hook) => {
      // `#` (finishOnKey) alone gives empty Digits: treat it as nothing entered.
      const digits = param(hook, 'Digits') ?? '';
      if (digits !== '') return { type: 'digits', digits };
      const speech = param(hook, 'SpeechResult') ?? '';
      if (speech.trim() !== '') {
        // Twilio sends Confidence with SpeechResult; without one, the words alone decide.
        const raw = param(hook, 'Confidence');
        const confidence = raw === null || raw === '' ? 1 : Number(raw);
        return { type: 'speech', text: speech.slice(0, 200), confidence: Number.isFinite(confidence) ? confidence : 0 };
      }
      return { type: 'noInput' };
    })],
    [PATHS.noInput, take(() => ({ type: 'noInput' }))],
    [PATHS.dialEnded, take((hook) => {
      const status = param(hook, 'DialCallStatus') as DialStatus | null;
      return { type: 'dialEnded', status: status && DIAL_STATUSES.has(status) ? status : 'failed' };
    })],
    // <Pay>'s action: only Result, the confirmation code and the masked card number are read.
    [PATHS.pay, take((hook, payment) => {
      const result = param(hook, 'Result') as PayResult | null;
      const known = result && PAY_RESULTS.has(result) ? result : 'internal-error';
      let confirmationCode = param(hook, 'PaymentConfirmationCode') ?? '';
      if (known === 'success' && !/^[A-Za-z0-9_-]{1,64}$/.test(confirmationCode)) {
        // Payments are recorded once per confirmation code, so a success without a usable one gets
        // a code of our own: the whole CallSid and the turn, the same for a retry of this callback
        // and never the same for two calls.
        confirmationCode = `LINE-${param(hook, 'CallSid') ?? ''}-${hook.query.get('turn') ?? '0'}`;
        logger.warn('payment without a usable confirmation code', { call: param(hook, 'CallSid'), confirmation: confirmationCode });
      }
      return { type: 'payResult', result: known, confirmationCode: confirmationCode.slice(0, 64), last4: lastFour(param(hook, 'PaymentCardNumber')), ticket: payment?.nonce ?? '' };
    })],
    // <Pay>'s progress callbacks: accepted, not acted on; nothing of what they carry is kept.
    [PATHS.payStatus, (_hook, res) => sendTwiml(res, 200, emptyResponse())],
    [PATHS.status, async (hook, res) => {
      const callSid = callSidOf(hook, res);
      if (!callSid) return;
      const status = param(hook, 'CallStatus') ?? '';
      if (status.length > MAX_STATUS_LENGTH) {
        sendTwiml(res, 400, 'CallStatus malformed', 'text/plain; charset=utf-8');
        return;
      }
      if (FINAL_STATUSES.has(status)) {
        const duration = param(hook, 'CallDuration');
        await engine.ended(callSid, status, duration && /^\d{1,9}$/.test(duration) ? Number(duration) : null, PATHS.status);
      }
      sendTwiml(res, 200, emptyResponse());
    }],
  ]);

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const handler = req.method === 'POST' ? handlers.get(path) : undefined;
    if (!handler) return false;
    handle(req, res, path, q < 0 ? '' : url.slice(q + 1), handler).catch((error: unknown) => {
      // Whatever slips past the engine: Twilio still gets TwiML, never a 5xx (spec section 3).
      logger.error('request failed', { path, error: describeError(error) });
      if (!res.headersSent) sendTwiml(res, 200, render(apology('en', representativesAvailable(settings.clock()))));
    });
    return true;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, path: string, search: string, handler: Handler): Promise<void> {
    const form = await readForm(req, limitBytes);
    if (form === 'too-large') {
      sendTwiml(res, 413, 'Request body too large', 'text/plain; charset=utf-8');
      return;
    }
    const signature = req.headers['x-twilio-signature'];
    const rejected = checkSignature(settings.authToken, settings.publicUrl + (req.url ?? ''), form, typeof signature === 'string' ? signature : undefined);
    if (rejected) {
      settings.onSignatureRejected?.({ status: rejected, path, reason: rejected === 400 ? 'missing' : 'mismatch' });
      sendTwiml(res, rejected, rejected === 400 ? 'Missing X-Twilio-Signature' : 'Invalid X-Twilio-Signature', 'text/plain; charset=utf-8');
      return;
    }
    const token = req.headers['i-twilio-idempotency-token'];
    await handler({ params: form, query: new URLSearchParams(search), path, idempotencyToken: typeof token === 'string' ? token : null }, res);
  }
}
