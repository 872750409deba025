// npm run seed -- FILE — loads a caseload file (docs/caseload.md) into the Redis the configuration
// names (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS), replacing the agency's side of the
// caseload there. A bad file, a Redis that goes away, a load killed half-way: each changes nothing.
// On a terminal it shows progress; in a pipe or from cron it prints one summary line.
import { performance } from 'node:perf_hooks';
import { DEV_SSN_HASH_KEY, loadConfig, type Config } from '../src/config.ts';
import { CaseloadFileProblem, loadCaseloadFile, type LoadProgress } from '../src/domain/caseload-loader.ts';
import { LoadAbandonedError, type LoadReport } from '../src/domain/caseload-store.ts';
import { RedisCaseloadStore } from '../src/store/caseload-redis.ts';
import { RedisStore, describeTopology, openStore } from '../src/store/index.ts';

const USAGE = `Usage: npm run seed -- FILE

Loads a caseload file (docs/caseload.md: .json, or .jsonl for any size) into the Redis named by
REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS, under REDIS_PREFIX, replacing the agency's
side of the caseload there; what callers did on the line is kept. A bad file changes nothing.
The line and the seed must share SSN_HASH_KEY, or no SSN will match.

  npm run seed -- src/domain/demo-caseload.json     # the demo caseload
  -h, --help                                        this text`;

const NO_REDIS =
  'REDIS_URL is not set (nor REDIS_CLUSTER_NODES or REDIS_SENTINELS), so there is nothing to seed: without it the line uses its in-process store, ' +
  'which loads the demo caseload (src/domain/demo-caseload.json) by itself at start. ' +
  'Set REDIS_URL=redis://host:port to load FILE into that Redis.';

/** How often the progress line is redrawn on a terminal. */
const PROGRESS_EVERY_MS = 250;

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const count = (n: number, noun: string, plural = `${noun}s`) => `${thousands(n)} ${n === 1 ? noun : plural}`;

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${String(Math.ceil(seconds % 60)).padStart(2, '0')} s`;
}

/** One progress line: records so far, their rate, and the time left (from the share of the file read). */
export function progressLine(progress: LoadProgress, elapsedMs: number): string {
  const records = progress.participants + progress.cases;
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? records / seconds : 0;
  const share = progress.totalBytes > 0 ? Math.min(1, progress.bytesRead / progress.totalBytes) : 0;
  const left = share > 0 && share < 1 ? `, about ${duration((seconds * (1 - share)) / share)} left` : '';
  return `Loading: ${count(progress.participants, 'participant')} and ${count(progress.cases, 'case')} (${Math.floor(share * 100)}% of the file), ${thousands(rate)} records/s${left}`;
}

/** The load's one line: counts, time, and what it did to the line's side (the report). */
function summaryLine(path: string, prefix: string, report: LoadReport, seconds: number): string {
  return `Loaded ${count(report.participants, 'participant')} and ${count(report.cases, 'case')} from ${path} (prefix ${prefix}) in ${seconds.toFixed(2)} s; ` +
    `the line's records: ${count(report.paymentsConfirmed, 'card payment')} confirmed, ` +
    `${count(report.confirmationMismatches, 'confirmation code')} on another case, ` +
    `${count(report.phonesRetired, 'phone update')} and ${count(report.pinsRetired, 'PIN')} retired`;
}

/** Each confirmation code the file lists on another case than the line took it on: the line's payment stays, for reconciliation. */
function mismatchLines(report: LoadReport): string[] {
  const lines = report.mismatches.map((m) =>
    `warning: confirmation code ${m.confirmationCode}, a card payment the line took on case ${m.lineCase}, is on case ${m.fileCase} in the file: the line's payment stays on ${m.lineCase}; reconcile it`);
  const more = report.confirmationMismatches - report.mismatches.length;
  if (more > 0) lines.push(`warning: and ${count(more, 'more confirmation code')} on another case`);
  return lines;
}

class Progress {
  private readonly started = performance.now();
  private drawnAt = 0;
  private drawn = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(progress: LoadProgress): void {
    const now = performance.now();
    if (now - this.drawnAt < PROGRESS_EVERY_MS) return;
    this.drawnAt = now;
    this.drawn = true;
    this.out.write(`\r\x1b[K${progressLine(progress, now - this.started)}`);
  }

  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}

async function seed(path: string | undefined, config: Config): Promise<void> {
  if (!path) throw new Error(USAGE);
  if (!config.redis) throw new Error(NO_REDIS);
  // The SSN hash must be keyed as the line that reads the caseload keys it, or no SSN will match.
  if (config.ssnHashKey === DEV_SSN_HASH_KEY) process.stderr.write('warning: SSN_HASH_KEY is unset: SSNs are hashed with the fixed development key\n');

  const started = performance.now();
  // Connect (and fail) before hashing: with a large file bcrypt alone can take minutes.
  const store = await openStore(config);
  const progress = process.stdout.isTTY ? new Progress(process.stdout) : null;
  try {
    if (!(store instanceof RedisStore)) throw new Error('expected a Redis store');
    let report: LoadReport;
    try {
      report = await loadCaseloadFile(path, new RedisCaseloadStore(store.redis, config.redisPrefix, config.retention), config, (p) => progress?.update(p));
    } catch (error) {
      if (error instanceof CaseloadFileProblem || error instanceof LoadAbandonedError) throw error;
      // The client's message says what went wrong; a load that never switched in changed nothing.
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${describeTopology(config.redis)} failed during the load (${reason}): nothing was changed, the caseload loaded before still serves; load the file again once Redis answers`);
    } finally {
      progress?.clear();
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${summaryLine(path, config.redisPrefix, report, seconds)}\n`);
    for (const line of mismatchLines(report)) process.stderr.write(`${line}\n`);
  } finally {
    await store.close();
  }
}

const [file] = process.argv.slice(2);
if (file === '--help' || file === '-h') {
  process.stdout.write(`${USAGE}\n`);
} else {
  try {
    await seed(file, loadConfig());
  } catch (error) {
    // The message alone: loader errors name the file and the bad field, never an SSN or PIN.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
