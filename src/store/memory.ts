import { randomUUID } from 'node:crypto';
import { isTurnFailure, type CallRecord, type TurnFailure } from '../domain/call-record.ts';
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

export type MemoryStoreOptions = {
  /** Milliseconds since the epoch; injectable so tests can expire entries without waiting. Locks use real timers. */
  now?: () => number;
  /** How long call records are kept, in days (CALL_RECORD_DAYS). */
  callRecordDays?: number;
  /** How long the reply to an idempotency token is kept (Twilio retries within seconds). */
  replyTtlSeconds?: number;
  /** How often (by `now`) a write also drops every expired entry, so many finished calls do not pile up. */
  sweepEveryMs?: number;
};

type Expiring = { json: string; expiresAt: number };

type Waiter = {
  leaseMs: number;
  timer: NodeJS.Timeout;
  grant: (token: string) => void;
};

type LockState = {
  holder: string | null;
  lease: NodeJS.Timeout | null;
  waiters: Waiter[];
};

function ttlMs(ttlSeconds: number): number {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`TTL must be a positive number of seconds, got ${ttlSeconds}`);
  return Math.ceil(ttlSeconds) * 1000;
}

/**
 * The in-process twin of RedisStore. Values are kept as JSON, exactly as Redis keeps them, so a
 * caller can neither mutate stored state nor rely on anything JSON would not carry (undefined
 * fields, Dates, class instances) and be surprised in production.
 */
export class MemoryStore implements CallStore {
  readonly kind = 'memory' as const;

