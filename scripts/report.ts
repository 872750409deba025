// npm run report -- --out FILE.html [--records FILE.jsonl] [--from WHEN] [--to WHEN] [--csv FILE.csv]
// Writes the call-outcome report (docs/operations.md): one HTML page that opens offline and,
// with --csv, the same calls as CSV, from the call records the line keeps in its Redis (or from
// a JSON Lines file). Records hold nothing personal, so neither do these files.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import type { CallRecord } from '../src/domain/call-record.ts';
import { callRecordsCsv } from '../src/reports/call-csv.ts';
import { callRecordsFromJsonLines, type CallRecordSource } from '../src/reports/call-record-source.ts';
import { callReportHtml } from '../src/reports/call-report.ts';
import type { ReportPeriod } from '../src/reports/call-stats.ts';
import { formatInstant, pacificMidnight } from '../src/reports/pacific.ts';
import { describeTopology, openStore } from '../src/store/index.ts';

const USAGE = `Usage: npm run report -- --out FILE.html [--records FILE.jsonl] [--from WHEN] [--to WHEN] [--csv FILE.csv]

Writes the call-outcome report: one HTML page with charts and tables that opens without a
network, and with --csv one row per call. Hours and days are Pacific time. The calls are the
records the line keeps in the Redis its configuration names (REDIS_URL, REDIS_CLUSTER_NODES or
REDIS_SENTINELS, with REDIS_PREFIX), or those of a --records file.

Options:
  --out FILE.html    where the page goes (required)
  --records FILE     read the call records from this file, one JSON CallRecord per line, not from Redis
  --from WHEN        start of the period, included (default: 7 days before --to)
  --to WHEN          end of the period, not included (default: now)
  --csv FILE.csv     also write the period's calls as CSV
  -h, --help         this text

WHEN is a day, 2025-11-03 (its midnight, Pacific time), or an ISO 8601 time with a zone,
2025-11-03T08:00:00-08:00 or 2025-11-03T16:00:00Z. --from 2025-11-03 --to 2025-11-10 is the
seven days from November 3 to 9.`;

const DEFAULT_DAYS = 7;
const DAY_MS = 86_400_000;
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Wrong options: said in one line, exit 2. */
class UsageError extends Error {}

type Options = { out: string; records: string | null; csv: string | null; period: ReportPeriod };

const NO_STORE =
  'no --records file and no Redis configured: set REDIS_URL (or REDIS_CLUSTER_NODES, or REDIS_SENTINELS and REDIS_SENTINEL_NAME) ' +
  'and REDIS_PREFIX as the line has them, or give --records FILE';

function instant(option: string, text: string): Date {
  const midnight = pacificMidnight(text);
  if (midnight) return midnight;
  if (ZONED_TIME.test(text) && !Number.isNaN(Date.parse(text))) return new Date(text);
  throw new UsageError(`--${option} must be a day (2025-11-03) or an ISO time with a zone (2025-11-03T08:00:00-08:00), not "${text}"`);
}

function readOptions(argv: string[], now: Date): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, records: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, csv: { type: 'string' } },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.split('\n')[0] : String(error));
  }
  if (!values.out) throw new UsageError('--out FILE.html is required');
  const to = values.to === undefined ? now : instant('to', values.to);
  const from = values.from === undefined ? new Date(to.getTime() - DEFAULT_DAYS * DAY_MS) : instant('from', values.from);
  if (from.getTime() >= to.getTime()) throw new UsageError(`--from (${formatInstant(from)}) must be before --to (${formatInstant(to)})`);
  return { out: values.out, records: values.records ?? null, csv: values.csv ?? null, period: { from, to } };
}

/** Where this run's calls come from: the file named, or the line's store, read by start time. */
async function recordSource(options: Options): Promise<{ source: CallRecordSource; close(): Promise<void>; where: string | null }> {
  if (options.records !== null) return { source: callRecordsFromJsonLines(options.records), close: async () => {}, where: null };
  const config = loadConfig();
  if (!config.redis) throw new UsageError(NO_STORE);
  const store = await openStore(config);
  return { source: (from, to) => store.callRecords(from, to), close: () => store.close(), where: `${describeTopology(config.redis)} (prefix ${config.redisPrefix})` };
}

async function write(path: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, 'utf8');
  } catch (error) {
    throw new Error(`cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function report(options: Options, now: Date): Promise<string> {
  const { from, to } = options.period;
  const records: CallRecord[] = [];
  const { source, close, where } = await recordSource(options);
  try {
    for await (const record of source(from, to)) records.push(record);
  } finally {
    await close();
  }
  await write(options.out, callReportHtml(records, options.period, { generatedAt: now }));
  if (options.csv) await write(options.csv, callRecordsCsv(records, options.period));
  const files = options.csv ? `${options.out} and ${options.csv}` : options.out;
  const calls = `${records.length} call${records.length === 1 ? '' : 's'} from ${formatInstant(from)} to ${formatInstant(to)}`;
  return `${calls}${where ? ` in ${where}` : ''}: wrote ${files}`;
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
} else {
  try {
    const now = new Date();
    process.stdout.write(`${await report(readOptions(argv, now), now)}\n`);
  } catch (error) {
    // One line: the options, the records file or the output, never a stack for a known failure.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`report: ${message}${error instanceof UsageError ? ' (npm run report -- --help)' : ''}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
