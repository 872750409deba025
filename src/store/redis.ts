import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { isTurnFailure, parseCallRecord, type CallRecord, type TurnFailure } from '../domain/call-record.ts';
import { runScript, type RedisClient } from './lua-scripts.ts';
import {
  CallBusyError,
  DAY_MS,
  DEFAULT_CALL_RECORD_DAYS,
  DEFAULT_LOCK,
  LockLostError,
  REPLY_TTL_SECONDS,
  type CallStore,
  type LockOptions,
  type OpenTurn,
  type SessionRecord,
  type TurnWrite,
} from './store.ts';

export type RedisStoreOptions = {
  /** How long call records are kept, in days (CALL_RECORD_DAYS). */
  callRecordDays?: number;
  /** How long the reply to an idempotency token is kept (Twilio retries within seconds). */
  replyTtlSeconds?: number;
  /** Told about connection trouble and unreadable stored values; messages carry no credentials or call data. */
  onError?: (message: string) => void;
};

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

/** How long a readiness probe's key lives: seconds, so probes never pile up whatever the instance count. */
export const READY_PROBE_TTL_MS = 5_000;

function ttlSecondsOf(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`TTL must be a positive number of seconds, got ${ttlSeconds}`);
  return Math.ceil(ttlSeconds);
}

function positiveDays(days: number): number {
  if (!Number.isFinite(days) || days <= 0) throw new RangeError(`call records must be kept a positive number of days, got ${days}`);
  return days;
}

/** Records read per round trip. */
const CALL_RECORD_PAGE = 500;

/** Keeps a call's keys in one Cluster slot whatever characters a CallSid or token carries. */
function keyPart(value: string): string {
  return encodeURIComponent(value);
}

export class RedisStore implements CallStore {
  readonly kind = 'redis' as const;

  private readonly callRecordDays: number;
  private readonly replyTtlSeconds: number;
  private readonly onError: ((message: string) => void) | undefined;
  private readonly instance = randomUUID();

