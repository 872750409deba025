// The caseload in Redis. Every key sits in one hash slot ({caseload}) so the multi-key steps run as
// one Lua script, atomic also under Redis Cluster. Two sides (docs/caseload.md): the agency's, written
// by a load as a new generation beside the old one and switched in by a pointer, so no reader ever
// sees half a caseload; and the line's (`line:`), which no load touches and which reads lay on top.
//
// A generation keeps its records as fields of hashes, each hash a "bucket" of one kind of record
// (participants, SSN hashes, PINs, cases, ...) chosen by a hash of the record's ID: two million
// participants are a few hundred thousand keys, not ten million, which takes a fraction of the
// memory (small hashes are packed), lets a load write two thousand records in one command, and keeps
// SCAN of the keyspace cheap. The generation lists its keys as it writes them, so it is dropped
// without a SCAN. (A caseload loaded by a version that kept a key per record is not read: load it
// again after upgrading; its keys are dropped by the load.)
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Cluster, type Redis } from 'ioredis';
import type { Appointment, Case, CaseNumber, Participant, ParticipantId, Payment } from '../domain/caseload.ts';
import type { ParsedCase } from '../domain/caseload-file.ts';
import {
  LoadAbandonedError, MISMATCHES_LISTED,
  type AuditEntry, type CaseloadLoad, type CaseloadStore, type Credentials, type ExportRange, type LineChanges, type LinePayment, type LoadReport,
  type LoadedCaseload, type LoadedParticipant, type PayTicket, type PhoneUpdate, type PinReset, type RecordedChange, type RecordedPayment,
  type Retention, type UnconfirmedPayment,
} from '../domain/caseload-store.ts';
import { isWithheld, type AttemptState, type CallerKey, type FailureCounted, type IdentificationMethod, type IdentificationPolicy } from '../domain/identification.ts';
import { linePinStands, paymentsNow, phoneNow, phoneRetired, unconfirmed, withLinePayments, type LinePhone, type LinePin } from '../domain/line-overlay.ts';
import type { Letter, PinLetter, QueuedLetter, QueuedLetterId } from '../domain/outbox.ts';
import { outboxEntry, queuedLetter } from './letter-records.ts';
import { runScript, type RedisClient } from './lua-scripts.ts';

// The mail outbox sits beside the generations, so a reload keeps it. A letter is its record, its
// sealed PIN apart (deleted when the letter is sent), an idempotency key naming it, an entry in
// the print-and-mail job's stream until it is printed, and its place in the list of letters.
export function outboxKeys(prefix = 'cc:') {
  const base = `${prefix}{caseload}:outbox`;
  return {
    stream: base,
    index: `${base}:index`,
    record: (letterId: string) => `${base}:letter:${letterId}`,
    secret: (letterId: string) => `${base}:secret:${letterId}`,
    // Hashed: a key may carry any characters (a CallSid, a brace) and none of them belong in a key name.
    idempotency: (key: string) => `${base}:key:${createHash('sha256').update(key).digest('base64url')}`,
  };
}

/** The failures a calling number may have in its window: withheld numbers share one, larger budget. */
export function budgetOf(caller: CallerKey, policy: IdentificationPolicy): number {
  return isWithheld(caller) ? policy.perWithheld : policy.perNumber;
}

/** A change for the agency's export (src/jobs/export.ts): never a PIN, hash, SSN or card detail. */
const change = (fields: Record<string, string>) => JSON.stringify(fields);

// A load keeps a heartbeat key alive while it writes its generation; a generation listed without
// one belongs to a load that died (kill -9, a crash, a lost machine) and the next load drops it.
// A load that stalls longer than this loses its generation and fails rather than switch it in.
const LOAD_HEARTBEAT_MS = 10_000;
const HEARTBEAT_EVERY_MS = 2_000;
/**
 * Records (hash fields) per load command, and commands in flight: enough to keep Redis busy; each
 * runs in a few milliseconds, so calls' commands keep being answered between them.
 */
const LOAD_ENTRIES = 2_000;
const LOAD_IN_FLIGHT = 4;

/** Buckets per kind of record: some 60 participants each at two million, few enough to be packed. */
export const BUCKETS = 32_768;

/** The records of a generation, each kept as a field (its ID) of a bucket hash. */
const KINDS = ['p', 'ssn', 'pin', 'cases-of', 'case', 'payments', 'appointments'] as const;
type Kind = (typeof KINDS)[number];
/** A generation's single keys: its meta, the confirmation codes on file, resetPin participants, and the list of its keys. */
type Single = 'meta' | 'confirmed' | 'reset-pin' | 'keys';
const SINGLES: readonly Single[] = ['meta', 'confirmed', 'reset-pin', 'keys'];

