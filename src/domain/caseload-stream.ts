// Reads a caseload file (docs/caseload.md) as batches of checked records, so a loader can write
// a state-sized caseload without holding it. A `.jsonl` file is read line by line and never held:
// what grows with it is only what the file-wide rules need (8 bytes per participant ID, SSN and
// case number, see KeyLog). A `.json` file is one document and is read whole, as it always was.
//
// The iterator throws CaseloadFileError at the file's first bad field; batches it yielded before
// that came from a file that turned out bad, so a loader commits nothing until it has finished.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { CaseNumber, ParticipantId } from './caseload.ts';
import {
  parseCaseRecord, parseCaseloadJson, parseParticipantRecord, readVersion,
  type CaseloadKeys, type ParsedCase, type ParsedCaseload, type ParsedParticipant,
} from './caseload-file.ts';

/**
 * Records in file order, participants before cases, never both in one batch. `firstIndex` is the
 * first item's place among the file's participants (or cases); `firstLine` its line in a `.jsonl`
 * file, null in a `.json` document, which has no record lines.
 */
export type CaseloadBatch =
  | { kind: 'participants'; items: ParsedParticipant[]; firstIndex: number; firstLine: number | null }
  | { kind: 'cases'; items: ParsedCase[]; firstIndex: number; firstLine: number | null };

/** A file that breaks the format. The message names the first bad field and never holds an SSN, PIN or hash. */
export class CaseloadFileError extends Error {
  override readonly name = 'CaseloadFileError';
}

export type ReadCaseloadOptions = { batchSize?: number };

export const DEFAULT_BATCH_SIZE = 1_000;
// A line is one record; a record bigger than this is a file that lost its line breaks.
export const MAX_LINE_BYTES = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** `.jsonl` files line by line; any other file as one JSON document. */
export function readCaseloadFile(path: string, options: ReadCaseloadOptions = {}): AsyncGenerator<CaseloadBatch, void, undefined> {
  return path.endsWith('.jsonl') ? readCaseloadLines(createReadStream(path), options) : readCaseloadDocument(path, options);
}

/** The whole caseload in memory, from either form: for files small enough to hold. */
export async function readWholeCaseload(path: string): Promise<ParsedCaseload> {
  const caseload: ParsedCaseload = { participants: [], cases: [] };
  for await (const batch of readCaseloadFile(path, { batchSize: 10_000 })) {
    if (batch.kind === 'participants') caseload.participants.push(...batch.items);
    else caseload.cases.push(...batch.items);
  }
  return caseload;
}

async function* readCaseloadDocument(path: string, options: ReadCaseloadOptions): AsyncGenerator<CaseloadBatch, void, undefined> {
  const parsed = parseCaseloadJson(await readFile(path, 'utf8'));
  if (!parsed.ok) throw new CaseloadFileError(parsed.error);
  const size = batchSize(options);
  const { participants, cases } = parsed.caseload;
  for (let i = 0; i < participants.length; i += size) {
    yield { kind: 'participants', items: participants.slice(i, i + size), firstIndex: i, firstLine: null };
  }
  for (let i = 0; i < cases.length; i += size) {
    yield { kind: 'cases', items: cases.slice(i, i + size), firstIndex: i, firstLine: null };
  }
}

/** The JSON Lines form from any byte stream (a file, a pipe, a test's strings). */
export async function* readCaseloadLines(
  source: AsyncIterable<Uint8Array | string>,
  options: ReadCaseloadOptions = {},
): AsyncGenerator<CaseloadBatch, void, undefined> {
  const reader = new CaseloadLineReader(batchSize(options));
  // The bytes of a line not yet ended; decoded only whole, so a character split across chunks survives.
  let partial: Buffer[] = [];
  let partialBytes = 0;
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      if (partialBytes + end - start > MAX_LINE_BYTES) reader.tooLong();
      let line: string;
      if (partialBytes === 0) {
        line = chunk.toString('utf8', start, end);
      } else {
        partial.push(chunk.subarray(start, end));
        line = Buffer.concat(partial).toString('utf8');
        partial = [];
        partialBytes = 0;
      }
      start = end + 1;
      reader.line(line);
      while (reader.ready.length > 0) yield reader.ready.shift() as CaseloadBatch;
    }
    if (start < chunk.length) {
      partialBytes += chunk.length - start;
      if (partialBytes > MAX_LINE_BYTES) reader.tooLong();
      partial.push(chunk.subarray(start));
    }
  }
  if (partialBytes > 0) reader.line(Buffer.concat(partial).toString('utf8'));
  reader.end();
  while (reader.ready.length > 0) yield reader.ready.shift() as CaseloadBatch;
}

