// The in-process caseload: the same contract as Redis, for trying the line without one.
import { randomUUID } from 'node:crypto';
import type { Appointment, Case, CaseNumber, Participant, ParticipantId, Payment } from '../domain/caseload.ts';
import type { AuditEntry, CaseloadStore, Credentials, LinePayment, LoadedCaseload, PinReset, RecordedPayment } from '../domain/caseload-store.ts';
import { isWithheld, type AttemptState, type CallerKey, type FailureCounted, type IdentificationMethod, type IdentificationPolicy } from '../domain/identification.ts';
import type { Letter, PinLetter, QueuedLetter, QueuedLetterId } from '../domain/outbox.ts';
import { outboxEntry, queuedLetter } from './letter-records.ts';

type World = {
  participants: Map<string, string>;
  ssn: Map<string, string>;
  pins: Map<string, string>;
  casesOf: Map<string, string[]>;
  cases: Map<string, string>;
  payments: Map<string, string[]>;
  appointments: Map<string, string>;
  paid: Map<string, string>;
};

/** What callers did on the line, outside the caseload a load replaces (as in Redis). */
type LineSide = {
  pins: Map<string, { hash: string; at: string }>;
  pendingPins: Map<string, { hash: string; at: string }>;
  lastReset: Map<string, { at: number; iso: string }>;
  /** Failure times by `method:participant`, and locks by the same key until a time. */
  failures: Map<string, number[]>;
  locks: Map<string, number>;
  callerFailures: Map<string, number[]>;
  lineFailuresByMinute: Map<number, number>;
  changes: string[];
};

function emptyWorld(): World {
  return {
    participants: new Map(), ssn: new Map(), pins: new Map(), casesOf: new Map(), cases: new Map(),
    payments: new Map(), appointments: new Map(), paid: new Map(),
  };
}

function emptyLineSide(): LineSide {
  return {
    pins: new Map(), pendingPins: new Map(), lastReset: new Map(), failures: new Map(), locks: new Map(),
    callerFailures: new Map(), lineFailuresByMinute: new Map(), changes: [],
  };
}

// Values are kept as JSON text, as Redis keeps them, so nobody shares a reference with the store.
const read = <T>(json: string | undefined): T | null => (json === undefined ? null : (JSON.parse(json) as T));

/**
 * The in-process mail outbox, laid out as Redis lays it out: letter IDs in queue order (the
 * stream), each letter's record, a PIN letter's sealed PIN apart, and the idempotency keys.
 * MemoryOutbox (outbox.ts) is the print-and-mail job's side of it. A caseload reload keeps it.
 */
export class MemoryLetterQueue {
  readonly order: string[] = [];
  private readonly records = new Map<string, string>();
  private readonly sealedPins = new Map<string, string>();
  private readonly keys = new Map<string, string>();

  queued(idempotencyKey: string): string | null {
    return this.keys.get(idempotencyKey) ?? null;
  }

  /** Call only after `queued(idempotencyKey)` said null. */
  add(letter: Letter, idempotencyKey: string): string {
    const letterId = randomUUID();
    const { record, sealedPin } = outboxEntry(letter, letterId, idempotencyKey);
    this.keys.set(idempotencyKey, letterId);
    this.records.set(letterId, record);
    if (sealedPin !== null) this.sealedPins.set(letterId, sealedPin);
    this.order.push(letterId);
    return letterId;
  }

  letter(letterId: string): QueuedLetter | null {
    const record = this.records.get(letterId);
    return record === undefined ? null : queuedLetter(record, this.sealedPins.get(letterId) ?? null);
  }

  /** Marks the letter sent (once: a repeat keeps the first time) and forgets its sealed PIN. */
  sent(letterId: string, at: Date): void {
    const record = read<{ status: string }>(this.records.get(letterId));
    if (record && record.status !== 'sent') this.records.set(letterId, JSON.stringify({ ...record, status: 'sent', sentAt: at.toISOString() }));
    this.sealedPins.delete(letterId);
  }
}

export class MemoryCaseloadStore implements CaseloadStore {
  private world = emptyWorld();
  private readonly lineSide = emptyLineSide();
  private readonly audit: string[] = [];
  readonly outbox = new MemoryLetterQueue();

