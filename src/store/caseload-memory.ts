// The in-process caseload: the same contract as Redis, for trying the line without one.
import { randomUUID } from 'node:crypto';
import type { Appointment, Case, CaseNumber, Participant, ParticipantId, Payment } from '../domain/caseload.ts';
import type { ParsedCase } from '../domain/caseload-file.ts';
import {
  MISMATCHES_LISTED,
  type AuditEntry, type CaseloadLoad, type CaseloadStore, type Credentials, type ExportRange, type LineChanges, type LinePayment, type LoadReport,
  type LoadedCaseload, type LoadedParticipant, type PayTicket, type PhoneUpdate, type PinReset, type RecordedChange, type RecordedPayment,
  type Retention, type UnconfirmedPayment,
} from '../domain/caseload-store.ts';
import { isWithheld, type AttemptState, type CallerKey, type FailureCounted, type IdentificationMethod, type IdentificationPolicy } from '../domain/identification.ts';
import { linePinStands, paymentsNow, phoneNow, phoneRetired, unconfirmed, withLinePayments, type LinePhone, type LinePin } from '../domain/line-overlay.ts';
import type { Letter, PinLetter, QueuedLetter, QueuedLetterId } from '../domain/outbox.ts';
import { outboxEntry, queuedLetter } from './letter-records.ts';

/** The agency's side, as one load wrote it. */
type World = {
  participants: Map<string, string>;
  ssn: Map<string, string>;
  pins: Map<string, string>;
  resetPin: Set<string>;
  casesOf: Map<string, Set<string>>;
  cases: Map<string, string>;
  payments: Map<string, string[]>;
  /** The file's confirmation codes, and the case each is on. */
  confirmed: Map<string, string>;
  appointments: Map<string, string>;
  loadedAt: string | null;
};

/** What callers did on the line, outside the caseload a load replaces (as in Redis). */
type LineSide = {
  pins: Map<string, LinePin>;
  pendingPins: Map<string, LinePin>;
  /** Card payments by confirmation code (with their case), the cases' lists, and used <Pay> tickets. */
  paid: Map<string, string>;
  payments: Map<string, string[]>;
  tickets: Map<string, string>;
  phones: Map<string, LinePhone>;
  phoneUpdates: Map<string, number>;
  lastReset: Map<string, { at: number; iso: string }>;
  /** Failure times by `method:participant`, and locks by the same key until a time. */
  failures: Map<string, number[]>;
  locks: Map<string, number>;
  callerFailures: Map<string, number[]>;
  lineFailuresByMinute: Map<number, number>;
  /** The changes for the agency's export, as the Redis stream keeps them (IDs `ms-seq`, rising). */
  changes: RecordedChange[];
  /** The export's cursor (the last change exported) and the range a run has begun and not finished. */
  exportCursor: string;
  exportPending: ExportRange | null;
};

function emptyWorld(): World {
  return {
    participants: new Map(), ssn: new Map(), pins: new Map(), resetPin: new Set(), casesOf: new Map(), cases: new Map(),
    payments: new Map(), confirmed: new Map(), appointments: new Map(), loadedAt: null,
  };
}

