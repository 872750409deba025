// The store: where a call's session lives between webhooks (and, later, the caseload).
// One interface, two implementations (Redis; an in-process twin for trying the line out),
// both held to one contract suite (test/store.contract.test.ts).

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
};

/** What became of a call, recorded when Twilio's status callback says it ended. */
export type CallOutcome = {
  callSid: string;
  status: string;
  durationSeconds: number | null;
  lastState: string | null;
  endedAt: string;
};

export class CallBusyError extends Error {
  constructor(callSid: string) {
    super(`another webhook of call ${callSid} still holds its lock`);
  }
}

export type LockOptions = {
  /** How long the lock holds if its holder dies without releasing it. */
  leaseMs?: number;
  /** How long to wait for a lock another webhook of the same call holds. */
  waitMs?: number;
};

export interface CallStore {
  readonly kind: 'redis' | 'memory';
  getSession(callSid: string): Promise<SessionRecord | null>;
  /** Saves the session and, in the same atomic write, the reply to the request's idempotency token. */
  saveSession(callSid: string, record: SessionRecord, ttlSeconds: number, reply?: { idempotencyToken: string; reply: string }): Promise<void>;
  deleteSession(callSid: string): Promise<void>;
  /** Runs `work` holding the call's lock, so two webhooks of one call never interleave. Throws CallBusyError after waitMs. */
  withCallLock<T>(callSid: string, work: () => Promise<T>, options?: LockOptions): Promise<T>;
  /** The session and, in the same round trip, the reply already given to this idempotency token. */
  loadTurn(callSid: string, idempotencyToken: string | null): Promise<{ session: SessionRecord | null; reply: string | null }>;
  /** The reply (opaque text) given to a request carrying this I-Twilio-Idempotency-Token, if any. */
  getReply(callSid: string, idempotencyToken: string): Promise<string | null>;
  saveReply(callSid: string, idempotencyToken: string, reply: string, ttlSeconds: number): Promise<void>;
  recordCallOutcome(outcome: CallOutcome): Promise<void>;
  /** Most recent first. */
  recentCallOutcomes(limit: number): Promise<CallOutcome[]>;
  /** Resolves when the store answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_LOCK: Required<LockOptions> = { leaseMs: 15_000, waitMs: 10_000 };
export const OUTCOMES_KEPT = 10_000;
