// From a caseload file to the store: read it batch by batch (a `.jsonl` file is never held
// whole), hash each SSN, hash each PIN given in clear (a `pinHash` is kept as it is), and write
// each batch into a new generation. Only when the whole file was read and found good is it
// switched in, so a bad file, or a load that dies, leaves the loaded caseload serving.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BcryptGate } from './bcrypt-gate.ts';
import type { CaseloadLoad, CaseloadStore, LoadReport, LoadedCaseload, LoadedParticipant } from './caseload-store.ts';
import type { ParsedCaseload, ParsedParticipant } from './caseload-file.ts';
import { CaseloadFileError, readCaseloadFile, readCaseloadLines, type CaseloadBatch } from './caseload-stream.ts';
import { ssnHash } from './crypto.ts';

export const DEMO_CASELOAD_PATH = fileURLToPath(new URL('./demo-caseload.json', import.meta.url));

export type CaseloadSecrets = { ssnHashKey: string; bcryptCost: number };

/** How far a load has got, for a progress line: records written, and bytes of the file read (of its size). */
export type LoadProgress = { participants: number; cases: number; bytesRead: number; totalBytes: number };

/** The file cannot be loaded (missing, unreadable, or not the format): the message names the file and the first bad field. */
export class CaseloadFileProblem extends Error {
  override readonly name = 'CaseloadFileProblem';
}

// bcrypt runs on libuv's thread pool; one hash per core but one keeps the event loop (reading,
// parsing, writing to Redis) and anything else on the machine going.
const loaderGate = () => new BcryptGate(Math.max(1, availableParallelism() - 1));

async function prepare(items: readonly ParsedParticipant[], secrets: CaseloadSecrets, gate: BcryptGate): Promise<LoadedParticipant[]> {
  return Promise.all(items.map(async ({ participant, ssn, pin, pinHash, resetPin }) => ({
    participant,
    ssnHash: ssnHash(ssn, secrets.ssnHashKey),
    // A version 2 file may carry the agency's bcrypt hash instead of the PIN: it is stored as it is.
    pinHash: pin === null ? pinHash : await gate.hash(pin, secrets.bcryptCost),
    resetPin,
  })));
}

export async function prepareCaseload(parsed: ParsedCaseload, secrets: CaseloadSecrets): Promise<LoadedCaseload> {
  return { participants: await prepare(parsed.participants, secrets, loaderGate()), cases: parsed.cases };
}

function fileProblem(path: string, error: unknown): CaseloadFileProblem {
  if (error instanceof CaseloadFileError) return new CaseloadFileProblem(`${path}: ${error.message}`);
  const code = (error as NodeJS.ErrnoException).code;
  return new CaseloadFileProblem(`${path}: ${code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error)}`);
}

/** A `.jsonl` file is streamed, counting the bytes read; a `.json` document is read whole (counted when read). */
async function* batchesOf(path: string, progress: LoadProgress): AsyncGenerator<CaseloadBatch> {
  if (!path.endsWith('.jsonl')) {
    for await (const batch of readCaseloadFile(path)) {
      progress.bytesRead = progress.totalBytes;
      yield batch;
    }
    return;
  }
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      progress.bytesRead += chunk.length;
      yield chunk;
    }
  }
  yield* readCaseloadLines(counted());
}

/**
 * Loads a caseload file into `store`, replacing the agency's side of it. A file that cannot be
 * loaded throws CaseloadFileProblem; anything else (the store failing) is thrown as it came. Either
 * way nothing is switched in: the caseload loaded before keeps serving.
 */
export async function loadCaseloadFile(
  path: string,
  store: CaseloadStore,
  secrets: CaseloadSecrets,
  onProgress?: (progress: LoadProgress) => void,
): Promise<LoadReport> {
  let totalBytes: number;
  try {
    totalBytes = (await stat(path)).size;
  } catch (error) {
    throw fileProblem(path, error);
  }
  const gate = loaderGate();
  const progress: LoadProgress = { participants: 0, cases: 0, bytesRead: 0, totalBytes };
  const reading = batchesOf(path, progress);
  // Begun at the first batch: a `.json` document is read and checked whole before anything is written.
  let load: CaseloadLoad | null = null;
  try {
    for (;;) {
      let next: IteratorResult<CaseloadBatch>;
      try {
        next = await reading.next();
      } catch (error) {
        throw fileProblem(path, error);
      }
      if (next.done) break;
      const batch = next.value;
      load ??= await store.beginLoad();
      if (batch.kind === 'participants') {
        await load.addParticipants(await prepare(batch.items, secrets, gate));
        progress.participants += batch.items.length;
      } else {
        await load.addCases(batch.items);
        progress.cases += batch.items.length;
      }
      onProgress?.(progress);
    }
  } catch (error) {
    await reading.return(undefined).catch(() => {});
    await load?.abandon();
    throw error;
  }
  load ??= await store.beginLoad();
  return load.commit();
}
