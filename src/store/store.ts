// The store: where a call's session lives between webhooks (and, later, the caseload).
// One interface, two implementations (Redis; an in-process twin for trying the line out),
// both held to one contract suite (test/store.contract.test.ts).

import type { CallRecord, CallTrail, TurnFailure } from '../domain/call-record.ts';
import type { Language } from '../domain/language.ts';

/** Where a caller is, saved after each webhook once the machine has settled. */
export type SessionRecord = {
  /** The flows' definition version that wrote the snapshot: an older snapshot is not restored. */
  machineVersion: string;
  /** Increments on every applied webhook; action URLs carry it so a stale or repeated post is recognised. */
  turn: number;
  language: Language;
  /** XState persisted snapshot (JSON-safe). Never holds an SSN, PIN or card detail. */
  snapshot: unknown;
  /** The reply (JSON) answered for the last applied turn, answered again to a repeated post. */
  lastReply: string;
  startedAt: string;
  /** What the call's record will say, gathered turn by turn (absent in a session saved before records were kept). */
  trail?: CallTrail;
};

export class CallBusyError extends Error {
  constructor(callSid: string) {
    super(`another webhook of call ${callSid} still holds its lock`);
  }
}

export type LockOptions = {
  /** How long the lock holds if its holder dies without releasing it; renewed while the holder works. */
  leaseMs?: number;
  /** How long to wait for a lock another webhook of the same call holds. */
  waitMs?: number;
  /** Renew the lease while the work runs (withTurn does, unless told not to), so only a dead holder's lock runs out. */
  renew?: boolean;
};

/** What a webhook finds when it takes its call's lock. */
export type OpenTurn = { session: SessionRecord | null; reply: string | null };

/** What a webhook leaves behind, written in the same step that releases the lock. */
export type TurnWrite =
  /** Where the caller is now, and the reply Twilio's retry of this request must get. */
  | { kind: 'save'; record: SessionRecord; ttlSeconds: number; reply?: { idempotencyToken: string; reply: string } }
  /** The call is over: its session and retry replies go. */
  | { kind: 'end' }
  /** Nothing changed (a replayed or stale request). */
  | { kind: 'none' };

export class LockLostError extends Error {
  constructor(callSid: string) {
    super(`the lock of call ${callSid} was taken over before the webhook finished`);
  }
}

export interface CallStore {
  readonly kind: 'redis' | 'memory';
  getSession(callSid: string): Promise<SessionRecord | null>;
  /** Saves the session and, in the same atomic write, the reply to the request's idempotency token. */
  saveSession(callSid: string, record: SessionRecord, ttlSeconds: number, reply?: { idempotencyToken: string; reply: string }): Promise<void>;
  deleteSession(callSid: string): Promise<void>;
  /**
   * One webhook's hold on its call, in two round trips: the lock is taken and, in the same step, the
   * session and the reply already given to the idempotency token are read; `work` runs (the lock's
   * lease renewed while it does) and says what to write, which is written as the lock is released.
   * Throws CallBusyError after waitMs, LockLostError if the lease ran out and another webhook took it.
   */
  withTurn<T>(callSid: string, idempotencyToken: string | null, work: (open: OpenTurn) => Promise<{ value: T; write: TurnWrite }>, options?: LockOptions): Promise<T>;
  /** Runs `work` holding the call's lock, so two webhooks of one call never interleave. Throws CallBusyError after waitMs. */
  withCallLock<T>(callSid: string, work: () => Promise<T>, options?: LockOptions): Promise<T>;
  /** The session and, in the same round trip, the reply already given to this idempotency token. */
  loadTurn(callSid: string, idempotencyToken: string | null): Promise<{ session: SessionRecord | null; reply: string | null }>;
  /** The reply (opaque text) given to a request carrying this I-Twilio-Idempotency-Token, if any. */
  getReply(callSid: string, idempotencyToken: string): Promise<string | null>;
  saveReply(callSid: string, idempotencyToken: string, reply: string, ttlSeconds: number): Promise<void>;
  /**
   * Keeps a finished call's record, found by when the call started, for the store's retention
   * (CALL_RECORD_DAYS); records that have outlived it go as this one is written.
   */
  recordCall(record: CallRecord): Promise<void>;
  /** The records of calls started in [from, to), oldest first, read a page at a time. */
  callRecords(from: Date, to: Date): AsyncIterable<CallRecord>;
  /**
   * Remembers, for the status callback, that a webhook ended the call in a way its session could
   * not keep (the apology, a spooled payment); kept `ttlSeconds`, like the session.
   */
  noteCallFailure(callSid: string, failure: TurnFailure, ttlSeconds: number): Promise<void>;
  /** The failure noted for the call, if any, forgotten as it is read. */
  takeCallFailure(callSid: string): Promise<TurnFailure | null>;
  /** Resolves when the store takes a write and reads it back; rejects otherwise (readiness: a full or read-only Redis is not ready). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// For tools and tests; the line passes the webhook's own budget (src/engine/time-budget.ts).
export const DEFAULT_LOCK: Required<Omit<LockOptions, 'renew'>> = { leaseMs: 4_000, waitMs: 5_000 };
/** How long the reply to an idempotency token is kept: Twilio retries within seconds (spec section 9). */
export const REPLY_TTL_SECONDS = 300;
/** How long call records are kept by default (CALL_RECORD_DAYS). */
export const DEFAULT_CALL_RECORD_DAYS = 90;
export const DAY_MS = 86_400_000;