  constructor(
    readonly redis: RedisClient,
    private readonly prefix = 'cc:',
    options: RedisStoreOptions = {},
  ) {
    this.callRecordDays = positiveDays(options.callRecordDays ?? DEFAULT_CALL_RECORD_DAYS);
    this.replyTtlSeconds = ttlSecondsOf(options.replyTtlSeconds ?? REPLY_TTL_SECONDS);
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

  /** The key names, exposed for tests and operators. Retry replies are one hash per call, by token. */
  keys(callSid: string): { session: string; lock: string; replies: string; failure: string } {
    const base = `${this.prefix}call:{${keyPart(callSid)}}`;
    return { session: `${base}:session`, lock: `${base}:lock`, replies: `${base}:replies`, failure: `${base}:failure` };
  }

  /**
   * Call records: a sorted set of record JSON scored by the call's start (milliseconds), in a hash
   * tag of its own. It is written apart from any call's keys, never in a call's turn.
   */
  get callRecordsKey(): string {
    return `${this.prefix}{calls}:records`;
  }

  async getSession(callSid: string): Promise<SessionRecord | null> {
    const json = await this.redis.get(this.keys(callSid).session);
    return json === null ? null : (this.parse(json, 'session') as SessionRecord | null);
  }

  async saveSession(callSid: string, record: SessionRecord, ttlSeconds: number, reply?: { idempotencyToken: string; reply: string }): Promise<void> {
    const keys = this.keys(callSid);
    const ttl = ttlSecondsOf(ttlSeconds);
    if (!reply) {
      await this.redis.set(keys.session, JSON.stringify(record), 'EX', ttl);
      return;
    }
    // One transaction: a crash between the two writes must not leave a new turn whose retry is not recognised.
    const results = await this.redis.multi()
      .set(keys.session, JSON.stringify(record), 'EX', ttl)
      .hset(keys.replies, reply.idempotencyToken, reply.reply)
      .expire(keys.replies, this.replyTtlSeconds)
      .exec();
    if (results === null) throw new Error('saving the session was aborted');
    for (const [error] of results) {
      if (error) throw error;
    }
  }

  async deleteSession(callSid: string): Promise<void> {
    await this.redis.del(this.keys(callSid).session);
  }

  async withCallLock<T>(callSid: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    return this.withTurn(callSid, null, async () => ({ value: await work(), write: { kind: 'none' } }), { renew: false, ...options });
  }

  async withTurn<T>(callSid: string, idempotencyToken: string | null, work: (open: OpenTurn) => Promise<{ value: T; write: TurnWrite }>, options: LockOptions = {}): Promise<T> {
    const leaseMs = Math.max(1, Math.ceil(options.leaseMs ?? DEFAULT_LOCK.leaseMs));
    const waitMs = Math.max(0, options.waitMs ?? DEFAULT_LOCK.waitMs);
    const keys = this.keys(callSid);
    const callKeys = [keys.lock, keys.session, keys.replies];
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    let open: OpenTurn;
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      const [taken, session, reply] = await runScript<[number, string | null, string | null]>(this.redis, 'begin-turn', callKeys, [token, leaseMs, idempotencyToken ?? '']);
      if (taken === 1) {
        open = { session: session === null ? null : (this.parse(session, 'session') as SessionRecord | null), reply };
        break;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new CallBusyError(callSid);
      await sleep(Math.min(pause, left));
    }
    // The lease is short, so a lock whose holder died frees itself quickly; while the holder works, it is renewed.
    const renewal = options.renew === false ? undefined : setInterval(() => {
      runScript(this.redis, 'renew-lock', [keys.lock], [token, leaseMs]).catch(() => {});
    }, Math.max(1, Math.floor(leaseMs / 3)));
    renewal?.unref();
    let released = false;
    try {
      const { value, write } = await work(open);
      clearInterval(renewal);
      released = true;
      if (write.kind === 'save') {
        const { record, ttlSeconds, reply } = write;
        const saved = await runScript<number>(this.redis, 'finish-turn', callKeys, [
          token, JSON.stringify(record), ttlSecondsOf(ttlSeconds), reply?.idempotencyToken ?? '', reply?.reply ?? '', this.replyTtlSeconds,
        ]);
        if (saved !== 1) throw new LockLostError(callSid);
      } else if (write.kind === 'end') {
        if ((await runScript<number>(this.redis, 'end-call', callKeys, [token])) !== 1) throw new LockLostError(callSid);
      } else {
        await this.release(keys.lock, token);
      }
      return value;
    } finally {
      clearInterval(renewal);
      if (!released) await this.release(keys.lock, token);
    }
  }

  async getReply(callSid: string, idempotencyToken: string): Promise<string | null> {
    return this.redis.hget(this.keys(callSid).replies, idempotencyToken);
  }

  async loadTurn(callSid: string, idempotencyToken: string | null): Promise<{ session: SessionRecord | null; reply: string | null }> {
    const keys = this.keys(callSid);
    if (idempotencyToken === null) return { session: await this.getSession(callSid), reply: null };
    // Both keys share the call's hash tag, so this pipeline is one slot on a Cluster too.
    const results = (await this.redis.pipeline().get(keys.session).hget(keys.replies, idempotencyToken).exec()) ?? [];
    // A pipeline answers each command's error in its place instead of rejecting: an outage must fail the read.
    for (const [error] of results) if (error) throw error;
    const [json, reply] = results.map(([, value]) => value as string | null);
    return { session: json == null ? null : (this.parse(json, 'session') as SessionRecord | null), reply: reply ?? null };
  }

  /** Kept for `ttlSeconds`, or the store's reply TTL if shorter: a reply outlives its retries by minutes, never hours. */
  async saveReply(callSid: string, idempotencyToken: string, reply: string, ttlSeconds: number): Promise<void> {
    const key = this.keys(callSid).replies;
    const ttl = Math.min(ttlSecondsOf(ttlSeconds), this.replyTtlSeconds);
    const results = await this.redis.multi().hset(key, idempotencyToken, reply).expire(key, ttl).exec();
    for (const [error] of results ?? []) if (error) throw error;
  }

  async recordCall(record: CallRecord): Promise<void> {
    // Retention counts back from the call's own end, so the engine's clock is the one that decides.
    const oldestKept = Date.parse(record.endedAt) - this.callRecordDays * DAY_MS;
    const results = await this.redis
      .multi()
      .zadd(this.callRecordsKey, Date.parse(record.startedAt), JSON.stringify(record))
      .zremrangebyscore(this.callRecordsKey, '-inf', `(${oldestKept}`)
      .exec();
    if (results === null) throw new Error('recording the call was aborted');
    for (const [error] of results) if (error) throw error;
  }

  async *callRecords(from: Date, to: Date): AsyncIterable<CallRecord> {
    const end = `(${to.getTime()}`;
    let min = String(from.getTime());
    // Paged by score; records that share the last page's final score are skipped by count, not by
    // walking the set from its start again.
    let sameScoreSeen = 0;
    for (;;) {
      const page = await this.redis.zrangebyscore(this.callRecordsKey, min, end, 'WITHSCORES', 'LIMIT', sameScoreSeen, CALL_RECORD_PAGE);
      for (let i = 0; i < page.length; i += 2) {
        const record = this.callRecordOf(page[i] ?? '');
        if (record) yield record;
      }
      if (page.length < 2 * CALL_RECORD_PAGE) return;
      const lastScore = page[page.length - 1] ?? '';
      const atLastScore = page.filter((value, i) => i % 2 === 1 && value === lastScore).length;
      sameScoreSeen = lastScore === min ? sameScoreSeen + atLastScore : atLastScore;
      min = lastScore;
    }
  }

  async noteCallFailure(callSid: string, failure: TurnFailure, ttlSeconds: number): Promise<void> {
    await this.redis.set(this.keys(callSid).failure, failure, 'EX', ttlSecondsOf(ttlSeconds));
  }

  async takeCallFailure(callSid: string): Promise<TurnFailure | null> {
    const failure = await this.redis.getdel(this.keys(callSid).failure);
    return isTurnFailure(failure) ? failure : null;
  }

  /** This store's readiness key: one per instance, so instances never read each other's probe. */
  get readyKey(): string {
    return `${this.prefix}readyz:${this.instance}`;
  }

  // A PING would pass on a full (maxmemory, noeviction) or read-only Redis, where no webhook can
  // save its turn: readiness is a write, read back, of a key that expires by itself.
  async ping(): Promise<void> {
    const probe = randomUUID();
    await this.redis.set(this.readyKey, probe, 'PX', READY_PROBE_TTL_MS);
    // Read back and gone: a probe never lingers among the caseload's keys (it expires anyway).
    const read = await this.redis.getdel(this.readyKey);
    if (read !== probe) throw new Error('redis did not read back the readiness probe it took');
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
      await runScript(this.redis, 'release-lock', [key], [token]);
    } catch (error) {
      // The work is done; failing the webhook now would only hide its answer. The lease frees the lock.
      this.onError?.(`redis: releasing a call lock failed (its lease will expire): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private callRecordOf(json: string): CallRecord | null {
    try {
      return parseCallRecord(JSON.parse(json));
    } catch (error) {
      this.onError?.(`redis: a stored call record is unreadable (${error instanceof Error ? error.message : 'not JSON'}); skipping it`);
      return null;
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
