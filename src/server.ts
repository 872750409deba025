// Builds the line: configuration, store, engine and routes. src/index.ts only listens.
import { createServer, type RequestListener, type Server } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import type { Config } from './config.ts';
import { Accounts } from './domain/accounts.ts';
import type { SecurityEvents } from './domain/identification.ts';
import { Payments } from './domain/payments.ts';
import { Services } from './domain/services.ts';
import { PaymentSpool } from './store/payment-spool.ts';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from './domain/caseload-loader.ts';
import type { CaseloadStore } from './domain/caseload-store.ts';
import { MemoryCaseloadStore } from './store/caseload-memory.ts';
import { RedisCaseloadStore } from './store/caseload-redis.ts';
import { Engine } from './engine/engine.ts';
import { atLevel, describeError, jsonLogger, type Logger } from './log.ts';
import { lineMetrics, metricsEndpoint } from './metrics.ts';
import type { Outbox } from './domain/outbox.ts';
import { openStore, RedisStore, type CallStore } from './store/index.ts';
import { MemoryOutbox, RedisOutbox } from './store/outbox.ts';
import type { SignatureRejection } from './telephony/signature.ts';
import { voiceWebhooks, type RenderSettings } from './telephony/routes.ts';
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
  /** Lines below LOG_LEVEL are left out of this one too. */
  logger?: Logger;
};

export type Line = {
  /** The line's HTTP listener (http.createServer(line.app)): Twilio's webhooks, then the Express app for the rest. */
  app: RequestListener; config: Config; store: CallStore; caseload: CaseloadStore; accounts: Accounts; payments: Payments; engine: Engine;
  close(): Promise<void>;
};

/** How often spooled card payments are tried again while the store is away. */
export const SPOOL_REPLAY_MS = 15_000;

async function defaultCaseload(store: CallStore, config: Config, logger: Logger): Promise<CaseloadStore> {
  if (store instanceof RedisStore) {
    return new RedisCaseloadStore(store.redis, config.redisPrefix, config.retention, {
      timeoutMs: config.paymentReplicaWaitMs,
      notOnReplica: (confirmationCode) => logger.warn('payment not yet on a replica', { confirmationCode }),
    });
  }
  const caseload = new MemoryCaseloadStore(config.retention);
  await loadCaseloadFile(DEMO_CASELOAD_PATH, caseload, config);
  return caseload;
}

/** The print-and-mail job's view of the caseload's outbox, for the backlog gauge. */
function outboxOf(store: CallStore, caseload: CaseloadStore, config: Config): Outbox | null {
  if (caseload instanceof MemoryCaseloadStore) return new MemoryOutbox(caseload);
  if (store instanceof RedisStore) return new RedisOutbox(store.redis, config.redisPrefix);
  return null;
}

export async function createLine(options: LineOptions): Promise<Line> {
  const { config } = options;
  const settableClock = options.clock instanceof SettableClock ? options.clock : null;
  const clock = options.clock instanceof SettableClock ? options.clock.now : options.clock ?? (() => new Date());
  const logger = atLevel(options.logger ?? jsonLogger(), config.logLevel);
  const ownStore = !options.store;
  const store = options.store ?? (await openStore(config, (message) => logger.warn('redis', { error: message })));

  const caseload = options.caseload ?? (await defaultCaseload(store, config, logger));
  const paymentSpool = new PaymentSpool(config.paymentSpoolFile);
  const outbox = outboxOf(store, caseload, config);
  const metrics = lineMetrics({
    spooledPayments: async () => (await paymentSpool.pending()).length,
    unsentLetters: async () => (outbox ? outbox.unsent() : Number.NaN),
  });
  // One structured line per security event, and its counter; never an ID, SSN, PIN or full phone number (spec section 4).
  const securityEvent: SecurityEvents = (event) => {
    const { kind, ...fields } = event;
    logger.warn('security', { event: kind, ...fields });
    metrics.securityEvent(event);
  };
  const accounts = new Accounts(caseload, config, clock, undefined, config.identification, securityEvent);
  const payments = new Payments(caseload, config, clock, securityEvent);
  const services = new Services(caseload, clock, config.phoneUpdatesPerDay, securityEvent);

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
    observer: metrics.observer,
  });
  const rendering: RenderSettings = { publicUrl: config.publicUrl, secret: config.ssnHashKey, agentNumber: config.agentNumber, paymentConnector: config.paymentConnector };

  // A rejected signature is most often a PUBLIC_URL that is not the URL Twilio calls: one warn line
  // with the path and the reason, never the parameters or the caller's number.
  const signatureRejected = ({ status, path, reason }: SignatureRejection) => securityEvent({ kind: 'signature-rejected', status, path, reason });

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ ok: true, store: store.kind });
    } catch (error) {
      // Why, for the operator (a full or read-only Redis is not a connection error the client reports).
      logger.warn('not ready', { store: store.kind, error: describeError(error) });
      res.status(503).json({ ok: false, store: store.kind });
    }
  });
  app.get('/metrics', metricsEndpoint(metrics.registry, { token: config.metricsToken, production: config.env === 'production' }));

  // The browser phone for staff (docs/staff.md): open in development, behind CONSOLE_TOKEN in production, else off (404).
  const browserPhone = consoleRoutes({ config, store, now: clock, settableClock, logger });
  if (browserPhone) app.use('/console', browserPhone);

  // Whatever slips past a route of the app. Twilio's webhooks never get here: voiceWebhooks answers
  // them, with the apology's TwiML when something fails (spec section 3).
  const lastResort: ErrorRequestHandler = (error, req, res, _next) => {
    logger.error('request failed', { path: req.path, error: describeError(error) });
    if (res.headersSent) return;
    res.status((error as { status?: number }).status ?? 400).type('text/plain').send('Bad request');
  };
  app.use(lastResort);

  // Twilio's webhooks first, each answered without a walk through Express's router; the rest is the app's.
  const voice = voiceWebhooks(engine, { ...rendering, authToken: config.twilioAuthToken, onSignatureRejected: signatureRejected, clock }, logger);
  const listener: RequestListener = (req, res) => {
    if (!voice(req, res)) app(req, res);
  };

  // Payments spooled while the store was away (by this process, or before a restart) go in as soon as it is back.
  const replay = () => {
    engine.replaySpooledPayments().catch((error: unknown) => logger.error('payment spool replay failed', { error: describeError(error) }));
  };
  replay();
  const replayTimer = setInterval(replay, SPOOL_REPLAY_MS);
  replayTimer.unref();

  return {
    app: listener,
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

/** Starts `line` listening on `port` (0: any free one) and `host` (default: every address); resolves once it listens. */
export function listenLine(line: Line, port: number, host?: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(line.app);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
