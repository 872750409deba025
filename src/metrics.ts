// The line's Prometheus metrics (docs/operations.md lists them): the engine's observer and the
// security events bound to counters, the backlogs read when Prometheus scrapes, and GET /metrics.
// Every label value comes from a small fixed set: never a participant, a number, a call or an amount.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CALL_OUTCOMES, MENUS } from './domain/call-record.ts';
import { IDENTIFICATION_METHODS, type SecurityEvents } from './domain/identification.ts';
import { PAYMENT_OUTCOMES, WEBHOOK_OUTCOMES, type EngineObserver } from './engine/observer.ts';
import { PATHS } from './telephony/routes.ts';

/** The webhooks the engine takes (the <Pay> progress callback is answered without it). */
const ROUTES: readonly string[] = [PATHS.answer, PATHS.input, PATHS.noInput, PATHS.dialEnded, PATHS.pay, PATHS.status];
/** Anything else (Express also matches /VOICE/INPUT/ to /voice/input) is counted as one route, not as itself. */
const OTHER_ROUTE = 'other';
const routeOf = (path: string): string => (ROUTES.includes(path) ? path : OTHER_ROUTE);

/** From a millisecond to Twilio's 15 s read timeout; 2 s is where the latency alert looks. */
export const WEBHOOK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15];

/** How long a scrape waits for a backlog (the store may be away) before it says NaN. */
export const BACKLOG_READ_TIMEOUT_MS = 250;

/** The queues an operator watches drain, read at scrape time. */
export type Backlogs = {
  /** Card payments waiting in this instance's spool file to be recorded. */
  spooledPayments(): Promise<number>;
  /** Letters in the mail outbox not printed and sent yet. */
  unsentLetters(): Promise<number>;
};

export type LineMetrics = { registry: Registry; observer: EngineObserver; securityEvent: SecurityEvents };

