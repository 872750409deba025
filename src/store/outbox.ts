// The mail outbox as the print-and-mail job reads it (the domain's Outbox): letters are claimed
// through a consumer group (Redis) or its in-process twin, and marked sent in one step.
import type { ClaimedLetter, Outbox } from '../domain/outbox.ts';
import type { MemoryCaseloadStore, MemoryLetterQueue } from './caseload-memory.ts';
import { outboxKeys } from './caseload-redis.ts';
import { queuedLetter } from './letter-records.ts';
import { runScript, type RedisClient } from './lua-scripts.ts';

export const PRINT_AND_MAIL_GROUP = 'print-and-mail';
/** A letter another consumer has held this long is taken to be abandoned by a run that stopped. */
export const DEFAULT_MIN_IDLE_MS = 60_000;

/** `retentionDays`: how long a sent letter's record and idempotency key are kept (spec section 8). */
export type OutboxOptions = { minIdleMs?: number; retentionDays?: number };
export const DEFAULT_LETTER_RETENTION_DAYS = 30;

type StreamEntry = [id: string, fields: string[] | null];



export class RedisOutbox implements Outbox {
  private readonly keys: ReturnType<typeof outboxKeys>;
  private readonly minIdleMs: number;
  private readonly retentionDays: number;

  constructor(private readonly redis: RedisClient, prefix = 'cc:', options: OutboxOptions = {}) {
    this.retentionDays = options.retentionDays ?? DEFAULT_LETTER_RETENTION_DAYS;
    this.keys = outboxKeys(prefix);
    this.minIdleMs = options.minIdleMs ?? DEFAULT_MIN_IDLE_MS;
  }

