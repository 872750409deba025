import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import {
  CallBusyError,
  DEFAULT_LOCK,
  OUTCOMES_KEPT,
  type CallOutcome,
  type CallStore,
  type LockOptions,
  type SessionRecord,
} from './store.ts';

export type RedisStoreOptions = {
  outcomesKept?: number;
  /** Told about connection trouble and unreadable stored values; messages carry no credentials or call data. */
  onError?: (message: string) => void;
};

const RELEASE_IF_HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Twilio gives up on a webhook after 15 s, so a command against an unreachable Redis must fail
 * in about a second (and the webhook answer something) rather than wait for a reconnect.
 * The offline queue stays on so commands issued while (re)connecting still go through.
 */
export const WEB_CLIENT_OPTIONS: RedisOptions = {
  connectTimeout: 1_000,
  commandTimeout: 1_500,
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(100 * times, 2_000),
  // Commands issued in the same tick by concurrent webhooks share one write to the socket
  // (npm run bench: about a quarter less server CPU per webhook).
  enableAutoPipelining: true,
};

function ttlSecondsOf(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`TTL must be a positive number of seconds, got ${ttlSeconds}`);
  return Math.ceil(ttlSeconds);
}

/** Keeps a call's keys in one Cluster slot whatever characters a CallSid or token carries. */
function keyPart(value: string): string {
  return encodeURIComponent(value);
}

export class RedisStore implements CallStore {
  readonly kind = 'redis' as const;

  private readonly outcomesKept: number;
  private readonly onError: ((message: string) => void) | undefined;

  constructor(
    readonly redis: Redis | Cluster,
    private readonly prefix = 'cc:',
    options: RedisStoreOptions = {},
  ) {
    this.outcomesKept = Math.max(1, Math.floor(options.outcomesKept ?? OUTCOMES_KEPT));
    this.onError = options.onError;
  }

  /** A client for a web service: fails fast while Redis is away, reconnects by itself when it is back. */
  static connect(url: string, prefix = 'cc:', options: RedisStoreOptions = {}): RedisStore {
    const redis = new Redis(url, WEB_CLIENT_OPTIONS);
    let lastReported: string | null = null;
    // Without a listener ioredis would raise an unhandled 'error' event and end the process.
    redis.on('error', (error: unknown) => {
      const message = `redis: ${error instanceof Error ? error.message : String(error)}`;
      if (message === lastReported) return;
      lastReported = message;
      options.onError?.(message);
    });
    redis.on('ready', () => {
      lastReported = null;
    });
    return new RedisStore(redis, prefix, options);
  }

  /** The key names, exposed for tests and operators. */
  keys(callSid: string): { session: string; lock: string; reply: (idempotencyToken: string) => string } {
    const base = `${this.prefix}call:{${keyPart(callSid)}}`;
    return {
      session: `${base}:session`,
      lock: `${base}:lock`,
      reply: (idempotencyToken) => `${base}:reply:${keyPart(idempotencyToken)}`,
    };
  }

  get outcomesKey(): string {
    return `${this.prefix}calls:outcomes`;
  }

  async getSession(callSid: string): Promise<SessionRecord | null> {
    const json = await this.redis.get(this.keys(callSid).session);
    return json === null ? null : (this.parse(json, 'session') as SessionRecord | null);
  }

  async saveSession(callSid: string, record: SessionRecord, ttlSeconds: number, reply?: { idempotencyToken: string; twiml: string }): Promise<void> {
    const keys = this.keys(callSid);
    const ttl = ttlSecondsOf(ttlSeconds);
    if (!reply) {
      await this.redis.set(keys.session, JSON.stringify(record), 'EX', ttl);
      return;
    }
    // One transaction: a crash between the two writes must not leave a new turn whose retry is not recognised.
    const results = await this.redis.multi().set(keys.session, JSON.stringify(record), 'EX', ttl).set(keys.reply(reply.idempotencyToken), reply.twiml, 'EX', ttl).exec();
    if (results === null) throw new Error('saving the session was aborted');
    for (const [error] of results) {
      if (error) throw error;
    }
  }

  async deleteSession(callSid: string): Promise<void> {
    await this.redis.del(this.keys(callSid).session);
  }

  async withCallLock<T>(callSid: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const leaseMs = Math.max(1, Math.ceil(options.leaseMs ?? DEFAULT_LOCK.leaseMs));
    const waitMs = Math.max(0, options.waitMs ?? DEFAULT_LOCK.waitMs);
    const key = this.keys(callSid).lock;
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    let pause = 2;
    for (;;) {
      const taken = await this.redis.set(key, token, 'PX', leaseMs, 'NX');
      if (taken === 'OK') break;
      const left = deadline - Date.now();
      if (left <= 0) throw new CallBusyError(callSid);
      await sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, 25);
    }
    try {
      return await work();
    } finally {
      await this.release(key, token);
    }
  }

  async getReply(callSid: string, idempotencyToken: string): Promise<string | null> {
    return this.redis.get(this.keys(callSid).reply(idempotencyToken));
  }

  async loadTurn(callSid: string, idempotencyToken: string | null): Promise<{ session: SessionRecord | null; reply: string | null }> {
    const keys = this.keys(callSid);
    if (idempotencyToken === null) return { session: await this.getSession(callSid), reply: null };
    // One MGET: both keys share the call's hash tag, so this is one slot on a Cluster too.
    const [json, reply] = await this.redis.mget(keys.session, keys.reply(idempotencyToken));
    return { session: json == null ? null : (this.parse(json, 'session') as SessionRecord | null), reply: reply ?? null };
  }

  async saveReply(callSid: string, idempotencyToken: string, twiml: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.keys(callSid).reply(idempotencyToken), twiml, 'EX', ttlSecondsOf(ttlSeconds));
  }

  async recordCallOutcome(outcome: CallOutcome): Promise<void> {
    const results = await this.redis
      .multi()
      .lpush(this.outcomesKey, JSON.stringify(outcome))
      .ltrim(this.outcomesKey, 0, this.outcomesKept - 1)
      .exec();
    if (results === null) throw new Error('recording the call outcome was aborted');
    for (const [error] of results) {
      if (error) throw error;
    }
  }

  async recentCallOutcomes(limit: number): Promise<CallOutcome[]> {
    const count = Math.min(Math.floor(limit), this.outcomesKept);
    // LRANGE 0 -1 would mean "everything".
    if (!(count > 0)) return [];
    const rows = await this.redis.lrange(this.outcomesKey, 0, count - 1);
    const outcomes: CallOutcome[] = [];
    for (const row of rows) {
      const outcome = this.parse(row, 'call outcome');
      if (outcome !== null) outcomes.push(outcome as CallOutcome);
    }
    return outcomes;
  }

  async ping(): Promise<void> {
    const answer = await this.redis.ping();
    if (answer !== 'PONG') throw new Error(`redis answered PING with ${JSON.stringify(answer)}`);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /** Compare-and-delete, so a webhook whose lease ran out never frees the lock a later webhook now holds. */
  private async release(key: string, token: string): Promise<void> {
    try {
      await this.redis.eval(RELEASE_IF_HELD, 1, key, token);
    } catch (error) {
      // The work is done; failing the webhook now would only hide its answer. The lease frees the lock.
      this.onError?.(`redis: releasing a call lock failed (its lease will expire): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private parse(json: string, what: string): unknown {
    try {
      return JSON.parse(json) as unknown;
    } catch {
      this.onError?.(`redis: a stored ${what} is not valid JSON; treating it as absent`);
      return null;
    }
  }
}
