// npm run report -- --out FILE.html --records FILE.jsonl [--from WHEN] [--to WHEN] [--csv FILE.csv]
// Writes the call-outcome report (docs/operations.md): one HTML page that opens offline and,
// with --csv, the same calls as CSV. Records hold nothing personal, so neither do these files.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { CallRecord } from '../src/domain/call-record.ts';
import { callRecordsCsv } from '../src/reports/call-csv.ts';
import { callRecordsFromJsonLines, type CallRecordSource } from '../src/reports/call-record-source.ts';
import { callReportHtml } from '../src/reports/call-report.ts';
import type { ReportPeriod } from '../src/reports/call-stats.ts';
import { formatInstant, pacificMidnight } from '../src/reports/pacific.ts';

const USAGE = `Usage: npm run report -- --out FILE.html --records FILE.jsonl [--from WHEN] [--to WHEN] [--csv FILE.csv]

Writes the call-outcome report: one HTML page with charts and tables that opens without a
network, and with --csv one row per call. Hours and days are Pacific time.

Options:
  --out FILE.html    where the page goes (required)
  --records FILE     the call records, one JSON CallRecord per line (required)
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

type Options = { out: string; records: string; csv: string | null; period: ReportPeriod };

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
  if (!values.records) throw new UsageError('--records FILE is required: the report reads call records from a JSON Lines file');
  const to = values.to === undefined ? now : instant('to', values.to);
  const from = values.from === undefined ? new Date(to.getTime() - DEFAULT_DAYS * DAY_MS) : instant('from', values.from);
  if (from.getTime() >= to.getTime()) throw new UsageError(`--from (${formatInstant(from)}) must be before --to (${formatInstant(to)})`);
  return { out: values.out, records: values.records, csv: values.csv ?? null, period: { from, to } };
}

/** Where this run's calls come from. */
function recordSource(options: Options): CallRecordSource {
  return callRecordsFromJsonLines(options.records);
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
  for await (const record of recordSource(options)(from, to)) records.push(record);
  await write(options.out, callReportHtml(records, options.period, { generatedAt: now }));
  if (options.csv) await write(options.csv, callRecordsCsv(records, options.period));
  const files = options.csv ? `${options.out} and ${options.csv}` : options.out;
  return `${records.length} call${records.length === 1 ? '' : 's'} from ${formatInstant(from)} to ${formatInstant(to)}: wrote ${files}`;
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