  private async ensureGroup(): Promise<void> {
    try {
      // From the stream's start: letters queued before the job ever ran are new to it.
      await this.redis.xgroup('CREATE', this.keys.stream, PRINT_AND_MAIL_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
  }

  private async readGroup(consumer: string, batch: number, from: string): Promise<StreamEntry[]> {
    const reply = (await this.redis.xreadgroup(
      'GROUP', PRINT_AND_MAIL_GROUP, consumer, 'COUNT', batch, 'STREAMS', this.keys.stream, from,
    )) as [string, StreamEntry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** The letters behind stream entries, records and sealed PINs in one read. */
  private async resolve(entries: StreamEntry[]): Promise<ClaimedLetter[]> {
    const ids = entries.map(([, fields]) => fields?.[1] ?? '');
    const values = await this.redis.mget(...ids.flatMap((id) => [this.keys.record(id), this.keys.secret(id)]));
    return entries.map(([entryId], i) => {
      const record = values[2 * i];
      return { entryId, letterId: ids[i] ?? '', letter: record ? queuedLetter(record, values[2 * i + 1] ?? null) : null };
    });
  }

  async *claims(consumer: string, batch: number): AsyncGenerator<ClaimedLetter[]> {
    await this.ensureGroup();
    for (let after = '0'; ;) {
      const entries = await this.readGroup(consumer, batch, after);
      const last = entries.at(-1);
      if (!last) break;
      after = last[0];
      yield await this.resolve(entries);
    }
    let cursor = '0-0';
    do {
      const [next, entries] = (await this.redis.xautoclaim(
        this.keys.stream, PRINT_AND_MAIL_GROUP, consumer, this.minIdleMs, cursor, 'COUNT', batch,
      )) as [string, StreamEntry[], string[]?];
      cursor = next;
      if (entries.length) yield await this.resolve(entries);
    } while (cursor !== '0-0');
    for (;;) {
      const entries = await this.readGroup(consumer, batch, '>');
      if (entries.length === 0) return;
      yield await this.resolve(entries);
    }
  }

  async markSent(claimed: ClaimedLetter, at: Date): Promise<void> {
    const idempotencyKey = claimed.letter?.idempotencyKey;
    await runScript(this.redis, 'mark-letter-sent',
      [this.keys.record(claimed.letterId), this.keys.secret(claimed.letterId), this.keys.stream, idempotencyKey ? this.keys.idempotency(idempotencyKey) : this.keys.record(claimed.letterId)],
      [PRINT_AND_MAIL_GROUP, claimed.entryId, at.toISOString(), Math.round(this.retentionDays * 86_400)],
    );
  }

  async pending(): Promise<number> {
    await this.ensureGroup();
    const [count] = (await this.redis.xpending(this.keys.stream, PRINT_AND_MAIL_GROUP)) as [number, ...unknown[]];
    return count;
  }

  /** A sent letter's entry is deleted as it is marked sent, so the stream holds exactly the unsent ones. */
  async unsent(): Promise<number> {
    return this.redis.xlen(this.keys.stream);
  }

  async release(consumer: string): Promise<void> {
    await this.ensureGroup();
    await runScript(this.redis, 'release-consumer', [this.keys.stream], [PRINT_AND_MAIL_GROUP, consumer]);
  }
}

type Claim = { consumer: string; at: number };
/** The consumer group of an in-process outbox: how far it has read, and who holds what since when. */
type Group = { read: number; claims: Map<string, Claim> };
const groups = new WeakMap<MemoryLetterQueue, Group>();

/** The in-process twin of RedisOutbox, over MemoryCaseloadStore's outbox, with the same group rules. */
export class MemoryOutbox implements Outbox {
  private readonly queue: MemoryLetterQueue;
  private readonly minIdleMs: number;
  private readonly now: () => number;
  private readonly retentionDays: number;

  constructor(store: MemoryCaseloadStore, options: OutboxOptions & { now?: () => number } = {}) {
    this.queue = store.outbox;
    this.retentionDays = options.retentionDays ?? DEFAULT_LETTER_RETENTION_DAYS;
    this.minIdleMs = options.minIdleMs ?? DEFAULT_MIN_IDLE_MS;
    this.now = options.now ?? Date.now;
  }

  private get group(): Group {
    let group = groups.get(this.queue);
    if (!group) groups.set(this.queue, (group = { read: 0, claims: new Map() }));
    return group;
  }

  private claim(letterIds: string[], consumer: string): ClaimedLetter[] {
    for (const letterId of letterIds) this.group.claims.set(letterId, { consumer, at: this.now() });
    return letterIds.map((letterId) => ({ entryId: letterId, letterId, letter: this.queue.letter(letterId) }));
  }

  /** Held letters in queue order, `which` deciding; the first `batch` of them. */
  private held(which: (claim: Claim) => boolean, batch: number, after = -1): string[] {
    const found: string[] = [];
    for (let i = after + 1; i < this.group.read && found.length < batch; i++) {
      const letterId = this.queue.order[i]!;
      const claim = this.group.claims.get(letterId);
      if (claim && which(claim)) found.push(letterId);
    }
    return found;
  }

  async *claims(consumer: string, batch: number): AsyncGenerator<ClaimedLetter[]> {
    for (let after = -1; ;) {
      const mine = this.held((c) => c.consumer === consumer, batch, after);
      const last = mine.at(-1);
      if (last === undefined) break;
      after = this.queue.order.indexOf(last);
      yield this.claim(mine, consumer);
    }
    for (let after = -1; ;) {
      const idle = this.held((c) => this.now() - c.at >= this.minIdleMs, batch, after);
      const last = idle.at(-1);
      if (last === undefined) break;
      after = this.queue.order.indexOf(last);
      yield this.claim(idle, consumer);
    }
    for (;;) {
      const fresh = this.queue.order.slice(this.group.read, this.group.read + batch);
      if (fresh.length === 0) return;
      this.group.read += fresh.length;
      yield this.claim(fresh, consumer);
    }
  }

  async markSent(claimed: ClaimedLetter, at: Date): Promise<void> {
    this.queue.sent(claimed.letterId, at, this.retentionDays);
    this.group.claims.delete(claimed.letterId);
  }

  async pending(): Promise<number> {
    return this.group.claims.size;
  }

  async unsent(): Promise<number> {
    return this.queue.order.filter((letterId) => this.queue.letter(letterId)?.status === 'pending').length;
  }

  async release(): Promise<void> {}
}

