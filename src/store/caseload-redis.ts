// The caseload in Redis. Every key sits in one hash slot ({caseload}) so the multi-key steps
// (a PIN reset with its letter; later a payment with its ledger) run as one Lua script, atomic
// also under Redis Cluster. A load writes a new generation beside the old one and then switches
// a pointer, so no reader ever sees half a caseload.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Appointment, Case, CaseNumber, Participant, ParticipantId, Payment } from '../domain/caseload.ts';
import type { CaseloadStore, Letter, LoadedCaseload, PinFailure, PinPolicy, PinReset, QueuedLetter } from './caseload.ts';

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

const RESET_PIN = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'stale'} end
local last = redis.call('GET', KEYS[5])
if last then return {'recently-reset', last} end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SET', KEYS[5], ARGV[3], 'PX', ARGV[4])
redis.call('XADD', KEYS[6], '*', 'letter', ARGV[5])
return {'ok'}
`;

export class RedisCaseloadStore implements CaseloadStore {
  private readonly base: string;

  constructor(private readonly redis: Redis, prefix = 'cc:') {
    this.base = `${prefix}{caseload}:`;
  }

  private get pointer(): string {
    return `${this.base}generation`;
  }

  private get generations(): string {
    return `${this.base}generations`;
  }

  private get outbox(): string {
    return `${this.base}outbox`;
  }

  private key(generation: string, kind: string, id: string): string {
    return `${this.base}g:${generation}:${kind}:${id}`;
  }

  private async generation(): Promise<string | null> {
    return this.redis.get(this.pointer);
  }

  /** Runs a read against the current generation; null when nothing is loaded. */
  private async inCurrent<T>(read: (generation: string) => Promise<T>, empty: T): Promise<T> {
    const generation = await this.generation();
    return generation === null ? empty : read(generation);
  }

  async replaceCaseload(caseload: LoadedCaseload): Promise<void> {
    const generation = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    await this.redis.sadd(this.generations, generation);
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
    const previous = await this.redis.getset(this.pointer, generation);
    // Everything else that was ever loaded (the one just replaced, or a load that died half-way) goes.
    for (const old of await this.redis.smembers(this.generations)) {
      if (old === generation) continue;
      await this.dropGeneration(old);
    }
    void previous;
  }

  private async dropGeneration(generation: string): Promise<void> {
    const match = `${this.base}g:${generation}:*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await this.redis.unlink(...keys);
    } while (cursor !== '0');
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
    await this.againstCurrent(async (g) => {
      await this.redis.set(this.key(g, 'pin', participantId), pinHash);
      return (await this.generation()) === g ? true : 'stale';
    });
  }

  async resetPin(participantId: ParticipantId, pinHash: string, letter: Letter, at: Date, policy: PinPolicy): Promise<PinReset> {
    const letterId = randomUUID();
    const queued: QueuedLetter = { ...letter, letterId, idempotencyKey: `pin-reset:${participantId}:${at.getTime()}` };
    return this.againstCurrent(async (g) => {
      const [status, lastResetAt] = (await this.redis.eval(
        RESET_PIN, 6,
        this.pointer, this.key(g, 'pin', participantId), this.key(g, 'pin-failures', participantId),
        this.key(g, 'pin-locked', participantId), this.key(g, 'pin-reset', participantId), this.outbox,
        g, pinHash, at.toISOString(), policy.resetIntervalMs, JSON.stringify(queued),
      )) as [string, string | undefined];
      if (status === 'stale') return 'stale';
      if (status === 'recently-reset') return { ok: false, reason: 'recently-reset', lastResetAt: lastResetAt ?? '' };
      return { ok: true, letterId };
    });
  }

  async letters(): Promise<QueuedLetter[]> {
    const entries = await this.redis.xrange(this.outbox, '-', '+');
    return entries.map(([, fields]) => JSON.parse(fields[1] ?? '{}') as QueuedLetter);
  }
}
