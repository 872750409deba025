// The print-and-mail job (spec section 8): letters are claimed from the outbox, printed to a file
// each, then marked sent. Every step can be repeated safely, so a run that stops anywhere leaves
// nothing a later run cannot finish: one file per letter, every letter sent, none printed twice.
import { randomUUID } from 'node:crypto';
import { access, link, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Language } from '../domain/language.ts';
import type { ClaimedLetter, Outbox, QueuedLetter } from '../domain/outbox.ts';
import { describeError } from '../log.ts';

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
