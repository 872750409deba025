// The in-process caseload: the same contract as Redis, for trying the line without one.
import { randomUUID } from 'node:crypto';
import type { Appointment, Case, CaseNumber, Participant, ParticipantId, Payment } from '../domain/caseload.ts';
import type { CaseloadStore, Letter, LinePayment, LoadedCaseload, PinFailure, PinPolicy, PinReset, QueuedLetter, RecordedPayment } from './caseload.ts';

type World = {
  participants: Map<string, string>;
  ssn: Map<string, string>;
  pins: Map<string, string>;
  casesOf: Map<string, string[]>;
  cases: Map<string, string>;
  payments: Map<string, string[]>;
  appointments: Map<string, string>;
  pinFailures: Map<string, number[]>;
  pinLocked: Set<string>;
  lastReset: Map<string, { at: number; iso: string }>;
  paid: Map<string, string>;
};

function emptyWorld(): World {
  return {
    participants: new Map(), ssn: new Map(), pins: new Map(), casesOf: new Map(), cases: new Map(),
    payments: new Map(), appointments: new Map(), pinFailures: new Map(), pinLocked: new Set(), lastReset: new Map(), paid: new Map(),
  };
}

// Values are kept as JSON text, as Redis keeps them, so nobody shares a reference with the store.
const read = <T>(json: string | undefined): T | null => (json === undefined ? null : (JSON.parse(json) as T));

export class MemoryCaseloadStore implements CaseloadStore {
  private world = emptyWorld();
  private readonly outbox: string[] = [];

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

  async pinHash(participantId: ParticipantId): Promise<string | null> {
    return this.world.pins.get(participantId) ?? null;
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

  async isPinLocked(participantId: ParticipantId): Promise<boolean> {
    return this.world.pinLocked.has(participantId);
  }

  async recordPinFailure(participantId: ParticipantId, at: Date, policy: PinPolicy): Promise<PinFailure> {
    const now = at.getTime();
    const recent = (this.world.pinFailures.get(participantId) ?? []).filter((t) => t > now - policy.failureWindowMs);
    recent.push(now);
    this.world.pinFailures.set(participantId, recent);
    if (recent.length >= policy.lockAfter) this.world.pinLocked.add(participantId);
    return { failuresInWindow: recent.length, locked: this.world.pinLocked.has(participantId) };
  }

  async changePin(participantId: ParticipantId, pinHash: string): Promise<void> {
    this.world.pins.set(participantId, pinHash);
  }

  async resetPin(participantId: ParticipantId, pinHash: string, letter: Letter, at: Date, policy: PinPolicy): Promise<PinReset> {
    const last = this.world.lastReset.get(participantId);
    if (last && at.getTime() - last.at < policy.resetIntervalMs) return { ok: false, reason: 'recently-reset', lastResetAt: last.iso };
    const letterId = randomUUID();
    this.world.pins.set(participantId, pinHash);
    this.world.pinFailures.delete(participantId);
    this.world.pinLocked.delete(participantId);
    this.world.lastReset.set(participantId, { at: at.getTime(), iso: at.toISOString() });
    this.outbox.push(JSON.stringify({ ...letter, letterId, idempotencyKey: `pin-reset:${participantId}:${at.getTime()}` } satisfies QueuedLetter));
    return { ok: true, letterId };
  }

  async letters(): Promise<QueuedLetter[]> {
    return this.outbox.map((l) => JSON.parse(l) as QueuedLetter);
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
}
