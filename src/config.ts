// Configuration is read and checked here, once (spec section 10). Nothing else reads process.env.
import { DEFAULT_IDENTIFICATION_POLICY, type IdentificationPolicy } from './domain/identification.ts';
import { parseMoney } from './domain/money.ts';
import { LOG_LEVELS, type LogLevel } from './log.ts';

export type RedisAddress = { readonly host: string; readonly port: number };

/** Credentials for Cluster nodes or a Sentinel-managed primary (a single server's are in its URL). */
export type RedisAuth = { readonly username: string | null; readonly password: string };

/** Which Redis the line uses: one server, a Cluster, or the primary Sentinels name. */
export type RedisTopology =
  | { readonly kind: 'single'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisAddress[]; readonly auth: RedisAuth | null }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly RedisAddress[]; readonly name: string; readonly auth: RedisAuth | null };

export type Config = {
  readonly env: 'production' | 'development' | 'test';
  readonly port: number;
  readonly publicUrl: string;
  /** null: the in-process store. */
  readonly redis: RedisTopology | null;
  readonly redisPrefix: string;
  readonly twilioAuthToken: string;
  readonly agentNumber: string;
  readonly paymentConnector: string;
  /** Most a caller may pay in one card payment, in cents. */
  readonly paymentMaxCents: number;
  /** A fee added to card payments, in hundredths of a percent (0: none, the agency's default). */
  readonly paymentFeeBasisPoints: number;
  /** Where card payments that succeeded at Twilio wait if the store cannot take them yet. */
  readonly paymentSpoolFile: string;
  /** How long a recorded card payment waits for a replica to acknowledge it (Redis WAIT); 0: not at all. */
  readonly paymentReplicaWaitMs: number;
  readonly ssnHashKey: string;
  /** Encrypts a new PIN in the mail outbox until the letter is printed. */
  readonly pinLetterKey: string;
  readonly bcryptCost: number;
  readonly sessionTtlSeconds: number;
  /** Identification limits (spec section 4). */
  readonly identification: IdentificationPolicy;
  /** Phone number updates a participant may make in a Pacific day. */
  readonly phoneUpdatesPerDay: number;
  /** How long printed letters (and their idempotency keys) and confirmed card payments are kept, and the audit trail. */
  readonly retention: { sentDays: number; auditDays: number };
  /** Opens the browser phone (/console) to whoever has it; null: open in development, off in production. */
  readonly consoleToken: string | null;
  readonly warnings: readonly string[];
} & Observability;

/** Metrics, call records and logs. */
export type Observability = {
  /** `GET /metrics` answers only `Authorization: Bearer <metricsToken>`; null: open in development, closed in production. */
  readonly metricsToken: string | null;
  /** How long a call's outcome record is kept, in days. */
  readonly callRecordDays: number;
  /** The least severe log line written. */
  readonly logLevel: LogLevel;
};

export const DEV_AUTH_TOKEN = 'dev-only-auth-token-not-for-production';
export const DEV_SSN_HASH_KEY = 'dev-only-ssn-hash-key-not-for-production';
export const DEV_PIN_LETTER_KEY = 'dev-only-pin-letter-key-not-for-production';
// A fictional number (555-01xx is reserved for fiction): never the line's own, which would loop.
export const PLACEHOLDER_AGENT_NUMBER = '+19165550100';

/** Every setting refused, one sentence each; the message joins them, so one log line names them all. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('; '));
    this.name = 'ConfigError';
    this.problems = list;
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function moneyCents(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const cents = parseMoney(raw);
  if (cents === null || cents > 999_999_999) throw new ConfigError(`${name} must be dollars and cents like 10000.00, got "${raw}"`);
  if (cents < 100) throw new ConfigError(`${name} must be at least 1.00`);
  return cents;
}

function percentBasisPoints(env: Env, name: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return 0;
  const match = /^(\d{1,2})(?:\.(\d{1,2}))?$/.exec(raw);
  if (!match) throw new ConfigError(`${name} must be a percentage like 2.5, got "${raw}"`);
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/**
 * The settings refused while reading: each setting is read on its own and a refusal noted, so one
 * start names every problem instead of the first.
 */
class Refusals {
  readonly problems: string[] = [];

  refuse(problem: string): void {
    this.problems.push(problem);
  }

