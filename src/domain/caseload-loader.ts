// From a caseload file to the store: parse, hash every SSN and PIN, then replace the caseload in
// one step. Nothing is written until the whole file has been parsed and hashed, so a bad file
// leaves the loaded caseload as it was.
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcrypt';
import type { CaseloadStore, LoadedCaseload, LoadedParticipant } from './caseload-store.ts';
import type { ParsedCaseload } from './caseload-file.ts';
import { CaseloadFileError, readWholeCaseload } from './caseload-stream.ts';
import { ssnHash } from './crypto.ts';

export const DEMO_CASELOAD_PATH = fileURLToPath(new URL('./demo-caseload.json', import.meta.url));

export type CaseloadSecrets = { ssnHashKey: string; bcryptCost: number };

// bcrypt's async API runs on libuv's threadpool (4 threads unless UV_THREADPOOL_SIZE says
// otherwise); more hashes at once would only queue there, ahead of file and DNS work.
const HASHES_AT_ONCE = 4;

async function mapWithLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function prepareCaseload(parsed: ParsedCaseload, secrets: CaseloadSecrets): Promise<LoadedCaseload> {
  const participants = await mapWithLimit(parsed.participants, HASHES_AT_ONCE, async ({ participant, ssn, pin, pinHash }): Promise<LoadedParticipant> => ({
    participant,
    ssnHash: ssnHash(ssn, secrets.ssnHashKey),
    // A version 2 file may carry the agency's bcrypt hash instead of the PIN: it is stored as it is.
    pinHash: pin === null ? pinHash : await bcrypt.hash(pin, secrets.bcryptCost),
  }));
  return { participants, cases: parsed.cases };
}

export async function loadCaseloadFile(path: string, store: CaseloadStore, secrets: CaseloadSecrets): Promise<{ participants: number; cases: number }> {
  let parsed: ParsedCaseload;
  try {
    parsed = await readWholeCaseload(path);
  } catch (error) {
    if (error instanceof CaseloadFileError) throw new Error(`${path}: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error)}`);
  }
  const caseload = await prepareCaseload(parsed, secrets);
  await store.replaceCaseload(caseload);
  return { participants: caseload.participants.length, cases: caseload.cases.length };
}