/** The bucket of a record's ID (FNV-1a): any string, spread evenly. */
export function bucketOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 16777619);
  return (hash >>> 0) & (BUCKETS - 1);
}

export const DEFAULT_RETENTION: Retention = { sentDays: 30, auditDays: 400 };

/** After a card payment is recorded, how long to wait for a replica to acknowledge it, and whom to tell when none did. */
export type ReplicaWait = {
  /** 0: no waiting. Under the client's command timeout: WAIT holds the connection it is sent on. */
  readonly timeoutMs: number;
  /** A payment recorded on the primary that no replica acknowledged in time (or could not be asked about). */
  readonly notOnReplica: (confirmationCode: string) => void;
};

/** How long the number of replicas the caseload's primary reported is taken as true. */
const REPLICAS_KNOWN_FOR_MS = 5_000;

type GenerationMeta = { loadedAt: string };

export class RedisCaseloadStore implements CaseloadStore, LineChanges {
  private readonly base: string;
  private readonly outbox: ReturnType<typeof outboxKeys>;

  /** The caseload's primary and how many replicas it said it had, until when that is trusted. */
  private replicasKnown: { primary: Redis; count: number; until: number } | null = null;
  /** Whether the caseload's primary ever had a replica while this store ran: a deployment with replicas. */
  private replicasSeen = false;
  /** The Cluster slot of every caseload key ({caseload}), asked once. */
  private caseloadSlot: number | null = null;

  constructor(
    private readonly redis: RedisClient,
    prefix = 'cc:',
    private readonly retention: Retention = DEFAULT_RETENTION,
    private readonly replicaWait: ReplicaWait | null = null,
  ) {
    this.base = `${prefix}{caseload}:`;
    this.outbox = outboxKeys(prefix);
  }

  private get pointer(): string {
    return `${this.base}generation`;
  }

  private get generations(): string {
    return `${this.base}generations`;
  }

  /** The bucket hash that holds the record `id` of `kind` in `generation` (the field is `id`). */
  private bucket(generation: string, kind: Kind, id: string): string {
    return this.bucketKey(generation, kind, bucketOf(id));
  }

  private bucketKey(generation: string, kind: Kind, bucket: number): string {
    return `${this.base}g:${generation}:${kind}:${bucket}`;
  }

  private single(generation: string, kind: Single): string {
    return `${this.base}g:${generation}:${kind}`;
  }

  /** The line's side: what callers did, outside every generation, so a load never undoes it. */
  private line(kind: string, id: string): string {
    return `${this.base}line:${kind}:${id}`;
  }

  private get changes(): string {
    return `${this.base}line:changes`;
  }

  /** Kept alive by a load while it writes `generation`. */
  private heartbeat(generation: string): string {
    return `${this.base}load:${generation}`;
  }

  private get audit(): string {
    return `${this.base}audit`;
  }

  private async generation(): Promise<string | null> {
    return this.redis.get(this.pointer);
  }