/** The value, or NaN if it cannot be had within `ms` (a scrape must not hang on a dead Redis). */
async function within(read: () => Promise<number>, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(Number.NaN), ms);
  });
  try {
    return await Promise.race([read().catch(() => Number.NaN), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** One registry per line, so two lines in one process (the tests) count apart. */
export function lineMetrics(backlogs: Backlogs, readTimeoutMs = BACKLOG_READ_TIMEOUT_MS): LineMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const webhooks = new Counter({ name: 'ivr_webhooks_total', help: 'Webhooks the engine took, by route and outcome.', labelNames: ['route', 'outcome'] as const, registers });
  const webhookSeconds = new Histogram({
    name: 'ivr_webhook_duration_seconds', help: 'Time from a webhook reaching the engine to its reply, by route.', labelNames: ['route'] as const, buckets: WEBHOOK_BUCKETS, registers,
  });
  const calls = new Counter({ name: 'ivr_calls_total', help: 'Finished calls, by outcome and language.', labelNames: ['outcome', 'language'] as const, registers });
  const menuVisits = new Counter({ name: 'ivr_menu_visits_total', help: 'Entries into each menu.', labelNames: ['menu'] as const, registers });
  const identificationFailures = new Counter({
    name: 'ivr_identification_failures_total', help: 'Failed identifications, by method (pin, ssn) and reason.', labelNames: ['method', 'reason'] as const, registers,
  });
  const identificationLocks = new Counter({ name: 'ivr_identification_locks_total', help: 'Participants locked out of a method by repeated failures.', labelNames: ['method'] as const, registers });
  const identificationThrottled = new Counter({
    name: 'ivr_identification_throttled_total', help: 'Calling numbers (or the withheld budget) that used up their failures for the hour.', labelNames: ['scope'] as const, registers,
  });
  const identificationAlarms = new Counter({ name: 'ivr_identification_alarms_total', help: 'Minutes in which line-wide failed identifications crossed the alarm threshold.', registers });
  const payments = new Counter({ name: 'ivr_payments_total', help: 'Card payment results.', labelNames: ['result'] as const, registers });
  const paymentCents = new Counter({ name: 'ivr_payments_amount_cents_total', help: 'Card payments recorded, in cents, summed over the line.', registers });
  const paymentReplays = new Counter({ name: 'ivr_payment_replays_total', help: '<Pay> successes refused or answered again, by reason.', labelNames: ['reason'] as const, registers });
  const signatureRejections = new Counter({
    name: 'ivr_signature_rejections_total', help: 'Webhooks refused for their X-Twilio-Signature (400 missing, 403 wrong).', labelNames: ['status'] as const, registers,
  });
  const phoneUpdateLimits = new Counter({ name: 'ivr_phone_update_limits_total', help: 'Phone number updates refused by a limit (per call, per day).', labelNames: ['scope'] as const, registers });

  new Gauge({
    name: 'ivr_payment_spool_pending', help: 'Card payments waiting in the spool file to be recorded (NaN: not readable in time).', registers,
    async collect() {
      this.set(await within(() => backlogs.spooledPayments(), readTimeoutMs));
    },
  });
  new Gauge({
    name: 'ivr_mail_outbox_pending', help: 'Letters in the mail outbox not sent yet (NaN: the store did not answer in time).', registers,
    async collect() {
      this.set(await within(() => backlogs.unsentLetters(), readTimeoutMs));
    },
  });

  // Every series of a fixed set exists from the start, so rate() and alerts see a 0, not nothing.
  for (const route of ROUTES) {
    webhookSeconds.zero({ route });
    for (const outcome of WEBHOOK_OUTCOMES) webhooks.inc({ route, outcome }, 0);
  }
  for (const outcome of CALL_OUTCOMES) for (const language of ['en', 'es']) calls.inc({ outcome, language }, 0);
  for (const menu of MENUS) menuVisits.inc({ menu }, 0);
  for (const method of IDENTIFICATION_METHODS) {
    identificationLocks.inc({ method }, 0);
    for (const reason of ['unknown', 'mismatch', 'locked']) identificationFailures.inc({ method, reason }, 0);
  }
  for (const scope of ['number', 'withheld']) identificationThrottled.inc({ scope }, 0);
  for (const result of PAYMENT_OUTCOMES) payments.inc({ result }, 0);
  for (const reason of ['consumed', 'expired', 'other-call']) paymentReplays.inc({ reason }, 0);
  for (const status of ['400', '403']) signatureRejections.inc({ status }, 0);
  for (const scope of ['call', 'day']) phoneUpdateLimits.inc({ scope }, 0);

  const observer: EngineObserver = {
    webhook(route, outcome, seconds) {
      webhooks.inc({ route: routeOf(route), outcome });
      webhookSeconds.observe({ route: routeOf(route) }, seconds);
    },
    menuVisited(menu) {
      menuVisits.inc({ menu });
    },
    payment(outcome, amountCents) {
      payments.inc({ result: outcome });
      if (amountCents !== null) paymentCents.inc(amountCents);
    },
    callEnded(record) {
      calls.inc({ outcome: record.outcome, language: record.language });
    },
  };

  const securityEvent: SecurityEvents = (event) => {
    switch (event.kind) {
      case 'identification-failed':
        identificationFailures.inc({ method: event.method, reason: event.reason });
        return;
      case 'identification-locked':
        identificationLocks.inc({ method: event.method });
        return;
      case 'identification-throttled':
        identificationThrottled.inc({ scope: event.scope });
        return;
      case 'identification-alarm':
        identificationAlarms.inc();
        return;
      case 'signature-rejected':
        signatureRejections.inc({ status: event.status === 400 ? '400' : '403' });
        return;
      case 'payment-replay':
        paymentReplays.inc({ reason: event.reason });
        return;
      case 'phone-update-limited':
        phoneUpdateLimits.inc({ scope: event.scope });
        return;
    }
  };

  return { registry, observer, securityEvent };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * GET /metrics: only with `Authorization: Bearer <token>`, compared in constant time. Without a
 * token it is open in development and closed in production (the configuration refuses that
 * production start anyway; this is the second lock).
 */
export function metricsEndpoint(registry: Registry, access: { token: string | null; production: boolean }): RequestHandler {
  const expected = access.token === null ? null : digest(access.token);
  const allowed = (header: string | undefined): boolean => {
    if (expected === null) return !access.production;
    const given = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
    // Digests have one length whatever was sent, so the comparison leaks neither length nor content.
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };
  return async (req, res) => {
    if (!allowed(req.header('Authorization'))) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="metrics"').type('text/plain').send('Unauthorized');
      return;
    }
    try {
      const text = await registry.metrics();
      res.status(200).set('Content-Type', registry.contentType).send(text);
    } catch {
      res.status(500).type('text/plain').send('Metrics unavailable');
    }
  };
}