function emptyLineSide(): LineSide {
  return {
    pins: new Map(), pendingPins: new Map(), paid: new Map(), payments: new Map(), tickets: new Map(), phones: new Map(), phoneUpdates: new Map(),
    lastReset: new Map(), failures: new Map(), locks: new Map(), callerFailures: new Map(), lineFailuresByMinute: new Map(), changes: [],
    exportCursor: '0-0', exportPending: null,
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

  /**
   * Marks the letter sent (once: a repeat keeps the first time) and forgets its sealed PIN. A sent
   * letter is kept `retentionDays`, then forgotten with its idempotency key.
   */
  sent(letterId: string, at: Date, retentionDays: number): void {
    const record = read<{ status: string }>(this.records.get(letterId));
    if (record && record.status !== 'sent') this.records.set(letterId, JSON.stringify({ ...record, status: 'sent', sentAt: at.toISOString() }));
    this.sealedPins.delete(letterId);
    const before = at.getTime() - retentionDays * 86_400_000;
    for (const [id, json] of this.records) {
      const kept = read<{ status: string; sentAt: string | null; idempotencyKey: string }>(json);
      if (kept?.status === 'sent' && kept.sentAt && Date.parse(kept.sentAt) < before) {
        this.records.delete(id);
        this.keys.delete(kept.idempotencyKey);
      }
    }
  }
}

export class MemoryCaseloadStore implements CaseloadStore, LineChanges {
  private world = emptyWorld();
  private readonly lineSide = emptyLineSide();
  private readonly audit: { at: number; json: string }[] = [];
  readonly outbox = new MemoryLetterQueue();

  constructor(readonly retention: Retention = { sentDays: 30, auditDays: 400 }) {}

  // ---- loading: the agency's side -------------------------------------------------------------

  async replaceCaseload(caseload: LoadedCaseload): Promise<LoadReport> {
    const load = await this.beginLoad();
    await load.addParticipants(caseload.participants);
    await load.addCases(caseload.cases);
    return load.commit();
  }

  async beginLoad(): Promise<CaseloadLoad> {
    const world = emptyWorld();
    const loadedAt = new Date().toISOString();
    let participants = 0;
    let cases = 0;
    return {
      addParticipants: async (batch: readonly LoadedParticipant[]) => {
        for (const { participant, ssnHash, pinHash, resetPin } of batch) {
          world.participants.set(participant.participantId, JSON.stringify(participant));
          world.ssn.set(ssnHash, participant.participantId);
          if (pinHash) world.pins.set(participant.participantId, pinHash);
          if (resetPin) world.resetPin.add(participant.participantId);
          participants += 1;
        }
      },
      addCases: async (batch: readonly ParsedCase[]) => {
        for (const { payments, appointments, ...c } of batch) {
          world.cases.set(c.caseNumber, JSON.stringify(c));
          for (const party of [c.payingParticipantId, c.receivingParticipantId]) {
            const of = world.casesOf.get(party) ?? new Set<string>();
            world.casesOf.set(party, of.add(c.caseNumber));
          }
          const newestFirst = [...payments].sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
          world.payments.set(c.caseNumber, newestFirst.map((p) => JSON.stringify(p)));
          for (const p of payments) if (p.confirmationCode) world.confirmed.set(p.confirmationCode, c.caseNumber);
          world.appointments.set(c.caseNumber, JSON.stringify(appointments));
          cases += 1;
        }
      },
      abandon: async () => {},
      commit: async () => {
        world.loadedAt = loadedAt;
        this.world = world;
        return { participants, cases, ...this.retireWhatTheFileHas() };
      },
    };
  }

  /** As in Redis: line records the file has taken in are retired after the switch, and counted. */
  private retireWhatTheFileHas(): Omit<LoadReport, 'participants' | 'cases'> {
    const { world, lineSide } = this;
    const report: Omit<LoadReport, 'participants' | 'cases'> = { paymentsConfirmed: 0, confirmationMismatches: 0, mismatches: [], phonesRetired: 0, pinsRetired: 0 };
    for (const [caseNumber, listed] of lineSide.payments) {
      const kept = listed.filter((json) => {
        const code = (JSON.parse(json) as LinePayment).confirmationCode;
        const on = world.confirmed.get(code);
        if (on === caseNumber) report.paymentsConfirmed += 1;
        else if (on) {
          report.confirmationMismatches += 1;
          if (report.mismatches.length < MISMATCHES_LISTED) report.mismatches.push({ confirmationCode: code, lineCase: caseNumber as CaseNumber, fileCase: on as CaseNumber });
        }
        return on !== caseNumber;
      });
      lineSide.payments.set(caseNumber, kept);
    }
    for (const [participantId, update] of lineSide.phones) {
      const onFile = read<Participant>(world.participants.get(participantId));
      if (!onFile || phoneRetired(onFile.phone, update)) {
        lineSide.phones.delete(participantId);
        report.phonesRetired += 1;
      }
    }
    for (const participantId of world.resetPin) {
      for (const pins of [lineSide.pins, lineSide.pendingPins]) {
        if (!linePinStands(pins.get(participantId) ?? null, { resetPin: true, loadedAt: world.loadedAt })) {
          if (pins.delete(participantId)) report.pinsRetired += 1;
        }
      }
    }
    return report;
  }

  // ---- reading: the file's answers with the line's laid on top ----------------------------------

  async participant(participantId: ParticipantId): Promise<Participant | null> {
    const participant = read<Participant>(this.world.participants.get(participantId));
    if (!participant) return null;
    return { ...participant, phone: phoneNow(participant.phone, this.lineSide.phones.get(participantId) ?? null) };
  }

  async participantBySsnHash(ssnHash: string): Promise<ParticipantId | null> {
    return (this.world.ssn.get(ssnHash) as ParticipantId | undefined) ?? null;
  }

  async credentials(participantId: ParticipantId): Promise<Credentials> {
    const file = { resetPin: this.world.resetPin.has(participantId), loadedAt: this.world.loadedAt };
    const standing = (pin: LinePin | undefined) => (linePinStands(pin ?? null, file) ? (pin as LinePin).hash : null);
    return {
      pinHash: standing(this.lineSide.pins.get(participantId)) ?? this.world.pins.get(participantId) ?? null,
      pendingPinHash: standing(this.lineSide.pendingPins.get(participantId)),
    };
  }

  private pending(caseNumber: string): LinePayment[] {
    const listed = (this.lineSide.payments.get(caseNumber) ?? []).map((json) => JSON.parse(json) as LinePayment);
    return unconfirmed(listed, new Set(listed.map((p) => p.confirmationCode).filter((code) => this.world.confirmed.get(code) === caseNumber)));
  }

  async casesOf(participantId: ParticipantId): Promise<Case[]> {
    return [...(this.world.casesOf.get(participantId) ?? [])].sort().flatMap((n) => {
      const c = read<Case>(this.world.cases.get(n));
      return c ? [withLinePayments(c, this.pending(n))] : [];
    });
  }

  async payments(caseNumber: CaseNumber): Promise<Payment[]> {
    const onFile = (this.world.payments.get(caseNumber) ?? []).map((p) => JSON.parse(p) as Payment);
    return paymentsNow(onFile, this.pending(caseNumber)).map(({ receivedAt, amount, method, confirmationCode }) =>
      (confirmationCode ? { receivedAt, amount, method, confirmationCode } : { receivedAt, amount, method }));
  }

  async appointments(caseNumber: CaseNumber): Promise<Appointment[]> {
    return read<Appointment[]>(this.world.appointments.get(caseNumber)) ?? [];
  }

  async unconfirmedPayments(before: Date): Promise<UnconfirmedPayment[]> {
    return [...this.lineSide.payments.keys()]
      .flatMap((caseNumber) => this.pending(caseNumber).map((p) => ({ ...p, caseNumber: caseNumber as CaseNumber })))
      .filter((p) => Date.parse(p.receivedAt) < before.getTime())
      .sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt));
  }

  // ---- identification (the line's side) -------------------------------------------------------

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
    this.recordChange(JSON.stringify({ kind: 'pin', event: 'changed', participantId, at: at.toISOString() }));
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
    this.recordChange(JSON.stringify({ kind: 'pin', event: 'reset-requested', participantId, at: at.toISOString() }));
    return { ok: true, letterId: this.outbox.add(letter, idempotencyKey) };
  }

  async usePendingPin(participantId: ParticipantId, pendingPinHash: string, at: Date): Promise<void> {
    const pending = this.lineSide.pendingPins.get(participantId);
    if (!pending || pending.hash !== pendingPinHash) return;
    this.lineSide.pins.set(participantId, { hash: pendingPinHash, at: at.toISOString() });
    this.lineSide.pendingPins.delete(participantId);
    this.recordChange(JSON.stringify({ kind: 'pin', event: 'first-used', participantId, at: at.toISOString() }));
  }

  async queueLetter(letter: Letter, idempotencyKey: string): Promise<QueuedLetterId> {
    const first = this.outbox.queued(idempotencyKey);
    if (first) return { letterId: first, queued: false };
    if (letter.kind === 'form') this.recordChange(JSON.stringify({ kind: 'letter', form: letter.form, participantId: letter.participantId, at: letter.createdAt }));
    return { letterId: this.outbox.add(letter, idempotencyKey), queued: true };
  }

  async letters(): Promise<QueuedLetter[]> {
    return this.outbox.order.flatMap((letterId) => this.outbox.letter(letterId) ?? []);
  }

  // ---- card payments and phone updates (the line's side) -----------------------------------------

  async recordPayment(caseNumber: CaseNumber, payment: LinePayment, ticket: PayTicket): Promise<RecordedPayment> {
    const side = this.lineSide;
    const first = side.paid.get(payment.confirmationCode);
    if (first) return { status: 'duplicate', ...(JSON.parse(first) as { caseNumber: CaseNumber; payment: LinePayment }) };
    const used = side.tickets.get(ticket.nonce);
    if (used && used !== payment.confirmationCode) {
      const original = side.paid.get(used);
      if (!original) throw new Error('a used <Pay> ticket names a payment that is not recorded');
      return { status: 'replayed', ...(JSON.parse(original) as { caseNumber: CaseNumber; payment: LinePayment }) };
    }
    if (!this.world.cases.has(caseNumber)) return { status: 'no-case' };
    side.tickets.set(ticket.nonce, payment.confirmationCode);
    side.paid.set(payment.confirmationCode, JSON.stringify({ caseNumber, payment }));
    side.payments.set(caseNumber, [...(side.payments.get(caseNumber) ?? []), JSON.stringify(payment)]);
    const payer = read<Case>(this.world.cases.get(caseNumber))?.payingParticipantId ?? null;
    this.recordChange(JSON.stringify({ kind: 'payment', caseNumber, confirmationCode: payment.confirmationCode, amount: String(payment.amount), receivedAt: payment.receivedAt }), payer);
    return { status: 'recorded', payment, caseNumber };
  }

  async updatePhone(participantId: ParticipantId, phone: string, audit: AuditEntry, limits: { perDay: number; day: string }): Promise<PhoneUpdate> {
    const onFile = read<Participant>(this.world.participants.get(participantId));
    if (!onFile) return { ok: false, reason: 'no-participant' };
    const before = phoneNow(onFile.phone, this.lineSide.phones.get(participantId) ?? null);
    const day = `${participantId}:${limits.day}`;
    const today = this.lineSide.phoneUpdates.get(day) ?? 0;
    if (today >= limits.perDay) return { ok: false, reason: 'daily-limit' };
    this.lineSide.phoneUpdates.set(day, today + 1);
    // What the update replaced on file (phoneNow compares the file with it), not the line's last update.
    this.lineSide.phones.set(participantId, { phone, previous: onFile.phone, at: audit.at });
    const at = Date.parse(audit.at);
    // The audit trail is kept by age, so no number of updates can push history out of it.
    while (this.audit.length && this.audit[0]!.at < at - this.retention.auditDays * 86_400_000) this.audit.shift();
    this.audit.push({ at, json: JSON.stringify(audit) });
    this.recordChange(JSON.stringify({ kind: 'phone', participantId, phone, at: audit.at }));
    return { ok: true, previous: before };
  }

  async auditTrail(limit: number): Promise<AuditEntry[]> {
    return this.audit.slice(-Math.max(0, limit)).reverse().map((a) => JSON.parse(a.json) as AuditEntry);
  }

  /** The changes for the agency's export, oldest first, as the store wrote them. */
  changes(): readonly string[] {
    return this.lineSide.changes.map((c) => c.change);
  }

  // IDs as Redis gives stream entries: the time in ms and a sequence within that ms, always rising.
  private recordChange(change: string, payer: string | null = null): void {
    const last = this.lineSide.changes.at(-1)?.id ?? this.lineSide.exportCursor;
    const [lastMs, lastSeq] = changeIdParts(last);
    const now = Date.now();
    const id = now > lastMs ? `${now}-0` : `${lastMs}-${lastSeq + 1}`;
    this.lineSide.changes.push({ id, change, payer });
  }

  // ---- the agency's export (src/jobs/export.ts), as in Redis ------------------------------------

  async nextExportRange(max: number): Promise<ExportRange | null> {
    const side = this.lineSide;
    if (!side.exportPending) {
      const next = side.changes.filter((c) => changeIdBefore(side.exportCursor, c.id)).slice(0, max);
      if (next.length === 0) return null;
      side.exportPending = { after: side.exportCursor, last: next.at(-1)!.id, count: next.length };
    }
    return { ...side.exportPending };
  }

  async *changesIn(range: ExportRange, batch: number): AsyncGenerator<RecordedChange[]> {
    const inRange = this.lineSide.changes.filter((c) => changeIdBefore(range.after, c.id) && !changeIdBefore(range.last, c.id));
    if (inRange.length !== range.count) throw new Error(`the line's changes after ${range.after} up to ${range.last} are not all there: ${inRange.length} of ${range.count}`);
    for (let i = 0; i < inRange.length; i += batch) yield inRange.slice(i, i + batch).map((c) => ({ ...c }));
  }

  async exported(range: ExportRange, trimBefore: Date): Promise<'advanced' | 'stale'> {
    const side = this.lineSide;
    if (side.exportPending?.after !== range.after || side.exportPending.last !== range.last) return 'stale';
    side.exportCursor = range.last;
    side.exportPending = null;
    // Only what is exported may go (up to and including the cursor), whatever the retention says.
    const oldest = `${trimBefore.getTime()}-0`;
    side.changes = side.changes.filter((c) => changeIdBefore(range.last, c.id) || !changeIdBefore(c.id, oldest));
    return 'advanced';
  }
}

function changeIdParts(id: string): [number, number] {
  const [ms, seq] = id.split('-').map(Number);
  return [ms ?? 0, seq ?? 0];
}

/** Whether change ID `a` comes before `b`. */
function changeIdBefore(a: string, b: string): boolean {
  const [am, as] = changeIdParts(a);
  const [bm, bs] = changeIdParts(b);
  return am < bm || (am === bm && as < bs);
}

/** The failures a calling number may have in its window: withheld numbers share one, larger budget. */
function budgetOf(caller: CallerKey, policy: IdentificationPolicy): number {
  return isWithheld(caller) ? policy.perWithheld : policy.perNumber;
}
