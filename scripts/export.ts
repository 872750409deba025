// npm run export -- --out DIR | --unconfirmed — the agency's export (spec section 12) from the
// Redis the line uses (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS): every change the line
// recorded since the last export, as JSON Lines files in DIR (src/jobs/export.ts); or the card
// payments no caseload file has confirmed, for reconciliation. Safe to stop anywhere and run
// again, and to run twice at once. Never an SSN, a PIN, a hash or a card detail.
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../src/config.ts';
import type { UnconfirmedPayment } from '../src/domain/caseload-store.ts';
import { creditedDate, formatMoney } from '../src/domain/money.ts';
import { DEFAULT_PER_FILE, exportChanges, type ExportSummary, type ExportedFile } from '../src/jobs/export.ts';
import { RedisCaseloadStore } from '../src/store/caseload-redis.ts';
import { RedisStore, openStore } from '../src/store/index.ts';

/** A card payment no file has confirmed this long after it was taken is listed for reconciliation (docs/caseload.md). */
const UNCONFIRMED_AFTER_DAYS = 45;

const USAGE =
  'Usage: npm run export -- --out DIR [--per-file N]\n' +
  '       npm run export -- --unconfirmed [--days D]\n' +
  '  --out DIR        writes every change the line recorded since the last export (card payments, phone updates,\n' +
  '                   PIN events without the PIN, letters requested) as JSON Lines files in DIR, each named\n' +
  '                   line-changes_<after>_<last>.jsonl: the changes after the ID <after> up to the ID <last>;\n' +
  '                   a file is complete once it has its name (it is written under a name starting with ".")\n' +
  `  --per-file N     the most changes one file holds (default ${DEFAULT_PER_FILE})\n` +
  '  --unconfirmed    prints, as JSON Lines on stdout, the card payments the line took that no caseload file has\n' +
  `                   confirmed (by confirmation code, on that case) after D days (default ${UNCONFIRMED_AFTER_DAYS}), oldest first\n` +
  '  --help           this text\n' +
  'Each change appears in exactly one file, whatever runs stop half-way or run at once. Exported changes are\n' +
  'kept in Redis SENT_RETENTION_DAYS days, then dropped.';

const NO_REDIS =
  'REDIS_URL is not set (nor REDIS_CLUSTER_NODES or REDIS_SENTINELS), so there is nothing to export: the changes callers make are kept ' +
  'in the Redis the line uses (the in-process store keeps them inside the running line only, and loses them when it stops). ' +
  'Set REDIS_URL=redis://host:port.';

type Options = { mode: 'export'; out: string; perFile: number } | { mode: 'unconfirmed'; days: number };

function options(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        'per-file': { type: 'string', default: String(DEFAULT_PER_FILE) },
        unconfirmed: { type: 'boolean', default: false },
        days: { type: 'string', default: String(UNCONFIRMED_AFTER_DAYS) },
      },
    }));
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  if (values.unconfirmed) {
    if (values.out !== undefined) throw new Error(`--unconfirmed writes no files: leave out --out\n${USAGE}`);
    if (!/^\d{1,4}$/.test(values.days)) throw new Error(`--days must be a whole number of days\n${USAGE}`);
    return { mode: 'unconfirmed', days: Number(values.days) };
  }
  if (!values.out) throw new Error(`Say where the files go: --out DIR\n${USAGE}`);
  if (!/^[1-9]\d{0,6}$/.test(values['per-file'])) throw new Error(`--per-file must be a whole number from 1 to 9999999\n${USAGE}`);
  return { mode: 'export', out: values.out, perFile: Number(values['per-file']) };
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function fileLine(file: ExportedFile): string {
  return file.result === 'written' ? `written  ${file.file}  ${count(file.changes, 'change')}` : `found    ${file.file}  (written by an earlier or concurrent run)`;
}

function summaryLine(summary: ExportSummary, out: string): string {
  const written = summary.files.filter((f) => f.result === 'written').length;
  const found = summary.files.length - written;
  if (summary.files.length === 0) return `Export: no changes since the last export; nothing written to ${out}.`;
  return `Export: ${count(summary.changes, 'change')} in ${count(written, 'new file')} in ${out}` + (found ? `; ${count(found, 'file')} an earlier or concurrent run had written.` : '.');
}

/** One reconciliation line: what identifies the payment, never a card detail. */
function unconfirmedLine(p: UnconfirmedPayment): string {
  return JSON.stringify({
    caseNumber: p.caseNumber, confirmationCode: p.confirmationCode, amount: formatMoney(p.amount),
    receivedAt: p.receivedAt, creditedOn: creditedDate(new Date(p.receivedAt)), method: p.method,
  });
}

async function run(argv: string[], config: Config): Promise<void> {
  const opts = options(argv);
  if (!config.redis) throw new Error(NO_REDIS);
  const store = await openStore(config);
  try {
    if (!(store instanceof RedisStore)) throw new Error('expected a Redis store');
    const caseload = new RedisCaseloadStore(store.redis, config.redisPrefix, config.retention);
    if (opts.mode === 'unconfirmed') {
      const before = new Date(Date.now() - opts.days * 86_400_000);
      const payments = await caseload.unconfirmedPayments(before);
      for (const payment of payments) process.stdout.write(`${unconfirmedLine(payment)}\n`);
      process.stderr.write(`${count(payments.length, 'card payment')} taken before ${creditedDate(before)} that no caseload file has confirmed.\n`);
      return;
    }
    const summary = await exportChanges(caseload, {
      outDir: opts.out,
      perFile: opts.perFile,
      keepDays: config.retention.sentDays,
      onFile: (file) => process.stdout.write(`${fileLine(file)}\n`),
    });
    process.stdout.write(`${summaryLine(summary, opts.out)}\n`);
  } finally {
    await store.close();
  }
}

try {
  if (process.argv.includes('--help') || process.argv.includes('-h')) process.stdout.write(`${USAGE}\n`);
  else await run(process.argv.slice(2), loadConfig());
} catch (error) {
  // The message alone: none carries a PIN, an SSN or a card detail (a bad change is named by its ID).
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
