// The caseload in Redis. Every key sits in one hash slot ({caseload}) so the multi-key steps
// (a PIN reset with its letter; later a payment with its ledger) run as one Lua script, atomic
// also under Redis Cluster. A load writes a new generation beside the old one and then switches
// a pointer, so no reader ever sees half a caseload.
import { createHash, randomUUID } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import type { Appointment, Case, CaseNumber, Participant, ParticipantId, Payment } from '../domain/caseload.ts';
import type { AuditEntry, CaseloadStore, Letter, LinePayment, LoadedCaseload, PinFailure, PinPolicy, PinReset, QueuedLetter, RecordedPayment } from './caseload.ts';
import { outboxEntry, queuedLetter, type PinLetter, type QueuedLetterId } from './caseload.ts';

const RECORD_PIN_FAILURE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, 0} end
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('PEXPIRE', KEYS[2], window)
local n = redis.call('ZCARD', KEYS[2])
if n >= tonumber(ARGV[4]) then redis.call('SET', KEYS[3], '1') end
return {n, redis.call('EXISTS', KEYS[3])}
`;

// The last reset's time is compared with the caller's `at`, as the in-process store does; the
// marker's TTL only tidies it away.
// Compare-and-set: the money rule runs in TypeScript against the case as read; the write lands
// only if the case is still exactly that, and only once per confirmation code.
const RECORD_PAYMENT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'stale'} end
local first = redis.call('GET', KEYS[4])
if first then return {'duplicate', first} end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {'conflict'} end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('LPUSH', KEYS[3], ARGV[4])
redis.call('SET', KEYS[4], ARGV[4])
return {'recorded'}
`;

const UPDATE_PHONE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'stale' end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 'conflict' end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'entry', ARGV[4])
return 'ok'
`;

// The mail outbox sits beside the generations, so a reload keeps it. A letter is its record, its
// sealed PIN apart (deleted when the letter is sent; the record stays), an idempotency key naming
// it, and a stream entry holding only its ID, which the print-and-mail job reads (outbox.ts).
export function outboxKeys(prefix = 'cc:') {
  const base = `${prefix}{caseload}:outbox`;
  return {
    stream: base,
    record: (letterId: string) => `${base}:letter:${letterId}`,
    secret: (letterId: string) => `${base}:secret:${letterId}`,
    // Hashed: a key may carry any characters (a CallSid, a brace) and none of them belong in a key name.
    idempotency: (key: string) => `${base}:key:${createHash('sha256').update(key).digest('base64url')}`,
  };
}

// KEYS[n..n+3]: idempotency key, record, secret, stream; the caller has checked the idempotency key.
const ENQUEUE = `
local function enqueue(n, letterId, record, sealedPin)
  redis.call('SET', KEYS[n], letterId)
  redis.call('SET', KEYS[n + 1], record)
  if sealedPin ~= '' then redis.call('SET', KEYS[n + 2], sealedPin) end
  redis.call('XADD', KEYS[n + 3], '*', 'letterId', letterId)
end
`;

const QUEUE_LETTER = `${ENQUEUE}
local first = redis.call('GET', KEYS[1])
if first then return {'duplicate', first} end
enqueue(1, ARGV[1], ARGV[2], ARGV[3])
return {'queued', ARGV[1]}
`;

const RESET_PIN = `${ENQUEUE}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'stale'} end
local last = redis.call('GET', KEYS[5])
if last and tonumber(ARGV[3]) - tonumber(last) < tonumber(ARGV[4]) then return {'recently-reset', last} end
local first = redis.call('GET', KEYS[6])
if first then return {'duplicate', first} end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SET', KEYS[5], ARGV[3], 'PX', ARGV[4])
enqueue(6, ARGV[5], ARGV[6], ARGV[7])
return {'ok'}
`;

const CHANGE_PIN = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'stale' end
redis.call('SET', KEYS[2], ARGV[2])
return 'ok'
`;