  private readonly now: () => number;
  private readonly callRecordDays: number;
  private readonly replyTtlSeconds: number;
  private readonly sweepEveryMs: number;
  private lastSweep: number;
  private readonly sessions = new Map<string, Expiring>();
  private readonly replies = new Map<string, Expiring>();
  private readonly locks = new Map<string, LockState>();
  private readonly failures = new Map<string, Expiring>();
  /** By the call's start, oldest first, as JSON (like the sorted set in Redis). */
  private records: { startedAt: number; json: string }[] = [];
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.callRecordDays = options.callRecordDays ?? DEFAULT_CALL_RECORD_DAYS;
    if (!(this.callRecordDays > 0)) throw new RangeError(`call records must be kept a positive number of days, got ${this.callRecordDays}`);
    this.replyTtlSeconds = options.replyTtlSeconds ?? REPLY_TTL_SECONDS;
    this.sweepEveryMs = options.sweepEveryMs ?? 30_000;
    this.lastSweep = this.now();
  }

  async getSession(callSid: string): Promise<SessionRecord | null> {
    return this.read(this.sessions, callSid) as SessionRecord | null;
  }

  async saveSession(callSid: string, record: SessionRecord, ttlSeconds: number, reply?: { idempotencyToken: string; reply: string }): Promise<void> {
    this.write(this.sessions, callSid, record, ttlSeconds);
    if (reply) this.write(this.replies, replyKey(callSid, reply.idempotencyToken), reply.reply, Math.min(ttlSeconds, this.replyTtlSeconds));
  }

  async deleteSession(callSid: string): Promise<void> {
    this.sessions.delete(callSid);
  }

  async withTurn<T>(callSid: string, idempotencyToken: string | null, work: (open: OpenTurn) => Promise<{ value: T; write: TurnWrite }>, options: LockOptions = {}): Promise<T> {
    const leaseMs = Math.max(1, Math.ceil(options.leaseMs ?? DEFAULT_LOCK.leaseMs));
    const token = await this.acquire(callSid, leaseMs, Math.max(0, options.waitMs ?? DEFAULT_LOCK.waitMs));
    const renewal = options.renew === false ? undefined : setInterval(() => this.renew(callSid, token, leaseMs), Math.max(1, Math.floor(leaseMs / 3)));
    renewal?.unref();
    try {
      const { value, write } = await work(await this.loadTurn(callSid, idempotencyToken));
      if (this.locks.get(callSid)?.holder !== token) throw new LockLostError(callSid);
      if (write.kind === 'save') await this.saveSession(callSid, write.record, write.ttlSeconds, write.reply);
      else if (write.kind === 'end') this.endCall(callSid);
      return value;
    } finally {
      clearInterval(renewal);
      this.release(callSid, token);
    }
  }

  private renew(callSid: string, token: string, leaseMs: number): void {
    const state = this.locks.get(callSid);
    if (!state || state.holder !== token) return;
    if (state.lease) clearTimeout(state.lease);
    state.lease = setTimeout(() => this.release(callSid, token), leaseMs);
    state.lease.unref();
  }

  private endCall(callSid: string): void {
    this.sessions.delete(callSid);
    const prefix = replyKey(callSid, '');
    for (const key of this.replies.keys()) if (key.startsWith(prefix)) this.replies.delete(key);
  }

  async withCallLock<T>(callSid: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const leaseMs = Math.max(1, Math.ceil(options.leaseMs ?? DEFAULT_LOCK.leaseMs));
    const waitMs = Math.max(0, options.waitMs ?? DEFAULT_LOCK.waitMs);
    const token = await this.acquire(callSid, leaseMs, waitMs);
    try {
      return await work();
    } finally {
      this.release(callSid, token);
    }
  }

  async loadTurn(callSid: string, idempotencyToken: string | null): Promise<{ session: SessionRecord | null; reply: string | null }> {
    return { session: await this.getSession(callSid), reply: idempotencyToken === null ? null : await this.getReply(callSid, idempotencyToken) };
  }

  async getReply(callSid: string, idempotencyToken: string): Promise<string | null> {
    return this.read(this.replies, replyKey(callSid, idempotencyToken)) as string | null;
  }

  async saveReply(callSid: string, idempotencyToken: string, reply: string, ttlSeconds: number): Promise<void> {
    this.write(this.replies, replyKey(callSid, idempotencyToken), reply, Math.min(ttlMs(ttlSeconds) / 1000, this.replyTtlSeconds));
  }

  async recordCall(record: CallRecord): Promise<void> {
    const startedAt = Date.parse(record.startedAt);
    // After the last record that started no later: records of one instant keep their arrival order.
    let low = 0;
    for (let high = this.records.length; low < high;) {
      const middle = (low + high) >> 1;
      if (this.records[middle]!.startedAt <= startedAt) low = middle + 1;
      else high = middle;
    }
    this.records.splice(low, 0, { startedAt, json: JSON.stringify(record) });
    const oldestKept = Date.parse(record.endedAt) - this.callRecordDays * DAY_MS;
    const kept = this.records.findIndex((entry) => entry.startedAt >= oldestKept);
    if (kept !== 0) this.records = kept === -1 ? [] : this.records.slice(kept);
  }

  async *callRecords(from: Date, to: Date): AsyncIterable<CallRecord> {
    const [start, end] = [from.getTime(), to.getTime()];
    for (const entry of this.records.filter((e) => e.startedAt >= start && e.startedAt < end)) yield JSON.parse(entry.json) as CallRecord;
  }

  async noteCallFailure(callSid: string, failure: TurnFailure, ttlSeconds: number): Promise<void> {
    this.write(this.failures, callSid, failure, ttlSeconds);
  }

  async takeCallFailure(callSid: string): Promise<TurnFailure | null> {
    const failure = this.read(this.failures, callSid);
    this.failures.delete(callSid);
    return isTurnFailure(failure) ? failure : null;
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('the in-process store is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const state of this.locks.values()) {
      if (state.lease) clearTimeout(state.lease);
    }
  }

  /** Entry counts, for tests and diagnostics. */
  sizes(): { sessions: number; replies: number; locks: number; failures: number; records: number } {
    return {
      sessions: this.sessions.size,
      replies: this.replies.size,
      locks: this.locks.size,
      failures: this.failures.size,
      records: this.records.length,
    };
  }

  private read(map: Map<string, Expiring>, key: string): unknown {
    const entry = map.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      map.delete(key);
      return null;
    }
    return JSON.parse(entry.json) as unknown;
  }

  private write(map: Map<string, Expiring>, key: string, value: unknown, ttlSeconds: number): void {
    const expiresAt = this.now() + ttlMs(ttlSeconds);
    map.set(key, { json: JSON.stringify(value), expiresAt });
    this.sweepIfDue();
  }

  private sweepIfDue(): void {
    const now = this.now();
    if (now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    for (const map of [this.sessions, this.replies, this.failures]) {
      for (const [key, entry] of map) {
        if (entry.expiresAt <= now) map.delete(key);
      }
    }
  }

  private acquire(callSid: string, leaseMs: number, waitMs: number): Promise<string> {
    let state = this.locks.get(callSid);
    if (!state) {
      state = { holder: null, lease: null, waiters: [] };
      this.locks.set(callSid, state);
    }
    if (state.holder === null) return Promise.resolve(this.grant(callSid, state, leaseMs));
    if (waitMs <= 0) return Promise.reject(new CallBusyError(callSid));
    const lockState = state;
    return new Promise<string>((resolve, reject) => {
      const waiter: Waiter = {
        leaseMs,
        grant: resolve,
        timer: setTimeout(() => {
          const index = lockState.waiters.indexOf(waiter);
          if (index >= 0) lockState.waiters.splice(index, 1);
          reject(new CallBusyError(callSid));
        }, waitMs),
      };
      lockState.waiters.push(waiter);
    });
  }

  private grant(callSid: string, state: LockState, leaseMs: number): string {
    const token = randomUUID();
    state.holder = token;
    // A holder that never comes back must not block the call forever.
    state.lease = setTimeout(() => this.release(callSid, token), leaseMs);
    state.lease.unref();
    return token;
  }

  /** Releases only if `token` still holds the lock: a holder whose lease ran out has nothing to release. */
  private release(callSid: string, token: string): void {
    const state = this.locks.get(callSid);
    if (!state || state.holder !== token) return;
    if (state.lease) clearTimeout(state.lease);
    state.holder = null;
    state.lease = null;
    const next = state.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.grant(this.grant(callSid, state, next.leaseMs));
    } else {
      this.locks.delete(callSid);
    }
  }
}

function replyKey(callSid: string, idempotencyToken: string): string {
  return `${callSid}\u0000${idempotencyToken}`;
}