  async replaceCaseload(caseload: LoadedCaseload): Promise<void> {
    const world = emptyWorld();
    for (const { participant, ssnHash, pinHash } of caseload.participants) {
      world.participants.set(participant.participantId, JSON.stringify(participant));
      world.ssn.set(ssnHash, participant.participantId);
      if (pinHash) world.pins.set(participant.participantId, pinHash);
      world.casesOf.set(participant.participantId, []);
    }
    for (const { payments, appointments, ...c } of caseload.cases) {
      world.cases.set(c.caseNumber, JSON.stringify(c));
      world.casesOf.get(c.payingParticipantId)?.push(c.caseNumber);
      if (c.receivingParticipantId !== c.payingParticipantId) world.casesOf.get(c.receivingParticipantId)?.push(c.caseNumber);
      const newestFirst = [...payments].sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
      world.payments.set(c.caseNumber, newestFirst.map((p) => JSON.stringify(p)));
      world.appointments.set(c.caseNumber, JSON.stringify(appointments));
    }
    this.world = world;
  }

  async participant(participantId: ParticipantId): Promise<Participant | null> {
    return read<Participant>(this.world.participants.get(participantId));
  }

  async participantBySsnHash(ssnHash: string): Promise<ParticipantId | null> {
    return (this.world.ssn.get(ssnHash) as ParticipantId | undefined) ?? null;
  }

  async credentials(participantId: ParticipantId): Promise<Credentials> {
    return {
      pinHash: this.lineSide.pins.get(participantId)?.hash ?? this.world.pins.get(participantId) ?? null,
      pendingPinHash: this.lineSide.pendingPins.get(participantId)?.hash ?? null,
    };
  }

  async casesOf(participantId: ParticipantId): Promise<Case[]> {
    return (this.world.casesOf.get(participantId) ?? []).flatMap((n) => read<Case>(this.world.cases.get(n)) ?? []);
  }

  async payments(caseNumber: CaseNumber): Promise<Payment[]> {
    return (this.world.payments.get(caseNumber) ?? []).map((p) => JSON.parse(p) as Payment);
  }

  async appointments(caseNumber: CaseNumber): Promise<Appointment[]> {
    return read<Appointment[]>(this.world.appointments.get(caseNumber)) ?? [];
  }

  async identificationState(method: IdentificationMethod, participantId: ParticipantId | null, caller: CallerKey, at: Date, policy: IdentificationPolicy): Promise<AttemptState> {
    const now = at.getTime();
    const lockedUntil = participantId ? this.lineSide.locks.get(`${method}:${participantId}`) : undefined;
    const recent = (this.lineSide.callerFailures.get(caller) ?? []).filter((t) => t > now - policy.numberWindowMs);
    return { locked: lockedUntil !== undefined && lockedUntil > now, throttled: recent.length >= budgetOf(caller, policy) };
  }

  async recordIdentificationFailure(method: IdentificationMethod, participantId: ParticipantId | null, caller: CallerKey, at: Date, policy: IdentificationPolicy): Promise<FailureCounted> {
    const now = at.getTime();
    const side = this.lineSide;
    let failures = 0;
    let locked = false;
    let lockedNow = false;
    if (participantId) {
      const key = `${method}:${participantId}`;
      const recent = (side.failures.get(key) ?? []).filter((t) => t > now - policy.windowMs);
      recent.push(now);
      side.failures.set(key, recent);
      failures = recent.length;
      const wasLocked = (side.locks.get(key) ?? 0) > now;
      // A lock lifts a whole window after the last failure, so every failure while locked extends it.
      if (wasLocked || failures >= policy.lockAfter) side.locks.set(key, now + policy.windowMs);
      locked = wasLocked || failures >= policy.lockAfter;
      lockedNow = locked && !wasLocked;
    }
    const numberFailures = [...(side.callerFailures.get(caller) ?? []).filter((t) => t > now - policy.numberWindowMs), now];
    side.callerFailures.set(caller, numberFailures);
    const minute = Math.floor(now / 60_000);
    for (const old of side.lineFailuresByMinute.keys()) if (old < minute - 1) side.lineFailuresByMinute.delete(old);
    const lineFailures = (side.lineFailuresByMinute.get(minute) ?? 0) + 1;
    side.lineFailuresByMinute.set(minute, lineFailures);
    const budget = budgetOf(caller, policy);
    return {
      failures, locked, lockedNow, numberFailures: numberFailures.length,
      throttled: numberFailures.length >= budget, throttledNow: numberFailures.length === budget,
      lineFailures, alarmNow: lineFailures === policy.alarmPerMinute,
    };
  }

