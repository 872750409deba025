// The agency's export (spec section 12): every change the line recorded since the last export,
// written as JSON Lines files its batch jobs pick up. A range of changes is fixed in the store
// before its file is written; the file appears complete or not at all (a temporary file, synced,
// then linked to a name no other range has); only then does the store's cursor move past the
// range. A run that stops anywhere leaves a range the next run writes again or finds written, and
// two runs at once write one file per range: each change lands in exactly one file.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCaseNumber, parseParticipantId } from '../domain/caseload.ts';
import type { ExportRange, LineChanges, RecordedChange } from '../domain/caseload-store.ts';
import { cents, creditedDate, formatMoney } from '../domain/money.ts';
import { MAILED_FORMS, type MailedForm } from '../domain/outbox.ts';
import { exists, removeAbandonedTemps, writeOnce } from './write-once.ts';

export const PIN_EVENTS = ['changed', 'reset-requested', 'first-used'] as const;
export type PinEvent = (typeof PIN_EVENTS)[number];

/**
 * One line of an export file. Built field by field from what the store recorded, so nothing else
 * can reach the agency: never an SSN, a PIN or its hash, or a card detail.
 */
export type ExportedChange =
  | {
    id: string; kind: 'payment'; at: string;
    /** The case's paying parent when the payment was taken (null for payments recorded before the line kept it). */
    participantId: string | null;
    caseNumber: string; amount: string; confirmationCode: string;
    /** The Pacific date the payment is credited to. */
    creditedOn: string; method: 'card';
  }
  | { id: string; kind: 'phone'; at: string; participantId: string; phone: string }
  | { id: string; kind: 'pin'; at: string; participantId: string; event: PinEvent }
  | { id: string; kind: 'letter'; at: string; participantId: string; form: MailedForm };

export class UnknownChangeError extends Error {
  override readonly name = 'UnknownChangeError';
}

const E164 = /^\+[1-9]\d{6,14}$/;
const CONFIRMATION_CODE = /^[A-Za-z0-9_-]{1,128}$/;

function instant(value: unknown): string | null {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : null;
}

/**
 * What the agency hears of one recorded change. Throws (naming the change's ID only) for a change
 * this export does not know: it is never skipped, since the agency would then never hear of it.
 */
export function exportedChange(recorded: RecordedChange): ExportedChange {
  const { id } = recorded;
  const unknown = (why: string) => new UnknownChangeError(`change ${id}: ${why}`);
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(recorded.change) as Record<string, unknown>;
  } catch {
    throw unknown('not JSON');
  }
  if (typeof fields !== 'object' || fields === null) throw unknown('not an object');
  const text = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : null);
  const participantId = text('participantId') === null ? null : parseParticipantId(text('participantId')!);
  switch (fields.kind) {
    case 'payment': {
      const at = instant(fields.receivedAt);
      const caseNumber = parseCaseNumber(text('caseNumber') ?? '');
      const amount = text('amount');
      const confirmationCode = text('confirmationCode');
      if (!at || !caseNumber || !amount || !/^[1-9]\d{0,14}$/.test(amount) || !confirmationCode || !CONFIRMATION_CODE.test(confirmationCode)) {
        throw unknown('a payment without its case, amount, confirmation code or time');
      }
      return {
        id, kind: 'payment', at,
        participantId: recorded.payer === null ? null : parseParticipantId(recorded.payer),
        caseNumber, amount: formatMoney(cents(Number(amount))), confirmationCode,
        creditedOn: creditedDate(new Date(at)), method: 'card',
      };
    }
    case 'phone': {
      const at = instant(fields.at);
      const phone = text('phone');
      if (!at || !participantId || !phone || !E164.test(phone)) throw unknown('a phone update without its participant, number or time');
      return { id, kind: 'phone', at, participantId, phone };
    }
    case 'pin': {
      const at = instant(fields.at);
      const event = PIN_EVENTS.find((e) => e === fields.event);
      if (!at || !participantId || !event) throw unknown('a PIN event without its participant, event or time');
      return { id, kind: 'pin', at, participantId, event };
    }
    case 'letter': {
      const at = instant(fields.at);
      const form = MAILED_FORMS.find((f) => f === fields.form);
      if (!at || !participantId || !form) throw unknown('a letter without its participant, form or time');
      return { id, kind: 'letter', at, participantId, form };
    }
    default:
      throw unknown('a kind of change the export does not know');
  }
}