  /**
   * Runs a read against the current generation; `empty` when nothing is loaded. A load drops the
   * old generation right after switching, possibly mid-read, so the read counts only if the
   * generation was still current when it finished (generations never come back).
   */
  private async inCurrent<T>(read: (generation: string) => Promise<T>, empty: T): Promise<T> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const generation = await this.generation();
      if (generation === null) return empty;
      const value = await read(generation);
      if ((await this.generation()) === generation) return value;
    }
    throw new Error('the caseload kept changing under a read');
  }

  // ---- loading: the agency's side -------------------------------------------------------------

  async replaceCaseload(caseload: LoadedCaseload): Promise<LoadReport> {
    const load = await this.beginLoad();
    try {
      await load.addParticipants(caseload.participants);
      await load.addCases(caseload.cases);
    } catch (error) {
      await load.abandon();
      throw error;
    }
    return load.commit();
  }

  async beginLoad(): Promise<CaseloadLoad> {
    const loadStarted = new Date();
    const generation = `${loadStarted.getTime().toString(36)}-${randomUUID().slice(0, 8)}`;
    const heartbeat = this.heartbeat(generation);
    // Alive before listed, so a generation listed without a heartbeat is surely abandoned.
    await this.redis.set(heartbeat, `${hostname()}:${process.pid}`, 'PX', LOAD_HEARTBEAT_MS);
    await this.redis.sadd(this.generations, generation);
    await this.dropAbandoned(generation);
    let lost = false;
    const beating = setInterval(() => {
      // XX: a heartbeat that lapsed stays lapsed; another load may be dropping this generation.
      this.redis.set(heartbeat, `${hostname()}:${process.pid}`, 'PX', LOAD_HEARTBEAT_MS, 'XX').then((ok) => {
        if (ok === null) lost = true;
      }, () => {});
    }, HEARTBEAT_EVERY_MS);
    beating.unref();
    const counts = { participants: 0, cases: 0 };
    const listOfKeys = this.single(generation, 'keys');
    // Entries waiting to be sent: fields set, then fields appended to (a participant's cases), and
    // keys used for the first time (for the generation's list of its keys: a bit per bucket says which).
    let batch = { setKeys: [] as string[], setArgs: [] as string[], appendKeys: [] as string[], appendArgs: [] as string[], newKeys: [] as string[] };
    const used = new Map<Kind, Uint8Array>(KINDS.map((kind) => [kind, new Uint8Array(BUCKETS / 8)]));
    const keyOf = (kind: Kind, id: string) => {
      const bucket = bucketOf(id);
      const bits = used.get(kind)!;
      const key = this.bucketKey(generation, kind, bucket);
      if (!(bits[bucket >> 3]! & (1 << (bucket & 7)))) {
        bits[bucket >> 3]! |= 1 << (bucket & 7);
        batch.newKeys.push(key);
      }
      return key;
    };
    const set = (key: string, field: string, value: string) => {
      batch.setKeys.push(key);
      batch.setArgs.push(field, value);
    };
    const full = () => batch.setKeys.length + batch.appendKeys.length >= LOAD_ENTRIES;
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    const abandoned = () => new LoadAbandonedError();
    const send = async (force: boolean) => {
      if (lost) failure ??= abandoned();
      if (failure) throw failure;
      const { setKeys, setArgs, appendKeys, appendArgs, newKeys } = batch;
      const size = setKeys.length + appendKeys.length;
      if (size === 0 || (!force && size < LOAD_ENTRIES)) return;
      batch = { setKeys: [], setArgs: [], appendKeys: [], appendArgs: [], newKeys: [] };
      const sending = runScript<number>(this.redis, 'load-entries', [listOfKeys, ...setKeys, ...appendKeys], [setKeys.length, newKeys.length, ...newKeys, ...setArgs, ...appendArgs])
        .then(() => {});
      const tracked = sending.catch((error: unknown) => {
        failure ??= error;
      }).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      while (inFlight.size >= LOAD_IN_FLIGHT) await Promise.race(inFlight);
      if (failure) throw failure;
    };
    const drain = async () => {
      await send(true);
      await Promise.all(inFlight);
      if (failure) throw failure;
    };
    const drop = async () => {
      clearInterval(beating);
      await Promise.allSettled(inFlight);
      // Nothing points at it, so it can go at once; if Redis is gone, the next load clears it.
      await this.dropGeneration(generation).catch(() => {});
    };

    return {
      addParticipants: async (participants: readonly LoadedParticipant[]) => {
        for (const { participant, ssnHash, pinHash, resetPin } of participants) {
          const id = participant.participantId;
          set(keyOf('p', id), id, JSON.stringify(participant));
          set(keyOf('ssn', ssnHash), ssnHash, id);
          if (pinHash) set(keyOf('pin', id), id, pinHash);
          if (resetPin) set(this.single(generation, 'reset-pin'), id, '1');
          counts.participants += 1;
          if (full()) await send(false);
        }
        await send(false);
      },
      addCases: async (cases: readonly ParsedCase[]) => {
        for (const { payments, appointments, ...c } of cases) {
          const n = c.caseNumber;
          set(keyOf('case', n), n, JSON.stringify(c));
          const newestFirst = [...payments].sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
          if (newestFirst.length) set(keyOf('payments', n), n, JSON.stringify(newestFirst));
          for (const p of payments) if (p.confirmationCode) set(this.single(generation, 'confirmed'), p.confirmationCode, n);
          set(keyOf('appointments', n), n, JSON.stringify(appointments));
          for (const party of [c.payingParticipantId, c.receivingParticipantId]) {
            batch.appendKeys.push(keyOf('cases-of', party));
            batch.appendArgs.push(party, n);
          }
          counts.cases += 1;
          if (full()) await send(false);
        }
        await send(false);
      },
      abandon: drop,
      commit: async () => {
        let status: string;
        let previous: string | undefined;
        try {
          await drain();
          if (lost) throw abandoned();
          const meta: GenerationMeta = { loadedAt: loadStarted.toISOString() };
          clearInterval(beating);
          [status, previous] = await runScript<[string, string | undefined]>(this.redis, 'commit-load',
            [this.pointer, heartbeat, this.single(generation, 'meta')], [generation, JSON.stringify(meta)]);
        } catch (error) {
          await drop();
          throw error;
        }
        if (status !== 'committed') {
          await drop();
          throw abandoned();
        }
        if (previous) await this.dropGeneration(previous);
        await this.dropAbandoned(generation);
        return { ...counts, ...(await this.retireWhatTheFileHas(generation)) };
      },
    };
  }

  /**
   * Drops every generation but `own` and the current one whose load has no heartbeat: it died.
   * Heartbeats are read before the pointer: a load that finishes in between has switched the
   * pointer to its generation in the same step that ended its heartbeat.
   */
  private async dropAbandoned(own: string): Promise<void> {
    const others = (await this.redis.smembers(this.generations)).filter((generation) => generation !== own);
    if (others.length === 0) return;
    const alive = await Promise.all(others.map((generation) => this.redis.exists(this.heartbeat(generation))));
    const current = await this.generation();
    for (const [i, generation] of others.entries()) {
      if (alive[i] === 0 && generation !== current) await this.dropGeneration(generation);
    }
  }

  /**
   * After a switch: line records the file has now taken in are retired (payments it confirms,
   * phone numbers it carries, PINs a `resetPin` replaced). Reads already apply these rules; this
   * keeps the line's side small and counts what happened for the load's report.
   */
  private async retireWhatTheFileHas(generation: string): Promise<Omit<LoadReport, 'participants' | 'cases'>> {
    const report: Omit<LoadReport, 'participants' | 'cases'> = { paymentsConfirmed: 0, confirmationMismatches: 0, mismatches: [], phonesRetired: 0, pinsRetired: 0 };
    const keep = this.retention.sentDays * 86_400;
    for await (const key of this.scan(this.line('payments', '*'))) {
      const caseNumber = key.slice(this.line('payments', '').length);
      const listed = (await this.redis.lrange(key, 0, -1)).map((json) => JSON.parse(json) as LinePayment);
      if (listed.length === 0) continue;
      const onFile = await this.redis.hmget(this.single(generation, 'confirmed'), ...listed.map((p) => p.confirmationCode));
      for (const [i, payment] of listed.entries()) {
        if (onFile[i] === caseNumber) {
          await this.redis.lrem(key, 1, JSON.stringify(payment));
          await this.redis.expire(this.line('paid', payment.confirmationCode), keep);
          report.paymentsConfirmed += 1;
        } else if (onFile[i]) {
          report.confirmationMismatches += 1;
          if (report.mismatches.length < MISMATCHES_LISTED) {
            report.mismatches.push({ confirmationCode: payment.confirmationCode, lineCase: caseNumber as CaseNumber, fileCase: onFile[i] as CaseNumber });
          }
        }
      }
    }
    for await (const key of this.scan(this.line('phone', '*'))) {
      const participantId = key.slice(this.line('phone', '').length);
      const [updateJson, participantJson] = await Promise.all([this.redis.get(key), this.redis.hget(this.bucket(generation, 'p', participantId), participantId)]);
      if (!updateJson) continue;
      const onFile = participantJson ? (JSON.parse(participantJson) as Participant).phone : null;
      if (!participantJson || phoneRetired(onFile, JSON.parse(updateJson) as LinePhone)) {
        await this.redis.del(key);
        report.phonesRetired += 1;
      }
    }
    const meta = { resetPin: true, loadedAt: (JSON.parse((await this.redis.get(this.single(generation, 'meta'))) ?? '{}') as Partial<GenerationMeta>).loadedAt ?? null };
    for await (const participantId of this.hashFields(this.single(generation, 'reset-pin'))) {
      for (const kind of ['pin', 'pin-pending']) {
        const json = await this.redis.get(this.line(kind, participantId));
        if (json && !linePinStands(JSON.parse(json) as LinePin, meta)) {
          await this.redis.del(this.line(kind, participantId));
          report.pinsRetired += 1;
        }
      }
    }
    return report;
  }

  /** Every key matching: on a Cluster SCAN sees the node it is sent to only, so every master is walked. */
  private async *scan(match: string): AsyncGenerator<string> {
    for (const node of this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis]) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        yield* keys;
      } while (cursor !== '0');
    }
  }

  private async *sscan(key: string): AsyncGenerator<string> {
    let cursor = '0';
    do {
      const [next, members] = await this.redis.sscan(key, cursor, 'COUNT', 1000);
      cursor = next;
      yield* members;
    } while (cursor !== '0');
  }

  private async *hashFields(key: string): AsyncGenerator<string> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) yield flat[i]!;
    } while (cursor !== '0');
  }

  /** Unlinks a generation's keys: those it listed as it wrote them (no SCAN), its single keys, and its place in the list. */
  private async dropGeneration(generation: string): Promise<void> {
    const listOfKeys = this.single(generation, 'keys');
    // A generation written by an earlier version (a key per record) listed nothing: found by SCAN, once.
    const written = (await this.redis.exists(listOfKeys)) ? this.sscan(listOfKeys) : this.scan(`${this.base}g:${generation}:*`);
    const keys: string[] = [];
    for await (const key of written) {
      keys.push(key);
      if (keys.length >= 1000) await this.redis.unlink(...keys.splice(0));
    }
    await this.redis.unlink(...keys, ...SINGLES.map((kind) => this.single(generation, kind)));
    await this.redis.srem(this.generations, generation);
    await this.redis.del(this.heartbeat(generation));
  }

  // ---- reading: the file's answers with the line's laid on top ----------------------------------

  async participant(participantId: ParticipantId): Promise<Participant | null> {
    const [json, update] = await this.inCurrent(
      (g) => Promise.all([this.redis.hget(this.bucket(g, 'p', participantId), participantId), this.redis.get(this.line('phone', participantId))]),
      [null, null] as (string | null)[],
    );
    if (!json) return null;
    const participant = JSON.parse(json) as Participant;
    return { ...participant, phone: phoneNow(participant.phone, update ? (JSON.parse(update) as LinePhone) : null) };
  }

  async participantBySsnHash(ssnHash: string): Promise<ParticipantId | null> {
    return this.inCurrent(async (g) => (await this.redis.hget(this.bucket(g, 'ssn', ssnHash), ssnHash)) as ParticipantId | null, null);
  }

  async credentials(participantId: ParticipantId): Promise<Credentials> {
    const read = await this.inCurrent(async (g) => {
      const results = (await this.redis.pipeline()
        .hget(this.bucket(g, 'pin', participantId), participantId)
        .hexists(this.single(g, 'reset-pin'), participantId)
        .get(this.single(g, 'meta'))
        .get(this.line('pin', participantId))
        .get(this.line('pin-pending', participantId))
        .exec()) ?? [];
      const value = (i: number) => {
        const [error, answer] = results[i] ?? [new Error('no answer'), null];
        if (error) throw error;
        return answer;
      };
      return { fromFile: value(0) as string | null, resetPin: value(1) === 1, meta: value(2) as string | null, onLine: value(3) as string | null, pending: value(4) as string | null };
    }, null);
    if (!read) return { pinHash: null, pendingPinHash: null };
    const file = { resetPin: read.resetPin, loadedAt: read.meta ? (JSON.parse(read.meta) as GenerationMeta).loadedAt : null };
    const standing = (json: string | null) => {
      const pin = json ? (JSON.parse(json) as LinePin) : null;
      return linePinStands(pin, file) ? pin.hash : null;
    };
    // A PIN set on the line stands over the file's (docs/caseload.md: what a load keeps).
    return { pinHash: standing(read.onLine) ?? read.fromFile, pendingPinHash: standing(read.pending) };
  }

  /** The line's payments on these cases that the file does not confirm yet. */
  private async pendingOn(generation: string, caseNumbers: readonly string[]): Promise<Map<string, LinePayment[]>> {
    const pending = new Map<string, LinePayment[]>();
    if (caseNumbers.length === 0) return pending;
    const pipeline = this.redis.pipeline();
    for (const n of caseNumbers) pipeline.lrange(this.line('payments', n), 0, -1);
    const lists = ((await pipeline.exec()) ?? []).map(([error, list]) => {
      if (error) throw error;
      return ((list as string[] | null) ?? []).map((json) => JSON.parse(json) as LinePayment);
    });
    const codes = lists.flat().map((p) => p.confirmationCode);
    const confirmedOn = codes.length ? await this.redis.hmget(this.single(generation, 'confirmed'), ...codes) : [];
    const caseOf = new Map(codes.map((code, i) => [code, confirmedOn[i] ?? null]));
    caseNumbers.forEach((n, i) => {
      const listed = lists[i] ?? [];
      if (listed.length) pending.set(n, unconfirmed(listed, new Set(listed.filter((p) => caseOf.get(p.confirmationCode) === n).map((p) => p.confirmationCode))));
    });
    return pending;
  }

  async casesOf(participantId: ParticipantId): Promise<Case[]> {
    return this.inCurrent(async (g) => {
      const listed = await this.redis.hget(this.bucket(g, 'cases-of', participantId), participantId);
      const numbers = [...new Set(listed ? listed.split(',') : [])].sort();
      if (numbers.length === 0) return [];
      const [cases, pending] = await Promise.all([Promise.all(numbers.map((n) => this.redis.hget(this.bucket(g, 'case', n), n))), this.pendingOn(g, numbers)]);
      return cases.flatMap((json, i) => (json === null ? [] : [withLinePayments(JSON.parse(json) as Case, pending.get(numbers[i]!) ?? [])]));
    }, []);
  }

  async payments(caseNumber: CaseNumber): Promise<Payment[]> {
    return this.inCurrent(async (g) => {
      const [onFile, pending] = await Promise.all([this.redis.hget(this.bucket(g, 'payments', caseNumber), caseNumber), this.pendingOn(g, [caseNumber])]);
      return paymentsNow(onFile ? (JSON.parse(onFile) as Payment[]) : [], pending.get(caseNumber) ?? []).map(({ receivedAt, amount, method, confirmationCode }) =>
        (confirmationCode ? { receivedAt, amount, method, confirmationCode } : { receivedAt, amount, method }));
    }, []);
  }

  async appointments(caseNumber: CaseNumber): Promise<Appointment[]> {
    return this.inCurrent(async (g) => JSON.parse((await this.redis.hget(this.bucket(g, 'appointments', caseNumber), caseNumber)) ?? '[]') as Appointment[], []);
  }

  async unconfirmedPayments(before: Date): Promise<UnconfirmedPayment[]> {
    return this.inCurrent(async (g) => {
      const numbers: string[] = [];
      for await (const key of this.scan(this.line('payments', '*'))) numbers.push(key.slice(this.line('payments', '').length));
      const pending = await this.pendingOn(g, numbers);
      return [...pending.entries()]
        .flatMap(([caseNumber, payments]) => payments.map((p) => ({ ...p, caseNumber: caseNumber as CaseNumber })))
        .filter((p) => Date.parse(p.receivedAt) < before.getTime())
        .sort((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt));
    }, []);
  }

  // ---- identification (the line's side) -------------------------------------------------------

  async identificationState(method: IdentificationMethod, participantId: ParticipantId | null, caller: CallerKey, at: Date, policy: IdentificationPolicy): Promise<AttemptState> {
    const [locked, throttled] = await runScript<[number, number]>(this.redis, 'identification-state',
      [this.line(`lock:${method}`, participantId ?? 'nobody'), this.line('caller', caller)],
      [at.getTime(), policy.numberWindowMs, budgetOf(caller, policy)],
    );
    return { locked: participantId !== null && locked === 1, throttled: throttled === 1 };
  }

  async recordIdentificationFailure(method: IdentificationMethod, participantId: ParticipantId | null, caller: CallerKey, at: Date, policy: IdentificationPolicy): Promise<FailureCounted> {
    const subject = participantId ?? 'nobody';
    const [failures, locked, lockedNow, numberFailures, throttled, throttledNow, lineFailures, alarmNow] = await runScript<number[]>(this.redis, 'record-identification-failure',
      [this.line(`fail:${method}`, subject), this.line(`lock:${method}`, subject), this.line('caller', caller), this.line('failures-minute', String(Math.floor(at.getTime() / 60_000)))],
      [at.getTime(), policy.windowMs, policy.lockAfter, `${at.getTime()}-${randomUUID().slice(0, 8)}`, policy.numberWindowMs, budgetOf(caller, policy), policy.alarmPerMinute, participantId ? 1 : 0],
    );
    return {
      failures: failures ?? 0, locked: participantId !== null && locked === 1, lockedNow: lockedNow === 1,
      numberFailures: numberFailures ?? 0, throttled: throttled === 1, throttledNow: throttledNow === 1,
      lineFailures: lineFailures ?? 0, alarmNow: alarmNow === 1,
    };
  }

  async changePin(participantId: ParticipantId, pinHash: string, at: Date): Promise<void> {
    await runScript(this.redis, 'change-pin',
      [this.line('pin', participantId), this.line('pin-pending', participantId), this.changes],
      [JSON.stringify({ hash: pinHash, at: at.toISOString() }), change({ kind: 'pin', event: 'changed', participantId, at: at.toISOString() })],
    );
  }

  private letterKeys(letterId: string, idempotencyKey: string): string[] {
    return [this.outbox.idempotency(idempotencyKey), this.outbox.record(letterId), this.outbox.secret(letterId), this.outbox.stream, this.outbox.index];
  }

  async requestPinReset(participantId: ParticipantId, pendingPinHash: string, letter: PinLetter, at: Date, policy: IdentificationPolicy): Promise<PinReset> {
    const letterId = randomUUID();
    const idempotencyKey = `pin-reset:${participantId}:${at.getTime()}`;
    const { record, sealedPin } = outboxEntry(letter, letterId, idempotencyKey);
    const [status, detail] = await runScript<[string, string | undefined]>(this.redis, 'request-pin-reset',
      [
        this.line('pin-reset', participantId), this.line('pin-pending', participantId), this.line('fail:pin', participantId), this.line('lock:pin', participantId),
        ...this.letterKeys(letterId, idempotencyKey), this.changes,
      ],
      [
        JSON.stringify({ hash: pendingPinHash, at: at.toISOString() }), at.getTime(), policy.resetIntervalMs, letterId, record, sealedPin ?? '',
        change({ kind: 'pin', event: 'reset-requested', participantId, at: at.toISOString() }),
      ],
    );
    if (status === 'recently-reset') return { ok: false, reason: 'recently-reset', lastResetAt: new Date(Number(detail)).toISOString() };
    return { ok: true, letterId: status === 'duplicate' && detail ? detail : letterId };
  }

  async usePendingPin(participantId: ParticipantId, pendingPinHash: string, at: Date): Promise<void> {
    await runScript(this.redis, 'use-pending-pin',
      [this.line('pin', participantId), this.line('pin-pending', participantId), this.changes],
      [pendingPinHash, JSON.stringify({ hash: pendingPinHash, at: at.toISOString() }), change({ kind: 'pin', event: 'first-used', participantId, at: at.toISOString() })],
    );
  }

  // ---- the mail outbox --------------------------------------------------------------------------

  async queueLetter(letter: Letter, idempotencyKey: string): Promise<QueuedLetterId> {
    const letterId = randomUUID();
    const { record, sealedPin } = outboxEntry(letter, letterId, idempotencyKey);
    const letterChange = letter.kind === 'form' ? change({ kind: 'letter', form: letter.form, participantId: letter.participantId, at: letter.createdAt }) : '';
    const [status, queuedId] = await runScript<[string, string]>(this.redis, 'queue-letter',
      [...this.letterKeys(letterId, idempotencyKey), this.changes],
      [letterId, record, sealedPin ?? '', letterChange],
    );
    return { letterId: queuedId, queued: status === 'queued' };
  }

  async letters(): Promise<QueuedLetter[]> {
    const ids = await this.redis.zrange(this.outbox.index, '0', '-1');
    if (ids.length === 0) return [];
    // Records and sealed PINs in one read, so a letter being sent is seen wholly before or after.
    const values = await this.redis.mget(...ids.flatMap((id) => [this.outbox.record(id), this.outbox.secret(id)]));
    const gone = ids.filter((_, i) => !values[2 * i]);
    // A sent letter's record expires after its retention; its place in the list goes with it.
    if (gone.length) await this.redis.zrem(this.outbox.index, ...gone);
    return ids.flatMap((_, i) => {
      const record = values[2 * i];
      return record ? [queuedLetter(record, values[2 * i + 1] ?? null)] : [];
    });
  }

  // ---- card payments and phone updates (the line's side) -----------------------------------------

  async recordPayment(caseNumber: CaseNumber, payment: LinePayment, ticket: PayTicket): Promise<RecordedPayment> {
    const listed = JSON.stringify(payment);
    for (let attempt = 0; attempt < 5; attempt++) {
      const generation = await this.generation();
      if (generation === null) throw new Error('no caseload is loaded');
      const [status, detail] = await runScript<[string, string | undefined]>(this.redis, 'record-payment',
        [
          this.pointer, this.bucket(generation, 'case', caseNumber), this.line('paid', payment.confirmationCode), this.line('payments', caseNumber),
          this.line('ticket', ticket.nonce), this.changes,
        ],
        [
          generation, JSON.stringify({ caseNumber, payment }), payment.confirmationCode, ticket.keepMs,
          change({ kind: 'payment', caseNumber, confirmationCode: payment.confirmationCode, amount: String(payment.amount), receivedAt: payment.receivedAt }),
          listed, caseNumber,
        ],
      );
      if (status === 'recorded') {
        await this.awaitReplica(payment.confirmationCode);
        return { status: 'recorded', payment, caseNumber };
      }
      if (status === 'no-case') return { status: 'no-case' };
      if (status === 'duplicate' && detail) return { status: 'duplicate', ...(JSON.parse(detail) as { caseNumber: CaseNumber; payment: LinePayment }) };
      if (status === 'replayed' && detail) {
        const first = await this.redis.get(this.line('paid', detail));
        if (first) return { status: 'replayed', ...(JSON.parse(first) as { caseNumber: CaseNumber; payment: LinePayment }) };
        throw new Error('a used <Pay> ticket names a payment that is not recorded');
      }
    }
    throw new Error('the caseload kept changing while a payment was being recorded');
  }

  /**
   * Replication is asynchronous: a primary that dies right after recording a payment may take it
   * along. So when the caseload's primary has replicas, WAIT (on the connection that wrote the
   * payment) until one has it. If none does in time the payment stands, on the primary, and the
   * caller hears the receipt as usual; `notOnReplica` is told. A deployment that never had a
   * replica (one server) waits for nothing and hears nothing.
   */
  private async awaitReplica(confirmationCode: string): Promise<void> {
    const wait = this.replicaWait;
    if (!wait || wait.timeoutMs <= 0) return;
    try {
      const primary = await this.caseloadPrimary();
      if ((await this.connectedReplicas(primary)) > 0) {
        this.replicasSeen = true;
        if ((await primary.wait(1, wait.timeoutMs)) >= 1) return;
        // The replica that did not answer may have gone: ask again next time rather than wait for it again.
        this.replicasKnown = null;
      }
    } catch {
      // Recorded, but where else is unknown: the same as not on a replica.
      this.replicasKnown = null;
    }
    if (this.replicasSeen) wait.notOnReplica(confirmationCode);
  }

  /**
   * The server that took the payment. A Cluster sends a command without keys (WAIT, INFO) to a
   * random node; these must go to the master of the caseload's slot, on the connection the
   * payment's script went through.
   */
  private async caseloadPrimary(): Promise<Redis> {
    if (!(this.redis instanceof Cluster)) return this.redis;
    this.caseloadSlot ??= await this.redis.cluster('KEYSLOT', this.pointer);
    const owner = this.redis.slots[this.caseloadSlot]?.[0];
    const primary = this.redis.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === owner);
    if (!primary) throw new Error('no master known for the caseload\'s slot');
    return primary;
  }

  private async connectedReplicas(primary: Redis): Promise<number> {
    const known = this.replicasKnown;
    if (known && known.primary === primary && Date.now() < known.until) return known.count;
    const info = await primary.info('replication');
    const count = Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
    this.replicasKnown = { primary, count, until: Date.now() + REPLICAS_KNOWN_FOR_MS };
    return count;
  }

  async updatePhone(participantId: ParticipantId, phone: string, audit: AuditEntry, limits: { perDay: number; day: string }): Promise<PhoneUpdate> {
    const key = this.line('phone', participantId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const [fileJson, current] = await this.inCurrent(
        (g) => Promise.all([this.redis.hget(this.bucket(g, 'p', participantId), participantId), this.redis.get(key)]),
        [null, null] as (string | null)[],
      );
      if (!fileJson) return { ok: false, reason: 'no-participant' };
      const onFile = (JSON.parse(fileJson) as Participant).phone;
      // What the update replaced on file (phoneNow compares the file with it), not the line's last update.
      const update: LinePhone = { phone, previous: onFile, at: audit.at };
      const status = await runScript<string>(this.redis, 'update-phone',
        [key, this.line('phone-day', `${participantId}:${limits.day}`), this.audit, this.changes],
        [
          current ?? '', JSON.stringify(update), limits.perDay, JSON.stringify(audit), Date.parse(audit.at) - this.retention.auditDays * 86_400_000,
          change({ kind: 'phone', participantId, phone, at: audit.at }),
        ],
      );
      if (status === 'limit') return { ok: false, reason: 'daily-limit' };
      if (status === 'ok') return { ok: true, previous: phoneNow(onFile, current ? (JSON.parse(current) as LinePhone) : null) };
    }
    throw new Error('the participant kept changing while the phone number was being updated');
  }

  async auditTrail(limit: number): Promise<AuditEntry[]> {
    if (limit <= 0) return [];
    const entries = await this.redis.xrevrange(this.audit, '+', '-', 'COUNT', limit);
    return entries.map(([, fields]) => JSON.parse(fields[1] ?? '{}') as AuditEntry);
  }

  // ---- the agency's export (src/jobs/export.ts) -------------------------------------------------

  private get exportCursor(): string {
    return `${this.base}line:export:cursor`;
  }

  private get exportPending(): string {
    return `${this.base}line:export:pending`;
  }

  async nextExportRange(max: number): Promise<ExportRange | null> {
    const range = await runScript<string>(this.redis, 'begin-export', [this.exportCursor, this.exportPending, this.changes], [max]);
    return range ? (JSON.parse(range) as ExportRange) : null;
  }

  async *changesIn(range: ExportRange, batch: number): AsyncGenerator<RecordedChange[]> {
    let after = range.after;
    let left = range.count;
    while (left > 0) {
      const entries = await this.redis.xrange(this.changes, `(${after}`, range.last, 'COUNT', Math.min(batch, left));
      if (entries.length === 0) break;
      yield entries.map(([id, fields]) => ({ id, change: fieldOf(fields, 'change') ?? '', payer: fieldOf(fields, 'payer') || null }));
      left -= entries.length;
      after = entries[entries.length - 1]![0];
    }
    // The stream is trimmed only behind the cursor, so a pending range is always whole.
    if (left !== 0 || after !== range.last) throw new Error(`the line's changes after ${range.after} up to ${range.last} are not all there: ${range.count - left} of ${range.count}`);
  }

  async exported(range: ExportRange, trimBefore: Date): Promise<'advanced' | 'stale'> {
    return runScript<'advanced' | 'stale'>(this.redis, 'finish-export', [this.exportCursor, this.exportPending, this.changes], [range.after, range.last, `${trimBefore.getTime()}-0`]);
  }
}

/** A stream entry's field, from Redis's flat [name, value, name, value, ...]. */
function fieldOf(fields: readonly string[], name: string): string | null {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]!;
  return null;
}
