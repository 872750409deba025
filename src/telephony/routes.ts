// The webhook contract (spec section 9): Twilio's parameters in, one typed event to the engine,
// TwiML out. Only this file knows Twilio's parameter names.
import express, { type Request, type Response, type Router } from 'express';
import type { CallerEvent, DialStatus, HeardSpeech, PayResult } from '../../flows/events.ts';
import type { PayRequest } from '../../flows/payment.ts';
import { sealStable, unseal } from '../domain/crypto.ts';
import { parseCaseNumber } from '../domain/caseload.ts';
import { callerKeyOf } from '../domain/identification.ts';
import { parseLanguage, type Language } from '../domain/language.ts';
import { cents } from '../domain/money.ts';
import type { Engine, PaymentInFlight } from '../engine/engine.ts';
import type { PayTicket, Reply } from '../engine/reply.ts';
import type { Logger } from '../log.ts';
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

function param(req: Request, name: string): string | null {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : null;
}

function query(req: Request, name: string): string | null {
  const value = req.query[name];
  return typeof value === 'string' ? value : null;
}

function sendTwiml(res: Response, twiml: string): void {
  res.status(200).type('text/xml').send(twiml);
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

export function voiceRoutes(engine: Engine, settings: RenderSettings, logger: Logger): Router {
  const { secret } = settings;
  const render = twimlRenderer(settings);
  const router = express.Router();

  const take = (toEvent: (req: Request, payment: PaymentInFlight | null) => CallerEvent | HeardSpeech | null) => async (req: Request, res: Response) => {
    const callSid = param(req, 'CallSid');
    if (!callSid || !/^CA[0-9a-f]{32}$/i.test(callSid)) {
      res.status(400).type('text/plain').send('CallSid missing or malformed');
      return;
    }
    const turn = query(req, 'turn');
    const lang = query(req, 'lang');
    const payment = paymentOf(query(req, 'ref'), secret);
    const reply = await engine.take({
      callSid,
      event: toEvent(req, payment),
      payment,
      turn: turn && /^\d{1,9}$/.test(turn) ? Number(turn) : null,
      language: parseLanguage(lang),
      idempotencyToken: req.header('I-Twilio-Idempotency-Token') ?? null,
      path: req.path,
      caller: callerKeyOf(param(req, 'From'), secret),
    });
    sendTwiml(res, render(reply));
  };

  router.post(PATHS.answer, take(() => null));
  router.post(PATHS.input, take((req) => {
    // `#` (finishOnKey) alone gives empty Digits: treat it as nothing entered.
    const digits = param(req, 'Digits') ?? '';
    if (digits !== '') return { type: 'digits', digits };
    const speech = param(req, 'SpeechResult') ?? '';
    if (speech.trim() !== '') {
      // Twilio sends Confidence with SpeechResult; without one, the words alone decide.
      const raw = param(req, 'Confidence');
      const confidence = raw === null || raw === '' ? 1 : Number(raw);
      return { type: 'speech', text: speech.slice(0, 200), confidence: Number.isFinite(confidence) ? confidence : 0 };
    }
    return { type: 'noInput' };
  }));
  router.post(PATHS.noInput, take(() => ({ type: 'noInput' })));
  router.post(PATHS.dialEnded, take((req) => {
    const status = param(req, 'DialCallStatus') as DialStatus | null;
    return { type: 'dialEnded', status: status && DIAL_STATUSES.has(status) ? status : 'failed' };
  }));

  // <Pay>'s action: only Result, the confirmation code and the masked card number are read.
  router.post(PATHS.pay, take((req, payment) => {
    const result = param(req, 'Result') as PayResult | null;
    const known = result && PAY_RESULTS.has(result) ? result : 'internal-error';
    let confirmationCode = param(req, 'PaymentConfirmationCode') ?? '';
    if (known === 'success' && !/^[A-Za-z0-9_-]{1,64}$/.test(confirmationCode)) {
      // Payments are recorded once per confirmation code, so a success without a usable one gets
      // a code of our own: the whole CallSid and the turn, the same for a retry of this callback
      // and never the same for two calls.
      confirmationCode = `LINE-${param(req, 'CallSid') ?? ''}-${query(req, 'turn') ?? '0'}`;
      logger.warn('payment without a usable confirmation code', { call: param(req, 'CallSid'), confirmation: confirmationCode });
    }
    return { type: 'payResult', result: known, confirmationCode: confirmationCode.slice(0, 64), last4: lastFour(param(req, 'PaymentCardNumber')), ticket: payment?.nonce ?? '' };
  }));

  // <Pay>'s progress callbacks: accepted, not acted on; nothing of what they carry is kept.
  router.post(PATHS.payStatus, (_req, res) => {
    sendTwiml(res, emptyResponse());
  });

  router.post(PATHS.status, async (req, res) => {
    const callSid = param(req, 'CallSid');
    const status = param(req, 'CallStatus') ?? '';
    if (callSid && FINAL_STATUSES.has(status)) {
      const duration = param(req, 'CallDuration');
      await engine.ended(callSid, status, duration && /^\d+$/.test(duration) ? Number(duration) : null, req.path);
    }
    sendTwiml(res, emptyResponse());
  });

  return router;
}
