// Configuration is read and checked here, once (spec section 10). Nothing else reads process.env.
import { DEFAULT_IDENTIFICATION_POLICY, type IdentificationPolicy } from './domain/identification.ts';
import { parseMoney } from './domain/money.ts';

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
};

export const DEV_AUTH_TOKEN = 'dev-only-auth-token-not-for-production';
export const DEV_SSN_HASH_KEY = 'dev-only-ssn-hash-key-not-for-production';
export const DEV_PIN_LETTER_KEY = 'dev-only-pin-letter-key-not-for-production';
// A fictional number (555-01xx is reserved for fiction): never the line's own, which would loop.
export const PLACEHOLDER_AGENT_NUMBER = '+19165550100';

export class ConfigError extends Error {}

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

function redisTopology(env: Env): RedisTopology | null {
  const chosen = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((name) => env[name]);
  if (chosen.length > 1) throw new ConfigError(`set one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS, not ${chosen.join(' and ')}`);
  if (env.REDIS_SENTINEL_NAME && !env.REDIS_SENTINELS) throw new ConfigError('REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not');
  if ((env.REDIS_PASSWORD || env.REDIS_USERNAME) && !env.REDIS_CLUSTER_NODES && !env.REDIS_SENTINELS) {
    throw new ConfigError('REDIS_PASSWORD and REDIS_USERNAME go with REDIS_CLUSTER_NODES or REDIS_SENTINELS; a REDIS_URL carries its own (redis://user:password@host:port)');
  }
  if (env.REDIS_USERNAME && !env.REDIS_PASSWORD) throw new ConfigError('REDIS_USERNAME is set but REDIS_PASSWORD is not');
  const auth = env.REDIS_PASSWORD ? { username: env.REDIS_USERNAME || null, password: env.REDIS_PASSWORD } : null;

  if (env.REDIS_URL) {
    const url = env.REDIS_URL;
    if (!/^rediss?:\/\//.test(url)) throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${url}"`);
    return { kind: 'single', url };
  }
  if (env.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: addressList(env, 'REDIS_CLUSTER_NODES'), auth };
  if (env.REDIS_SENTINELS) {
    const name = env.REDIS_SENTINEL_NAME ?? '';
    if (!name) throw new ConfigError('REDIS_SENTINELS needs REDIS_SENTINEL_NAME, the name the Sentinels monitor the primary under');
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new ConfigError(`REDIS_SENTINEL_NAME must be letters, digits, dots, dashes or underscores, got "${name}"`);
    return { kind: 'sentinel', sentinels: addressList(env, 'REDIS_SENTINELS'), name, auth };
  }
  return null;
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

  const port = integer(env, 'PORT', 3000, 0, 65535);
  const publicUrl = (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+(\/.*)?$/.test(publicUrl)) throw new ConfigError(`PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  if (production && !publicUrl.startsWith('https://')) warnings.push('PUBLIC_URL is not https: Twilio <Pay> needs an https action URL in production');

  let twilioAuthToken = env.TWILIO_AUTH_TOKEN ?? '';
  if (!twilioAuthToken) {
    if (production) throw new ConfigError('TWILIO_AUTH_TOKEN is required when NODE_ENV=production');
    twilioAuthToken = DEV_AUTH_TOKEN;
    warnings.push('TWILIO_AUTH_TOKEN is unset: using the fixed development token; real Twilio requests will be refused (403)');
  }

  let ssnHashKey = env.SSN_HASH_KEY ?? '';
  if (!ssnHashKey) {
    if (production) throw new ConfigError('SSN_HASH_KEY is required when NODE_ENV=production');
    ssnHashKey = DEV_SSN_HASH_KEY;
    warnings.push('SSN_HASH_KEY is unset: using a fixed development key');
  }

  let pinLetterKey = env.PIN_LETTER_KEY ?? '';
  if (!pinLetterKey) {
    if (production) throw new ConfigError('PIN_LETTER_KEY is required when NODE_ENV=production');
    pinLetterKey = DEV_PIN_LETTER_KEY;
    warnings.push('PIN_LETTER_KEY is unset: using a fixed development key for PINs in the mail outbox');
  } else if (pinLetterKey.length < 32) {
    throw new ConfigError('PIN_LETTER_KEY must be at least 32 characters');
  }

  let agentNumber = env.AGENT_NUMBER ?? '';
  if (agentNumber && !/^\+[1-9]\d{6,14}$/.test(agentNumber)) throw new ConfigError(`AGENT_NUMBER must be E.164 (+15551234567), got "${agentNumber}"`);
  if (!agentNumber) {
    agentNumber = PLACEHOLDER_AGENT_NUMBER;
    warnings.push(`AGENT_NUMBER is unset: transfers go to the placeholder ${PLACEHOLDER_AGENT_NUMBER}`);
  }

  return {
    env: nodeEnv,
    port,
    publicUrl,
    redis: redisTopology(env),
    redisPrefix: env.REDIS_PREFIX || 'cc:',
    twilioAuthToken,
    agentNumber,
    paymentConnector: env.PAYMENT_CONNECTOR || 'Default',
    paymentMaxCents: moneyCents(env, 'PAYMENT_MAX', 1_000_000),
    paymentFeeBasisPoints: percentBasisPoints(env, 'PAYMENT_FEE_PERCENT'),
    paymentSpoolFile: env.PAYMENT_SPOOL_FILE || 'var/payment-spool.jsonl',
    ssnHashKey,
    pinLetterKey,
    bcryptCost: integer(env, 'BCRYPT_COST', 10, 4, 15),
    sessionTtlSeconds: integer(env, 'SESSION_TTL_SECONDS', 4 * 3600, 60, 7 * 24 * 3600),
    identification: {
      ...DEFAULT_IDENTIFICATION_POLICY,
      lockAfter: integer(env, 'IDENTIFICATION_LOCK_AFTER', DEFAULT_IDENTIFICATION_POLICY.lockAfter, 2, 100),
      perNumber: integer(env, 'IDENTIFICATION_FAILURES_PER_NUMBER', DEFAULT_IDENTIFICATION_POLICY.perNumber, 1, 100_000),
      perWithheld: integer(env, 'IDENTIFICATION_FAILURES_WITHHELD', DEFAULT_IDENTIFICATION_POLICY.perWithheld, 1, 1_000_000),
      alarmPerMinute: integer(env, 'IDENTIFICATION_ALARM_PER_MINUTE', DEFAULT_IDENTIFICATION_POLICY.alarmPerMinute, 1, 1_000_000),
    },
    phoneUpdatesPerDay: integer(env, 'PHONE_UPDATES_PER_DAY', 3, 1, 100),
    retention: {
      sentDays: integer(env, 'SENT_RETENTION_DAYS', 30, 1, 3650),
      auditDays: integer(env, 'AUDIT_RETENTION_DAYS', 400, 30, 3650),
    },
    consoleToken: consoleToken(env),
    warnings,
  };
}