  async changePin(participantId: ParticipantId, pinHash: string, at: Date): Promise<void> {
    this.lineSide.pins.set(participantId, { hash: pinHash, at: at.toISOString() });
    this.lineSide.pendingPins.delete(participantId);
    this.lineSide.changes.push(JSON.stringify({ kind: 'pin', event: 'changed', participantId, at: at.toISOString() }));
  }

  async requestPinReset(participantId: ParticipantId, pendingPinHash: string, letter: PinLetter, at: Date, policy: IdentificationPolicy): Promise<PinReset> {
    const side = this.lineSide;
    const last = side.lastReset.get(participantId);
    if (last && at.getTime() - last.at < policy.resetIntervalMs) return { ok: false, reason: 'recently-reset', lastResetAt: last.iso };
    const idempotencyKey = `pin-reset:${participantId}:${at.getTime()}`;
    const first = this.outbox.queued(idempotencyKey);
    if (first) return { ok: true, letterId: first };
    side.pendingPins.set(participantId, { hash: pendingPinHash, at: at.toISOString() });
    side.failures.delete(`pin:${participantId}`);
    side.locks.delete(`pin:${participantId}`);
    side.lastReset.set(participantId, { at: at.getTime(), iso: at.toISOString() });
    side.changes.push(JSON.stringify({ kind: 'pin', event: 'reset-requested', participantId, at: at.toISOString() }));
    return { ok: true, letterId: this.outbox.add(letter, idempotencyKey) };
  }

  async usePendingPin(participantId: ParticipantId, pendingPinHash: string, at: Date): Promise<void> {
    const pending = this.lineSide.pendingPins.get(participantId);
    if (!pending || pending.hash !== pendingPinHash) return;
    this.lineSide.pins.set(participantId, { hash: pendingPinHash, at: at.toISOString() });
    this.lineSide.pendingPins.delete(participantId);
    this.lineSide.changes.push(JSON.stringify({ kind: 'pin', event: 'first-used', participantId, at: at.toISOString() }));
  }

  async queueLetter(letter: Letter, idempotencyKey: string): Promise<QueuedLetterId> {
    const first = this.outbox.queued(idempotencyKey);
    if (first) return { letterId: first, queued: false };
    return { letterId: this.outbox.add(letter, idempotencyKey), queued: true };
  }

  async letters(): Promise<QueuedLetter[]> {
    return this.outbox.order.flatMap((letterId) => this.outbox.letter(letterId) ?? []);
  }

  async recordPayment(caseNumber: CaseNumber, payment: LinePayment, apply: (c: Case) => Case): Promise<RecordedPayment> {
    const world = this.world;
    const first = world.paid.get(payment.confirmationCode);
    if (first) return { status: 'duplicate', payment: JSON.parse(first) as LinePayment };
    const current = read<Case>(world.cases.get(caseNumber));
    if (!current) return { status: 'no-case' };
    const json = JSON.stringify(payment);
    world.cases.set(caseNumber, JSON.stringify(apply(current)));
    world.payments.set(caseNumber, [json, ...(world.payments.get(caseNumber) ?? [])]);
    world.paid.set(payment.confirmationCode, json);
    return { status: 'recorded', payment };
  }

  async updatePhone(participantId: ParticipantId, phone: string, audit: AuditEntry): Promise<{ previous: string | null } | null> {
    const participant = read<Participant>(this.world.participants.get(participantId));
    if (!participant) return null;
    this.world.participants.set(participantId, JSON.stringify({ ...participant, phone }));
    this.audit.push(JSON.stringify(audit));
    return { previous: participant.phone };
  }

  async auditTrail(limit: number): Promise<AuditEntry[]> {
    return this.audit.slice(-Math.max(0, limit)).reverse().map((a) => JSON.parse(a) as AuditEntry);
  }
}

/** The failures a calling number may have in its window: withheld numbers share one, larger budget. */
function budgetOf(caller: CallerKey, policy: IdentificationPolicy): number {
  return isWithheld(caller) ? policy.perWithheld : policy.perNumber;
}
