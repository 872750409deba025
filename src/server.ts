// Builds the line: configuration, store, engine and routes. src/index.ts only listens.
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Config } from './config.ts';
import { Accounts } from './domain/accounts.ts';
import type { SecurityEvents } from './domain/identification.ts';
import { Payments } from './domain/payments.ts';
import { Services } from './domain/services.ts';
import { PaymentSpool } from './store/payment-spool.ts';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from './domain/caseload-loader.ts';
import { representativesAvailable } from './domain/hours.ts';
import type { CaseloadStore } from './domain/caseload-store.ts';
import { MemoryCaseloadStore } from './store/caseload-memory.ts';
import { RedisCaseloadStore } from './store/caseload-redis.ts';
import { Engine } from './engine/engine.ts';
import { describeError, jsonLogger, type Logger } from './log.ts';
import { openStore, RedisStore, type CallStore } from './store/index.ts';
import { requireTwilioSignature, type SignatureRejection } from './telephony/signature.ts';
import { twimlRenderer, voiceRoutes, type RenderSettings } from './telephony/routes.ts';
import { apology } from './engine/reply.ts';
import { consoleRoutes } from './console/console-routes.ts';
import { SettableClock } from './console/settable-clock.ts';

export type LineOptions = {
  config: Config;
  /** The line's idea of now (office hours, dates said); tests and call scripts pin it, and the browser phone can set a SettableClock. */
  clock?: (() => Date) | SettableClock;
  /** Defaults to the store REDIS_URL names, or the in-process one. */
  store?: CallStore;
  /** Defaults to the caseload beside `store` in Redis, or the in-process one with the demo caseload. */
  caseload?: CaseloadStore;
  logger?: Logger;
};

export type Line = {
  app: Express; config: Config; store: CallStore; caseload: CaseloadStore; accounts: Accounts; payments: Payments; engine: Engine;
  close(): Promise<void>;
};

/** How often spooled card payments are tried again while the store is away. */
export const SPOOL_REPLAY_MS = 15_000;

async function defaultCaseload(store: CallStore, config: Config): Promise<CaseloadStore> {
  if (store instanceof RedisStore) return new RedisCaseloadStore(store.redis, config.redisPrefix, config.retention);
  const caseload = new MemoryCaseloadStore(config.retention);
  await loadCaseloadFile(DEMO_CASELOAD_PATH, caseload, config);
  return caseload;
}

export async function createLine(options: LineOptions): Promise<Line> {
  const { config } = options;
  const settableClock = options.clock instanceof SettableClock ? options.clock : null;
  const clock = options.clock instanceof SettableClock ? options.clock.now : options.clock ?? (() => new Date());
  const logger = options.logger ?? jsonLogger();
  const ownStore = !options.store;
  const store = options.store ?? (await openStore(config, (message) => logger.warn('redis', { error: message })));

  const caseload = options.caseload ?? (await defaultCaseload(store, config));
  // One structured line per security event; never an ID, SSN, PIN or full phone number (spec section 4).
  const securityEvent: SecurityEvents = (event) => {
    const { kind, ...fields } = event;
    logger.warn('security', { event: kind, ...fields });
  };
  const accounts = new Accounts(caseload, config, clock, undefined, config.identification, securityEvent);
  const payments = new Payments(caseload, config, clock, securityEvent);
  const paymentSpool = new PaymentSpool(config.paymentSpoolFile);
  const services = new Services(caseload, clock, config.phoneUpdatesPerDay);

  const engine = new Engine({
    store,
    accounts,
    payments,
    services,
    paymentSpool,
    logger,
    clock,
    sessionTtlSeconds: config.sessionTtlSeconds,
    securityEvent,
  });
  const rendering: RenderSettings = { publicUrl: config.publicUrl, secret: config.ssnHashKey, agentNumber: config.agentNumber, paymentConnector: config.paymentConnector };
  const render = twimlRenderer(rendering);

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ ok: true, store: store.kind });
    } catch {
      res.status(503).json({ ok: false, store: store.kind });
    }
  });
  // A rejected signature is most often a PUBLIC_URL that is not the URL Twilio calls: one warn line
  // with the path and the reason, never the parameters or the caller's number.
  const signatureRejected = ({ status, path, reason }: SignatureRejection) => securityEvent({ kind: 'signature-rejected', status, path, reason });
  app.use('/voice', express.urlencoded({ extended: false, limit: '64kb' }), requireTwilioSignature(config.twilioAuthToken, config.publicUrl, signatureRejected));
  app.use(voiceRoutes(engine, rendering, logger));

  // The browser phone for staff (docs/staff.md): open in development, behind CONSOLE_TOKEN in production, else off (404).
  const browserPhone = consoleRoutes({ config, store, now: clock, settableClock, logger });
  if (browserPhone) app.use('/console', browserPhone);

  // Whatever slips past the engine: Twilio still gets TwiML, never a 5xx (spec section 3).
  const lastResort: ErrorRequestHandler = (error, req, res, _next) => {
    logger.error('request failed', { path: req.path, error: describeError(error) });
    if (res.headersSent) return;
    if (req.path.startsWith('/voice') && !(error as { status?: number }).status) {
      res.status(200).type('text/xml').send(render(apology('en', representativesAvailable(clock()))));
    } else {
      res.status((error as { status?: number }).status ?? 400).type('text/plain').send('Bad request');
    }
  };
  app.use(lastResort);

  // Payments spooled while the store was away (by this process, or before a restart) go in as soon as it is back.
  const replay = () => {
    engine.replaySpooledPayments().catch((error: unknown) => logger.error('payment spool replay failed', { error: describeError(error) }));
  };
  replay();
  const replayTimer = setInterval(replay, SPOOL_REPLAY_MS);
  replayTimer.unref();

  return {
    app,
    config,
    store,
    caseload,
    accounts,
    payments,
    engine,
    close: async () => {
      clearInterval(replayTimer);
      if (ownStore) await store.close();
    },
  };
}
