// From a caseload file to the store: read it batch by batch (a `.jsonl` file is never held
// whole), hash each SSN, hash each PIN given in clear (a `pinHash` is kept as it is), and write
// each batch into a new generation. Only when the whole file was read and found good is it
// switched in, so a bad file, or a load that dies, leaves the loaded caseload serving.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BcryptGate } from './bcrypt-gate.ts';
import type { CaseloadStore, LoadReport, LoadedCaseload, LoadedParticipant } from './caseload-store.ts';
import type { ParsedCaseload, ParsedParticipant } from './caseload-file.ts';
import { CaseloadFileError, readCaseloadFile } from './caseload-stream.ts';
import { ssnHash } from './crypto.ts';

export const DEMO_CASELOAD_PATH = fileURLToPath(new URL('./demo-caseload.json', import.meta.url));

export type CaseloadSecrets = { ssnHashKey: string; bcryptCost: number };

/** How far a load has got, for a progress line. */
export type LoadProgress = { participants: number; cases: number };

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

export async function loadCaseloadFile(
  path: string,
  store: CaseloadStore,
  secrets: CaseloadSecrets,
  onProgress?: (progress: LoadProgress) => void,
): Promise<LoadReport> {
  const gate = loaderGate();
  const load = await store.beginLoad();
  const progress: LoadProgress = { participants: 0, cases: 0 };
  try {
    for await (const batch of readCaseloadFile(path)) {
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
    await load.abandon();
    if (error instanceof CaseloadFileError) throw new Error(`${path}: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error)}`);
  }
  return load.commit();
}