  /** What `read` returns; if it refuses the setting, the refusal is noted and `standIn` returned (the start is refused anyway). */
  read<T>(read: () => T, standIn: T): T {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.problems.push(...error.problems);
      return standIn;
    }
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

/** host:port,host:port,... — a host name, an IPv4 address or a bracketed IPv6 address, each with its port. */
function addressList(env: Env, name: string): RedisAddress[] {
  const raw = env[name] ?? '';
  const addresses = raw.split(',').map((entry) => entry.trim());
  return addresses.map((entry) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match?.[1] || !(port >= 1 && port <= 65535)) {
      throw new ConfigError(`${name} must be host:port pairs separated by commas (10.0.0.5:6379,10.0.0.6:6379), got "${raw}"`);
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

/** The settings that name a Redis; one of them is needed in production. */
const REDIS_SETTINGS = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const;

function redisTopology(env: Env): RedisTopology | null {
  const refusals = new Refusals();
  const chosen = REDIS_SETTINGS.filter((name) => env[name]);
  if (chosen.length > 1) refusals.refuse(`set one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS, not ${chosen.join(' and ')}`);
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) refusals.refuse('REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not');
  if ((env.REDIS_PASSWORD || env.REDIS_USERNAME) && !env.REDIS_CLUSTER_NODES && !env.REDIS_SENTINELS) {
    refusals.refuse('REDIS_PASSWORD and REDIS_USERNAME go with REDIS_CLUSTER_NODES or REDIS_SENTINELS, a REDIS_URL carries its own (redis://user:password@host:port)');
  }
  if (env.REDIS_USERNAME && !env.REDIS_PASSWORD) refusals.refuse('REDIS_USERNAME is set but REDIS_PASSWORD is not');
  const auth = env.REDIS_PASSWORD ? { username: env.REDIS_USERNAME || null, password: env.REDIS_PASSWORD } : null;

  let topology: RedisTopology | null = null;
  if (env.REDIS_URL) {
    const url = env.REDIS_URL;
    if (!/^rediss?:\/\//.test(url)) refusals.refuse(`REDIS_URL must start with redis:// or rediss://, got "${url}"`);
    topology = { kind: 'single', url };
  } else if (env.REDIS_CLUSTER_NODES) {
    topology = { kind: 'cluster', nodes: refusals.read(() => addressList(env, 'REDIS_CLUSTER_NODES'), []), auth };
  } else if (env.REDIS_SENTINELS) {
    const name = env.REDIS_SENTINEL_NAME ?? '';
    if (!name) refusals.refuse('REDIS_SENTINELS needs REDIS_SENTINEL_NAME, the name the Sentinels monitor the primary under');
    else if (!/^[A-Za-z0-9._-]+$/.test(name)) refusals.refuse(`REDIS_SENTINEL_NAME must be letters, digits, dots, dashes or underscores, got "${name}"`);
    topology = { kind: 'sentinel', sentinels: refusals.read(() => addressList(env, 'REDIS_SENTINELS'), []), name, auth };
  }
  refusals.throwIfAny();
  return topology;
}

/**
 * The configuration, or a ConfigError naming every setting refused: a value that is invalid
 * (anywhere), and what production cannot run without. Elsewhere a missing secret or number gets a
 * development stand-in and a warning.
 */
function logLevelOf(env: Env): LogLevel {
  const logLevel = env.LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  return logLevel as LogLevel;
}

function consoleToken(env: Env): string | null {
  const token = env.CONSOLE_TOKEN ?? '';
  if (token === '') return null;
  if (token.length < 16 || /\s/.test(token)) throw new ConfigError('CONSOLE_TOKEN must be at least 16 characters, without spaces');
  return token;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const production = nodeEnv === 'production';
  const warnings: string[] = [];
  const refusals = new Refusals();
  const read = refusals.read.bind(refusals);
  const refuse = refusals.refuse.bind(refusals);

  /** What production cannot run without; elsewhere `developmentValue`, with a warning. */
  const requiredInProduction = (name: string, developmentValue: string, warning: string): string => {
    const value = env[name] ?? '';
    if (value) return value;
    if (production) refuse(`${name} is required when NODE_ENV=production`);
    else warnings.push(warning);
    return developmentValue;
  };
  /** A whole-number setting; a refused one is noted. */
  const wholeNumber = (name: string, fallback: number, min: number, max: number): number => read(() => integer(env, name, fallback, min, max), fallback);

  const port = wholeNumber('PORT', 3000, 0, 65535);
  const publicUrl = (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+(\/.*)?$/.test(publicUrl)) {
    refuse(`PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  } else if (production && !publicUrl.startsWith('https://')) {
    // Twilio <Pay> posts card results only to an https action URL, and callers key SSNs and PINs.
    refuse(env.PUBLIC_URL ? `PUBLIC_URL must be https:// when NODE_ENV=production, got "${publicUrl}"` : 'PUBLIC_URL is required when NODE_ENV=production: the https:// URL Twilio calls');
  }

  const redis = read(() => redisTopology(env), null);
  if (production && !REDIS_SETTINGS.some((name) => env[name])) {
    refuse('REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS is required when NODE_ENV=production: the in-process store with the demo caseload is for development only');
  }

  const twilioAuthToken = requiredInProduction('TWILIO_AUTH_TOKEN', DEV_AUTH_TOKEN,
    'TWILIO_AUTH_TOKEN is unset: using the fixed development token; real Twilio requests will be refused (403)');
  const ssnHashKey = requiredInProduction('SSN_HASH_KEY', DEV_SSN_HASH_KEY, 'SSN_HASH_KEY is unset: using a fixed development key');
  const pinLetterKey = requiredInProduction('PIN_LETTER_KEY', DEV_PIN_LETTER_KEY, 'PIN_LETTER_KEY is unset: using a fixed development key for PINs in the mail outbox');
  if (env.PIN_LETTER_KEY && env.PIN_LETTER_KEY.length < 32) refuse('PIN_LETTER_KEY must be at least 32 characters');

  const agentNumber = requiredInProduction('AGENT_NUMBER', PLACEHOLDER_AGENT_NUMBER, `AGENT_NUMBER is unset: transfers go to the placeholder ${PLACEHOLDER_AGENT_NUMBER}`);
  if (env.AGENT_NUMBER && !/^\+[1-9]\d{6,14}$/.test(env.AGENT_NUMBER)) refuse(`AGENT_NUMBER must be E.164 (+15551234567), got "${env.AGENT_NUMBER}"`);

  const metricsToken = env.METRICS_TOKEN || null;
  if (production && !metricsToken) refuse('METRICS_TOKEN is required when NODE_ENV=production');

  const config: Config = {
    env: nodeEnv,
    port,
    publicUrl,
    redis,
    redisPrefix: env.REDIS_PREFIX || 'cc:',
    twilioAuthToken,
    agentNumber,
    metricsToken,
    paymentConnector: env.PAYMENT_CONNECTOR || 'Default',
    paymentMaxCents: read(() => moneyCents(env, 'PAYMENT_MAX', 1_000_000), 1_000_000),
    paymentFeeBasisPoints: read(() => percentBasisPoints(env, 'PAYMENT_FEE_PERCENT'), 0),
    paymentSpoolFile: env.PAYMENT_SPOOL_FILE || 'var/payment-spool.jsonl',
    // Under the Redis client's 1.5 s command timeout: WAIT holds the connection it is sent on.
    paymentReplicaWaitMs: wholeNumber('PAYMENT_REPLICA_WAIT_MS', 500, 0, 1_000),
    ssnHashKey,
    pinLetterKey,
    bcryptCost: wholeNumber('BCRYPT_COST', 10, 4, 15),
    sessionTtlSeconds: wholeNumber('SESSION_TTL_SECONDS', 4 * 3600, 60, 7 * 24 * 3600),
    identification: {
      ...DEFAULT_IDENTIFICATION_POLICY,
      lockAfter: wholeNumber('IDENTIFICATION_LOCK_AFTER', DEFAULT_IDENTIFICATION_POLICY.lockAfter, 2, 100),
      perNumber: wholeNumber('IDENTIFICATION_FAILURES_PER_NUMBER', DEFAULT_IDENTIFICATION_POLICY.perNumber, 1, 100_000),
      perWithheld: wholeNumber('IDENTIFICATION_FAILURES_WITHHELD', DEFAULT_IDENTIFICATION_POLICY.perWithheld, 1, 1_000_000),
      alarmPerMinute: wholeNumber('IDENTIFICATION_ALARM_PER_MINUTE', DEFAULT_IDENTIFICATION_POLICY.alarmPerMinute, 1, 1_000_000),
    },
    phoneUpdatesPerDay: wholeNumber('PHONE_UPDATES_PER_DAY', 3, 1, 100),
    retention: {
      sentDays: wholeNumber('SENT_RETENTION_DAYS', 30, 1, 3650),
      auditDays: wholeNumber('AUDIT_RETENTION_DAYS', 400, 30, 3650),
    },
    callRecordDays: wholeNumber('CALL_RECORD_DAYS', 90, 1, 3650),
    logLevel: read(() => logLevelOf(env), 'info'),
    consoleToken: read(() => consoleToken(env), null),
    warnings,
  };
  refusals.throwIfAny();
  return config;
}