// A load whose process died leaves a generation nobody points at. One started this long ago is
// surely dead; a younger one may be another load still writing, and is left alone.
const ABANDONED_AFTER_MS = 3600_000;

function startedAt(generation: string): number {
  return parseInt(generation.split('-')[0] ?? '', 36);
}

export class RedisCaseloadStore implements CaseloadStore {
  private readonly base: string;

  private readonly outbox: ReturnType<typeof outboxKeys>;

  constructor(private readonly redis: Redis | Cluster, prefix = 'cc:') {
    this.base = `${prefix}{caseload}:`;
    this.outbox = outboxKeys(prefix);
  }

  private get pointer(): string {
    return `${this.base}generation`;
  }

  private get generations(): string {
    return `${this.base}generations`;
  }


  private key(generation: string, kind: string, id: string): string {
    return `${this.base}g:${generation}:${kind}:${id}`;
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

  async replaceCaseload(caseload: LoadedCaseload): Promise<void> {
    const generation = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    await this.redis.sadd(this.generations, generation);
    try {
      await this.writeGeneration(generation, caseload);
    } catch (error) {
      // Nothing points at it yet, so it can go at once; if Redis is gone, a later load clears it.
      await this.dropGeneration(generation).catch(() => {});
      throw error;
    }
    const previous = await this.redis.getset(this.pointer, generation);
    // Only the generation just replaced, and abandoned ones: dropping every other one would also
    // drop a concurrent load half-way through, and that load would then switch to it.
    for (const old of await this.redis.smembers(this.generations)) {
      if (old === generation) continue;
      if (old === previous || !(Date.now() - startedAt(old) < ABANDONED_AFTER_MS)) await this.dropGeneration(old);
    }
  }

  private async writeGeneration(generation: string, caseload: LoadedCaseload): Promise<void> {
    const casesOf = new Map<string, string[]>();
    let batch = this.redis.pipeline();
    let queued = 0;
    const flush = async (force = false) => {
      if (queued === 0 || (!force && queued < 500)) return;
      const results = await batch.exec();
      for (const [error] of results ?? []) if (error) throw error;
      batch = this.redis.pipeline();
      queued = 0;
    };
    for (const { participant, ssnHash, pinHash } of caseload.participants) {
      batch.set(this.key(generation, 'p', participant.participantId), JSON.stringify(participant));
      batch.set(this.key(generation, 'ssn', ssnHash), participant.participantId);
      if (pinHash) batch.set(this.key(generation, 'pin', participant.participantId), pinHash);
      casesOf.set(participant.participantId, []);
      queued += 3;
      await flush();
    }
    for (const { payments, appointments, ...c } of caseload.cases) {
      batch.set(this.key(generation, 'case', c.caseNumber), JSON.stringify(c));
      const newestFirst = [...payments].sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
      if (newestFirst.length) batch.rpush(this.key(generation, 'payments', c.caseNumber), ...newestFirst.map((p) => JSON.stringify(p)));
      batch.set(this.key(generation, 'appointments', c.caseNumber), JSON.stringify(appointments));
      casesOf.get(c.payingParticipantId)?.push(c.caseNumber);
      if (c.receivingParticipantId !== c.payingParticipantId) casesOf.get(c.receivingParticipantId)?.push(c.caseNumber);
      queued += 3;
      await flush();
    }
    for (const [participantId, numbers] of casesOf) {
      batch.set(this.key(generation, 'cases-of', participantId), JSON.stringify(numbers));
      queued += 1;
      await flush();
    }
    await flush(true);
  }

  private async dropGeneration(generation: string): Promise<void> {
    const match = `${this.base}g:${generation}:*`;
    // On a Cluster SCAN sees the node it is sent to only: every master is walked.
    for (const node of this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis]) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await this.redis.unlink(...keys);
      } while (cursor !== '0');
    }
    await this.redis.srem(this.generations, generation);
  }

  async participant(participantId: ParticipantId): Promise<Participant | null> {
    return this.inCurrent(async (g) => {
      const json = await this.redis.get(this.key(g, 'p', participantId));
      return json === null ? null : (JSON.parse(json) as Participant);
    }, null);
  }

  async participantBySsnHash(ssnHash: string): Promise<ParticipantId | null> {
    return this.inCurrent(async (g) => (await this.redis.get(this.key(g, 'ssn', ssnHash))) as ParticipantId | null, null);
  }

  async pinHash(participantId: ParticipantId): Promise<string | null> {
    return this.inCurrent((g) => this.redis.get(this.key(g, 'pin', participantId)), null);
  }

  async casesOf(participantId: ParticipantId): Promise<Case[]> {
    return this.inCurrent(async (g) => {
      const numbers = JSON.parse((await this.redis.get(this.key(g, 'cases-of', participantId))) ?? '[]') as string[];
      if (numbers.length === 0) return [];
      const cases = await this.redis.mget(...numbers.map((n) => this.key(g, 'case', n)));
      return cases.flatMap((json) => (json === null ? [] : [JSON.parse(json) as Case]));
    }, []);
  }

  async payments(caseNumber: CaseNumber): Promise<Payment[]> {
    return this.inCurrent(async (g) => (await this.redis.lrange(this.key(g, 'payments', caseNumber), 0, -1)).map((p) => JSON.parse(p) as Payment), []);
  }

  async appointments(caseNumber: CaseNumber): Promise<Appointment[]> {
    return this.inCurrent(async (g) => JSON.parse((await this.redis.get(this.key(g, 'appointments', caseNumber))) ?? '[]') as Appointment[], []);
  }

  async isPinLocked(participantId: ParticipantId): Promise<boolean> {
    return this.inCurrent(async (g) => (await this.redis.exists(this.key(g, 'pin-locked', participantId))) === 1, false);
  }

  /** Runs a script against the generation it read, again if a load switched it in between. */
  private async againstCurrent<T>(run: (generation: string) => Promise<T | 'stale'>): Promise<T> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const generation = await this.generation();
      if (generation === null) throw new Error('no caseload is loaded');
      const result = await run(generation);
      if (result !== 'stale') return result;
    }
    throw new Error('the caseload kept changing under a write');
  }

  async recordPinFailure(participantId: ParticipantId, at: Date, policy: PinPolicy): Promise<PinFailure> {
    return this.againstCurrent(async (g) => {
      const [count, locked] = (await this.redis.eval(
        RECORD_PIN_FAILURE, 3,
        this.pointer, this.key(g, 'pin-failures', participantId), this.key(g, 'pin-locked', participantId),
        g, at.getTime(), policy.failureWindowMs, policy.lockAfter, `${at.getTime()}-${randomUUID().slice(0, 8)}`,
      )) as [number, number];
      return count < 0 ? 'stale' : { failuresInWindow: count, locked: locked === 1 };
    });
  }

  async changePin(participantId: ParticipantId, pinHash: string): Promise<void> {
    // Checked and written in one step: a SET into a generation being dropped could outlive the drop.
    await this.againstCurrent(async (g) => {
      const status = await this.redis.eval(CHANGE_PIN, 2, this.pointer, this.key(g, 'pin', participantId), g, pinHash);
      return status === 'ok' ? true : 'stale';
    });
  }

  async resetPin(participantId: ParticipantId, pinHash: string, letter: PinLetter, at: Date, policy: PinPolicy): Promise<PinReset> {
    const letterId = randomUUID();
    const idempotencyKey = `pin-reset:${participantId}:${at.getTime()}`;
    const { record, sealedPin } = outboxEntry(letter, letterId, idempotencyKey);
    return this.againstCurrent(async (g) => {
      const [status, detail] = (await this.redis.eval(
        RESET_PIN, 9,
        this.pointer, this.key(g, 'pin', participantId), this.key(g, 'pin-failures', participantId),
        this.key(g, 'pin-locked', participantId), this.key(g, 'pin-reset', participantId),
        this.outbox.idempotency(idempotencyKey), this.outbox.record(letterId), this.outbox.secret(letterId), this.outbox.stream,
        g, pinHash, at.getTime(), policy.resetIntervalMs, letterId, record, sealedPin ?? '',
      )) as [string, string | undefined];
      if (status === 'stale') return 'stale';
      if (status === 'recently-reset') return { ok: false, reason: 'recently-reset', lastResetAt: new Date(Number(detail)).toISOString() };
      return { ok: true, letterId: status === 'duplicate' && detail ? detail : letterId };
    });
  }

  async queueLetter(letter: Letter, idempotencyKey: string): Promise<QueuedLetterId> {
    const letterId = randomUUID();
    const { record, sealedPin } = outboxEntry(letter, letterId, idempotencyKey);
    const [status, queuedId] = (await this.redis.eval(
      QUEUE_LETTER, 4,
      this.outbox.idempotency(idempotencyKey), this.outbox.record(letterId), this.outbox.secret(letterId), this.outbox.stream,
      letterId, record, sealedPin ?? '',
    )) as [string, string];
    return { letterId: queuedId, queued: status === 'queued' };
  }

  async letters(): Promise<QueuedLetter[]> {
    const ids = (await this.redis.xrange(this.outbox.stream, '-', '+')).map(([, fields]) => fields[1] ?? '');
    if (ids.length === 0) return [];
    // Records and sealed PINs in one read, so a letter being sent is seen wholly before or after.
    const values = await this.redis.mget(...ids.flatMap((id) => [this.outbox.record(id), this.outbox.secret(id)]));
    return ids.flatMap((_, i) => {
      const record = values[2 * i];
      return record ? [queuedLetter(record, values[2 * i + 1] ?? null)] : [];
    });
  }

  async recordPayment(caseNumber: CaseNumber, payment: LinePayment, apply: (c: Case) => Case): Promise<RecordedPayment> {
    const json = JSON.stringify(payment);
    for (let attempt = 0; attempt < 20; attempt++) {
      const generation = await this.generation();
      if (generation === null) throw new Error('no caseload is loaded');
      const paidKey = this.key(generation, 'paid', payment.confirmationCode);
      const [caseJson, first] = await this.redis.mget(this.key(generation, 'case', caseNumber), paidKey);
      if (first) return { status: 'duplicate', payment: JSON.parse(first) as LinePayment };
      if (!caseJson) return { status: 'no-case' };
      const next = JSON.stringify(apply(JSON.parse(caseJson) as Case));
      const [status, stored] = (await this.redis.eval(
        RECORD_PAYMENT, 4,
        this.pointer, this.key(generation, 'case', caseNumber), this.key(generation, 'payments', caseNumber), paidKey,
        generation, caseJson, next, json,
      )) as [string, string | undefined];
      if (status === 'recorded') return { status: 'recorded', payment };
      if (status === 'duplicate') return { status: 'duplicate', payment: JSON.parse(stored ?? json) as LinePayment };
    }
    throw new Error('the case kept changing while a payment was being recorded');
  }

  async updatePhone(participantId: ParticipantId, phone: string, audit: AuditEntry): Promise<{ previous: string | null } | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const generation = await this.generation();
      if (generation === null) throw new Error('no caseload is loaded');
      const key = this.key(generation, 'p', participantId);
      const json = await this.redis.get(key);
      if (json === null) return null;
      const participant = JSON.parse(json) as Participant;
      const status = await this.redis.eval(UPDATE_PHONE, 3, this.pointer, key, `${this.base}audit`, generation, json, JSON.stringify({ ...participant, phone }), JSON.stringify(audit));
      if (status === 'ok') return { previous: participant.phone };
    }
    throw new Error('the participant kept changing while the phone number was being updated');
  }

  async auditTrail(limit: number): Promise<AuditEntry[]> {
    if (limit <= 0) return [];
    const entries = await this.redis.xrevrange(`${this.base}audit`, '+', '-', 'COUNT', limit);
    return entries.map(([, fields]) => JSON.parse(fields[1] ?? '{}') as AuditEntry);
  }
}
