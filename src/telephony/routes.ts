// The webhook contract (spec section 9): Twilio's parameters in, one typed event to the engine,
// TwiML out. Only this file knows Twilio's parameter names.
import express, { type Request, type Response, type Router } from 'express';
import type { CallerEvent, DialStatus } from '../../flows/events.ts';
import type { Language } from '../../prompts/speak.ts';
import type { Engine } from '../engine/engine.ts';
import { emptyResponse, type ReplyUrls } from './twiml.ts';

export const PATHS = {
  answer: '/voice',
  input: '/voice/input',
  noInput: '/voice/no-input',
  dialEnded: '/voice/dial-ended',
  status: '/voice/status',
} as const;

const FINAL_STATUSES = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);
const DIAL_STATUSES = new Set<DialStatus>(['completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled']);

/** Action URLs carry only the turn and the language: never anything the caller entered. */
export function replyUrls(publicUrl: string) {
  return (turn: number, language: Language): ReplyUrls => {
    const query = `?turn=${turn}&lang=${language}`;
    return {
      input: `${publicUrl}${PATHS.input}${query}`,
      noInput: `${publicUrl}${PATHS.noInput}${query}`,
      dialEnded: `${publicUrl}${PATHS.dialEnded}${query}`,
    };
  };
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

export function voiceRoutes(engine: Engine): Router {
  const router = express.Router();

  const take = (toEvent: (req: Request) => CallerEvent | null) => async (req: Request, res: Response) => {
    const callSid = param(req, 'CallSid');
    if (!callSid || !/^CA[0-9a-f]{32}$/i.test(callSid)) {
      res.status(400).type('text/plain').send('CallSid missing or malformed');
      return;
    }
    const turn = query(req, 'turn');
    const lang = query(req, 'lang');
    const twiml = await engine.take({
      callSid,
      event: toEvent(req),
      turn: turn && /^\d{1,9}$/.test(turn) ? Number(turn) : null,
      language: lang === 'en' || lang === 'es' ? lang : null,
      idempotencyToken: req.header('I-Twilio-Idempotency-Token') ?? null,
      path: req.path,
    });
    sendTwiml(res, twiml);
  };

  router.post(PATHS.answer, take(() => null));
  router.post(PATHS.input, take((req) => {
    // `#` (finishOnKey) alone gives empty Digits: treat it as nothing entered.
    const digits = param(req, 'Digits') ?? '';
    return digits === '' ? { type: 'noInput' } : { type: 'digits', digits };
  }));
  router.post(PATHS.noInput, take(() => ({ type: 'noInput' })));
  router.post(PATHS.dialEnded, take((req) => {
    const status = param(req, 'DialCallStatus') as DialStatus | null;
    return { type: 'dialEnded', status: status && DIAL_STATUSES.has(status) ? status : 'failed' };
  }));

  router.post(PATHS.status, async (req, res) => {
    const callSid = param(req, 'CallSid');
    const status = param(req, 'CallStatus') ?? '';
    if (callSid && FINAL_STATUSES.has(status)) {
      const duration = param(req, 'CallDuration');
      await engine.ended(callSid, status, duration && /^\d+$/.test(duration) ? Number(duration) : null);
    }
    sendTwiml(res, emptyResponse());
  });

  return router;
}