/** What one range became in a run. */
export type ExportedFile = {
  file: string;
  changes: number;
  /** written: this run wrote it; found-written: an earlier or concurrent run had. */
  result: 'written' | 'found-written';
};

/** `changes`: in the files this run wrote (a file found written was counted by the run that wrote it). */
export type ExportSummary = { files: ExportedFile[]; changes: number };

type Step = (range: ExportRange) => void | Promise<void>;

export type ExportOptions = {
  outDir: string;
  /** Exported changes are kept in the store this many days, then dropped. */
  keepDays: number;
  clock?: () => Date;
  /** The most changes one file holds. */
  perFile?: number;
  onFile?: (file: ExportedFile) => void;
  /** Test seams between the steps of a range; a throw stands for the process stopping right there. */
  hooks?: { afterBegin?: Step; afterWrite?: Step };
};

export const DEFAULT_PER_FILE = 10_000;
const READ_BATCH = 500;
const FILE_PREFIX = 'line-changes_';

/** The range's file: named by its first and last change, so no two ranges ever share a name. */
export function exportFileName(range: ExportRange): string {
  const safe = /^\d+-\d+$/;
  if (!safe.test(range.after) || !safe.test(range.last)) throw new Error('a change ID that is not safe in a file name');
  return `${FILE_PREFIX}${range.after}_${range.last}.jsonl`;
}

/**
 * Writes the range's file unless it exists, complete or not at all; false if it was there. Reading
 * the range fails when another run wrote its file meanwhile and moved past it, trimming its
 * changes: that file is then found, and counts as this range's.
 */
function writeRange(changes: LineChanges, range: ExportRange, path: string): Promise<boolean> {
  return writeOnce(path, FILE_PREFIX, async (file) => {
    for await (const batch of changes.changesIn(range, READ_BATCH)) {
      await file.write(batch.map((recorded) => `${JSON.stringify(exportedChange(recorded))}\n`).join(''));
    }
  });
}

/** One export run: every change not exported yet, a file per range, until none is left. */
export async function exportChanges(changes: LineChanges, options: ExportOptions): Promise<ExportSummary> {
  const { outDir, hooks = {} } = options;
  const clock = options.clock ?? (() => new Date());
  const perFile = options.perFile ?? DEFAULT_PER_FILE;
  if (!Number.isInteger(perFile) || perFile < 1) throw new RangeError(`perFile must be a positive integer, not ${perFile}`);
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  await removeAbandonedTemps(outDir, FILE_PREFIX, clock());

  const summary: ExportSummary = { files: [], changes: 0 };
  for (let range = await changes.nextExportRange(perFile); range; range = await changes.nextExportRange(perFile)) {
    await hooks.afterBegin?.(range);
    const file = exportFileName(range);
    let result: ExportedFile['result'] = 'found-written';
    if (!(await exists(join(outDir, file))) && (await writeRange(changes, range, join(outDir, file)))) result = 'written';
    await hooks.afterWrite?.(range);
    // 'stale': another run finished this range meanwhile; its one file is the one just found or written.
    await changes.exported(range, new Date(clock().getTime() - options.keepDays * 86_400_000));
    const done: ExportedFile = { file, changes: range.count, result };
    summary.files.push(done);
    if (result === 'written') summary.changes += range.count;
    options.onFile?.(done);
  }
  return summary;
}
