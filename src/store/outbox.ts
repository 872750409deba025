// The print-and-mail job's side of the mail outbox (spec section 8). Letters are claimed through a
// consumer group, printed to a file each, then marked sent. Every step can be repeated safely, so a
// run that stops anywhere leaves nothing a later run cannot finish: one file per letter, every
// letter sent, none printed twice.
import { randomUUID } from 'node:crypto';
import { access, link, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import type { Language } from '../domain/caseload.ts';
import { describeError } from '../log.ts';
import type { MemoryCaseloadStore, MemoryLetterQueue } from './caseload-memory.ts';
import { outboxKeys } from './caseload-redis.ts';
import { queuedLetter, type QueuedLetter } from './caseload.ts';

export const PRINT_AND_MAIL_GROUP = 'print-and-mail';
/** A letter another consumer has held this long is taken to be abandoned by a run that stopped. */
export const DEFAULT_MIN_IDLE_MS = 60_000;

/** `letter` is null only if its record is missing, which nothing the line does can cause. */
export type ClaimedLetter = { entryId: string; letterId: string; letter: QueuedLetter | null };

export interface Outbox {
  /**
   * One pass over what `consumer` should print, in batches: the letters it holds already (a run
   * under the same name stopped half-way), those another consumer has held for the minimum idle
   * time (a run that crashed), then new ones.
   */
  claims(consumer: string, batch: number): AsyncGenerator<ClaimedLetter[]>;
  /** Record sent (the first time only), sealed PIN deleted, claim released: one atomic step. */
  markSent(claimed: ClaimedLetter, at: Date): Promise<void>;
  /** Letters claimed and not sent yet, by any consumer. */
  pending(): Promise<number>;
  /** Forgets `consumer` if it holds nothing, so the group does not collect one consumer per run. */
  release(consumer: string): Promise<void>;
}

export type OutboxOptions = { minIdleMs?: number };

type StreamEntry = [id: string, fields: string[] | null];

const MARK_SENT = `
local record = redis.call('GET', KEYS[1])
if record then
  local letter = cjson.decode(record)
  if letter.status ~= 'sent' then
    letter.status = 'sent'
    letter.sentAt = ARGV[3]
    redis.call('SET', KEYS[1], cjson.encode(letter))
  end
end
redis.call('DEL', KEYS[2])
return redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
`;

// Deleting a consumer drops the claims it holds, so only one that holds none.
const RELEASE_CONSUMER = `
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1
`;

export class RedisOutbox implements Outbox {
  private readonly keys: ReturnType<typeof outboxKeys>;
  private readonly minIdleMs: number;

  constructor(private readonly redis: Redis | Cluster, prefix = 'cc:', options: OutboxOptions = {}) {
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
    await this.redis.eval(
      MARK_SENT, 3,
      this.keys.record(claimed.letterId), this.keys.secret(claimed.letterId), this.keys.stream,
      PRINT_AND_MAIL_GROUP, claimed.entryId, at.toISOString(),
    );
  }

  async pending(): Promise<number> {
    await this.ensureGroup();
    const [count] = (await this.redis.xpending(this.keys.stream, PRINT_AND_MAIL_GROUP)) as [number, ...unknown[]];
    return count;
  }

  async release(consumer: string): Promise<void> {
    await this.ensureGroup();
    await this.redis.eval(RELEASE_CONSUMER, 1, this.keys.stream, PRINT_AND_MAIL_GROUP, consumer);
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

  constructor(store: MemoryCaseloadStore, options: OutboxOptions & { now?: () => number } = {}) {
    this.queue = store.outbox;
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
    this.queue.sent(claimed.letterId, at);
    this.group.claims.delete(claimed.letterId);
  }

  async pending(): Promise<number> {
    return this.group.claims.size;
  }

  async release(): Promise<void> {}
}

/** What became of one letter in a run, as the job reports it: never the PIN, never the street. */
export type LetterOutcome = {
  letterId: string;
  /** `pin-reset`, or `form:` and the form. */
  kind: string;
  language: Language | null;
  city: string | null;
  zip: string | null;
  /** printed: this run wrote the file; found-printed: an earlier run had (and stopped before marking it sent). */
  result: 'printed' | 'found-printed' | 'failed';
  /** Why it failed, digits scrubbed. */
  reason: string | null;
};

export type PrintSummary = { printed: number; foundPrinted: number; failed: number; stillPending: number };

type Step = (letterId: string) => void | Promise<void>;

export type PrintAndMailOptions = {
  outDir: string;
  consumer: string;
  render: (letter: QueuedLetter, date: Date) => string;
  clock?: () => Date;
  batch?: number;
  /** Letters that failed earlier in this process (a watch loop): left to a later run, not retried at once. */
  skip?: Set<string>;
  onLetter?: (outcome: LetterOutcome) => void;
  /** Stops the pass between two letters (a watch loop told to stop). */
  signal?: AbortSignal;
  /** Test seams between the steps of a letter; a throw stands for the process stopping right there. */
  hooks?: { afterClaim?: Step; afterRender?: Step; afterWrite?: Step };
};

// A temporary file is written and linked in milliseconds; one this old was left by a run that died.
const ABANDONED_TEMP_MS = 3600_000;
const SAFE_LETTER_ID = /^[A-Za-z0-9-]{1,100}$/;

const hasCode = (error: unknown, code: string) => error instanceof Error && (error as NodeJS.ErrnoException).code === code;

export function letterFile(outDir: string, letterId: string): string {
  if (!SAFE_LETTER_ID.test(letterId)) throw new Error('a letter ID that is not safe as a file name');
  return join(outDir, `${letterId}.txt`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return false;
    throw error;
  }
}

/**
 * Writes the letter's file unless it exists: complete or not at all (a temporary file, synced,
 * then linked into place). A link, not a rename: a rename would replace the file a concurrent run
 * has just produced, a link refuses. False if the file was there already.
 */
async function writeOnce(outDir: string, letterId: string, text: string): Promise<boolean> {
  const file = letterFile(outDir, letterId);
  const temp = join(outDir, `.${letterId}.${randomUUID()}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
  } catch (error) {
    if (hasCode(error, 'EEXIST')) return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
  // The new name must be on disk before the letter is marked sent.
  const dir = await open(outDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return true;
}

/** A temporary file a dead run left holds a letter, maybe a PIN, in clear: it goes. */
async function removeAbandonedTemps(outDir: string, now: Date): Promise<void> {
  for (const name of await readdir(outDir)) {
    if (!name.startsWith('.') || !name.endsWith('.tmp')) continue;
    const path = join(outDir, name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now.getTime() }));
    if (now.getTime() - mtimeMs > ABANDONED_TEMP_MS) await unlink(path).catch(() => {});
  }
}

function describe(claimed: ClaimedLetter): Omit<LetterOutcome, 'result' | 'reason'> {
  const { letter } = claimed;
  if (!letter) return { letterId: claimed.letterId, kind: 'unknown', language: null, city: null, zip: null };
  return {
    letterId: letter.letterId,
    kind: letter.kind === 'form' ? `form:${letter.form}` : letter.kind,
    language: letter.language,
    city: letter.address.city,
    zip: letter.address.zip,
  };
}

/** One pass of the print-and-mail job: every letter it can claim, printed once and marked sent. */
export async function printAndMail(outbox: Outbox, options: PrintAndMailOptions): Promise<PrintSummary> {
  const { outDir, consumer, render, hooks = {} } = options;
  const clock = options.clock ?? (() => new Date());
  const skip = options.skip ?? new Set<string>();
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  await removeAbandonedTemps(outDir, clock());

  const print = async (claimed: ClaimedLetter): Promise<LetterOutcome['result']> => {
    const { letter, letterId } = claimed;
    if (!letter) throw new Error('the letter record is missing');
    await hooks.afterClaim?.(letterId);
    let result: LetterOutcome['result'] = 'found-printed';
    // A letter marked sent while this run held a stale claim, or a file an earlier run wrote, is done.
    if (letter.status !== 'sent' && !(await exists(letterFile(outDir, letterId)))) {
      const text = render(letter, clock());
      await hooks.afterRender?.(letterId);
      if (await writeOnce(outDir, letterId, text)) result = 'printed';
    }
    await hooks.afterWrite?.(letterId);
    await outbox.markSent(claimed, clock());
    return result;
  };

  const summary: PrintSummary = { printed: 0, foundPrinted: 0, failed: 0, stillPending: 0 };
  const seen = new Set<string>();
  for await (const batch of outbox.claims(consumer, options.batch ?? 50)) {
    if (options.signal?.aborted) break;
    for (const claimed of batch) {
      if (options.signal?.aborted) break;
      // A letter comes round again in one pass only when it failed (or, with no minimum idle time, was taken back).
      if (skip.has(claimed.letterId) || seen.has(claimed.letterId)) continue;
      seen.add(claimed.letterId);
      let outcome: LetterOutcome;
      try {
        outcome = { ...describe(claimed), result: await print(claimed), reason: null };
      } catch (error) {
        skip.add(claimed.letterId);
        outcome = { ...describe(claimed), result: 'failed', reason: describeError(error) };
      }
      if (outcome.result === 'printed') summary.printed += 1;
      else if (outcome.result === 'found-printed') summary.foundPrinted += 1;
      else summary.failed += 1;
      options.onLetter?.(outcome);
    }
  }
  await outbox.release(consumer);
  summary.stillPending = await outbox.pending();
  return summary;
}
