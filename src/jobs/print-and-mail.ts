// The print-and-mail job (spec section 8): letters are claimed from the outbox, printed to a file
// each, then marked sent. Every step can be repeated safely, so a run that stops anywhere leaves
// nothing a later run cannot finish: one file per letter, every letter sent, none printed twice.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Language } from '../domain/language.ts';
import type { ClaimedLetter, Outbox, QueuedLetter } from '../domain/outbox.ts';
import { describeError } from '../log.ts';
import { exists, removeAbandonedTemps, writeOnce } from './write-once.ts';

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

const SAFE_LETTER_ID = /^[A-Za-z0-9-]{1,100}$/;

export function letterFile(outDir: string, letterId: string): string {
  if (!SAFE_LETTER_ID.test(letterId)) throw new Error('a letter ID that is not safe as a file name');
  return join(outDir, `${letterId}.txt`);
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
  await removeAbandonedTemps(outDir, '', clock());

  const print = async (claimed: ClaimedLetter): Promise<LetterOutcome['result']> => {
    const { letter, letterId } = claimed;
    if (!letter) throw new Error('the letter record is missing');
    await hooks.afterClaim?.(letterId);
    let result: LetterOutcome['result'] = 'found-printed';
    // A letter marked sent while this run held a stale claim, or a file an earlier run wrote, is done.
    if (letter.status !== 'sent' && !(await exists(letterFile(outDir, letterId)))) {
      const text = render(letter, clock());
      await hooks.afterRender?.(letterId);
      if (await writeOnce(letterFile(outDir, letterId), `${letterId}.`, (file) => file.writeFile(text, 'utf8'))) result = 'printed';
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