function batchSize(options: ReadCaseloadOptions): number {
  const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batchSize must be a positive integer, not ${size}`);
  return size;
}

const CHUNK = 1 << 16;

/**
 * Keys in the order they were read, 8 bytes each. Participant IDs (10 digits), SSNs (9) and case
 * numbers (up to 15, written with a leading 1 so "000123" and "123" stay apart) are all exact as
 * doubles below 2^53. Uniqueness is judged by sorting a copy; a hash set would cost twice the
 * memory at a sane load factor. The order of reading is kept so a duplicate can be named by the
 * line that repeated it and the line that had it first.
 */
class KeyLog {
  private chunks: Float64Array[] = [];
  length = 0;

  add(key: number): void {
    const offset = this.length % CHUNK;
    if (offset === 0) this.chunks.push(new Float64Array(CHUNK));
    (this.chunks[this.chunks.length - 1] as Float64Array)[offset] = key;
    this.length += 1;
  }

  at(index: number): number {
    return (this.chunks[Math.floor(index / CHUNK)] as Float64Array)[index % CHUNK] as number;
  }

  sorted(): Float64Array {
    const all = new Float64Array(this.length);
    this.chunks.forEach((chunk, i) => all.set(i === this.chunks.length - 1 ? chunk.subarray(0, this.length - i * CHUNK) : chunk, i * CHUNK));
    return all.sort();
  }

  /** The first read that repeats an earlier one, and where that earlier one was; null when all differ. */
  firstRepeat(sorted: Float64Array = this.sorted()): { index: number; first: number } | null {
    let repeated: Set<number> | null = null;
    for (let i = 1; i < sorted.length; i += 1) {
      if (sorted[i] === sorted[i - 1]) (repeated ??= new Set()).add(sorted[i] as number);
    }
    if (repeated === null) return null;
    const firstAt = new Map<number, number>();
    for (let index = 0; index < this.length; index += 1) {
      const key = this.at(index);
      if (!repeated.has(key)) continue;
      const first = firstAt.get(key);
      if (first !== undefined) return { index, first };
      firstAt.set(key, index);
    }
    return null;
  }
}

function contains(sorted: Float64Array, key: number): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const found = sorted[middle] as number;
    if (found === key) return true;
    if (found < key) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

const caseKey = (caseNumber: string) => Number(`1${caseNumber}`);

const VERSION_LINE = 'expected {"version":2} (a .jsonl file is version 2)';
const RECORD_LINE = 'expected {"participant":{...}} or {"case":{...}}';

type Phase = 'version' | 'participants' | 'cases';
type Repeat = { line: number; first: number; field: string };

/**
 * The JSON Lines form, one line at a time (line 1 the version, then participants, then cases).
 * Keys are logged as they are read and judged for duplicates when the participants end, when the
 * file ends, or when a later line is bad, so the error is always the file's first bad field.
 */
class CaseloadLineReader implements CaseloadKeys {
  readonly ready: CaseloadBatch[] = [];
  private phase: Phase = 'version';
  private lineNumber = 0;
  private ids: KeyLog | null = new KeyLog();
  private ssns: KeyLog | null = new KeyLog();
  private readonly caseNumbers = new KeyLog();
  private participantIds: Float64Array = new Float64Array(0);
  private participantCount = 0;
  private caseCount = 0;
  private firstCaseLine = 0;
  private participants: ParsedParticipant[] = [];
  private cases: ParsedCase[] = [];
  private batchFirstIndex = 0;
  private batchFirstLine = 0;

  constructor(private readonly batchSize: number) {}

  line(raw: string): void {
    this.lineNumber += 1;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.phase === 'version') {
      this.versionLine(this.lineNumber === 1 && text.startsWith('\uFEFF') ? text.slice(1) : text);
      return;
    }
    if (text.trim() === '') this.fail('empty line; one record a line, with no blank lines');
    const json = this.json(text);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) this.fail(RECORD_LINE);
    const keys = Object.keys(json);
    const stray = keys.find((key) => key !== 'participant' && key !== 'case');
    if (stray !== undefined) this.fail(/^[A-Za-z_$][\w$]*$/.test(stray) ? `${stray}: unknown field` : RECORD_LINE);
    if (keys.length !== 1) this.fail(RECORD_LINE);
    const record = json as { participant?: unknown; case?: unknown };
    if (keys[0] === 'participant') this.participant(record.participant);
    else this.caseLine(record.case);
  }

  tooLong(): never {
    this.lineNumber += 1;
    return this.fail(`longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB; one record a line`);
  }

  end(): void {
    if (this.phase === 'version') {
      this.lineNumber = 1;
      this.fail(VERSION_LINE);
    }
    if (this.phase === 'participants') this.closeParticipants();
    const repeat = this.caseRepeat();
    if (repeat) this.failRepeat(repeat);
    this.flush();
  }

  // CaseloadKeys: a JSON Lines file takes keys now and judges them later (see KeyLog).
  participantId(participantId: ParticipantId): string | null {
    this.ids?.add(Number(participantId));
    return null;
  }

  ssn(ssn: string): string | null {
    this.ssns?.add(Number(ssn));
    return null;
  }

  caseNumber(caseNumber: CaseNumber): string | null {
    this.caseNumbers.add(caseKey(caseNumber));
    return null;
  }

  party(participantId: ParticipantId): string | null {
    return contains(this.participantIds, Number(participantId)) ? null : `no participant ${participantId}`;
  }

  private versionLine(text: string): void {
    const json = this.json(text);
    if (typeof json !== 'object' || json === null || Array.isArray(json) || !('version' in json)) this.fail(VERSION_LINE);
    const stray = Object.keys(json).find((key) => key !== 'version');
    if (stray !== undefined) this.fail(VERSION_LINE);
    const version = readVersion((json as { version: unknown }).version, 'version', [2]);
    if (!version.ok) this.fail(`${version.error} (a .jsonl file is version 2)`);
    this.phase = 'participants';
  }

  private participant(value: unknown): void {
    if (this.phase === 'cases') this.fail(`participant after the cases (line ${this.firstCaseLine}); participants come first`);
    const result = parseParticipantRecord(value, 'participant', 2, this);
    if (!result.ok) this.fail(result.error);
    this.add('participants', result.record);
    this.participantCount += 1;
  }

  private caseLine(value: unknown): void {
    if (this.phase === 'participants') {
      this.closeParticipants();
      this.flush();
      this.firstCaseLine = this.lineNumber;
    }
    const result = parseCaseRecord(value, 'case', 2, this);
    if (!result.ok) this.fail(result.error);
    this.add('cases', result.record);
    this.caseCount += 1;
  }

  private add(kind: 'participants', item: ParsedParticipant): void;
  private add(kind: 'cases', item: ParsedCase): void;
  private add(kind: CaseloadBatch['kind'], item: ParsedParticipant | ParsedCase): void {
    const items: (ParsedParticipant | ParsedCase)[] = kind === 'participants' ? this.participants : this.cases;
    if (items.length === 0) {
      this.batchFirstIndex = kind === 'participants' ? this.participantCount : this.caseCount;
      this.batchFirstLine = this.lineNumber;
    }
    items.push(item);
    if (items.length >= this.batchSize) this.flush();
  }

  // Participants are flushed when the first case comes, so at most one of the two is pending.
  private flush(): void {
    const first = { firstIndex: this.batchFirstIndex, firstLine: this.batchFirstLine };
    if (this.participants.length > 0) this.ready.push({ kind: 'participants', items: this.participants, ...first });
    if (this.cases.length > 0) this.ready.push({ kind: 'cases', items: this.cases, ...first });
    this.participants = [];
    this.cases = [];
  }

  // The participants are all read: judge their keys; cases need only the sorted IDs from now on.
  private closeParticipants(): void {
    const repeat = this.participantRepeat();
    if (repeat) this.failRepeat(repeat);
    this.phase = 'cases';
  }

  private participantRepeat(): Repeat | null {
    if (this.ids === null || this.ssns === null) return null;
    const sortedIds = this.ids.sorted();
    const idRepeat = this.ids.firstRepeat(sortedIds);
    // A log with no repeat is let go before the next is sorted, so two logs and two copies are never held at once.
    if (idRepeat === null) {
      this.participantIds = sortedIds;
      this.ids = null;
    }
    const ssnRepeat = this.ssns.firstRepeat();
    if (ssnRepeat === null) this.ssns = null;
    if (idRepeat === null && ssnRepeat === null) return null;
    // A participant's ID is read before its SSN, so on one line the ID is the first bad field.
    const id = idRepeat !== null && (ssnRepeat === null || idRepeat.index <= ssnRepeat.index);
    const repeat = id ? idRepeat : (ssnRepeat as { index: number; first: number });
    return { line: 2 + repeat.index, first: 2 + repeat.first, field: id ? 'participant.participantId' : 'participant.ssn' };
  }

  private caseRepeat(): Repeat | null {
    const repeat = this.caseNumbers.firstRepeat();
    return repeat && { line: this.firstCaseLine + repeat.index, first: this.firstCaseLine + repeat.first, field: 'case.caseNumber' };
  }

  private failRepeat(repeat: Repeat): never {
    throw new CaseloadFileError(`line ${repeat.line}: ${repeat.field}: duplicate of line ${repeat.first}`);
  }

  // Every key logged so far comes from this line or an earlier one, so a duplicate among them is
  // an earlier bad field than this line's.
  private fail(message: string): never {
    const repeat = this.phase === 'participants' ? this.participantRepeat() : this.phase === 'cases' ? this.caseRepeat() : null;
    if (repeat) this.failRepeat(repeat);
    throw new CaseloadFileError(`line ${this.lineNumber}: ${message}`);
  }

  // JSON.parse's own message can quote the text around the mistake, which may hold an SSN or PIN.
  private json(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (error) {
      const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
      return this.fail(position === undefined ? 'not valid JSON' : `not valid JSON (column ${Number(position) + 1})`);
    }
  }
}
