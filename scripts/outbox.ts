// npm run outbox [-- --out DIR] [--once | --watch] [--consumer NAME] [--min-idle SECONDS]
// The print-and-mail job: prints each pending letter of the outbox in the Redis the line uses
// (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS) to DIR as <letterId>.txt, marks it sent, and
// says so in one line (never the PIN). Safe to stop anywhere and run again, and to run twice at once.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DEV_PIN_LETTER_KEY, loadConfig, type Config } from '../src/config.ts';
import { renderLetter } from '../src/domain/letters.ts';
import { RedisStore, openStore } from '../src/store/index.ts';
import { printAndMail, type LetterOutcome, type PrintSummary } from '../src/jobs/print-and-mail.ts';
import { DEFAULT_MIN_IDLE_MS, RedisOutbox } from '../src/store/outbox.ts';

const USAGE =
  'Usage: npm run outbox [-- --out DIR] [--once | --watch] [--consumer NAME] [--min-idle SECONDS]\n' +
  '  --out DIR           where the letters go, one <letterId>.txt each (default var/letters)\n' +
  '  --once              print what is pending and exit (the default)\n' +
  '  --watch             keep looking for new letters every few seconds, until stopped\n' +
  '  --consumer NAME     this job\'s name in the print-and-mail consumer group (default host-pid)\n' +
  `  --min-idle SECONDS  take over letters another run has held this long (default ${DEFAULT_MIN_IDLE_MS / 1000})`;

const NO_REDIS =
  'REDIS_URL is not set (nor REDIS_CLUSTER_NODES or REDIS_SENTINELS), so there is no outbox to print: the mail outbox lives in the Redis the line uses ' +
  '(the in-process store keeps its letters inside the running line). Set REDIS_URL=redis://host:port.';

const WATCH_INTERVAL_MS = 5_000;

type Options = { out: string; watch: boolean; consumer: string; minIdleMs: number };

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: 'var/letters' },
      once: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      consumer: { type: 'string', default: `${hostname()}-${process.pid}` },
      'min-idle': { type: 'string', default: String(DEFAULT_MIN_IDLE_MS / 1000) },
    },
  });

function options(argv: string[]): Options {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  if (values.once && values.watch) throw new Error(`--once and --watch do not go together\n${USAGE}`);
  if (!/^\d+(\.\d+)?$/.test(values['min-idle'])) throw new Error(`--min-idle must be a number of seconds\n${USAGE}`);
  if (!values.out || !values.consumer) throw new Error(USAGE);
  return { out: values.out, watch: values.watch, consumer: values.consumer, minIdleMs: Math.round(Number(values['min-idle']) * 1000) };
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function line(outcome: LetterOutcome): string {
  const where = [outcome.city, outcome.zip].filter(Boolean).join(' ');
  const about = `${outcome.letterId}  ${outcome.kind}  ${outcome.language ?? '-'}  ${where || '-'}`;
  if (outcome.result === 'failed') return `FAILED  ${about}: ${outcome.reason}`;
  return `sent    ${about}${outcome.result === 'found-printed' ? '  (file printed by an earlier run)' : ''}`;
}

function summaryLine(total: PrintSummary, out: string, minIdleMs: number): string {
  const parts = [`${count(total.printed, 'letter')} printed and sent`];
  if (total.foundPrinted) parts.push(`${total.foundPrinted} printed by an earlier run, now sent`);
  parts.push(`${total.failed} failed`);
  let text = `Outbox: ${parts.join(', ')}; letters are in ${out}.`;
  if (total.stillPending) {
    text += ` ${count(total.stillPending, 'letter')} still pending (failed here, or held by another run:` +
      ` taken over once idle for ${minIdleMs / 1000} s).`;
  }
  return text;
}

async function run(argv: string[], config: Config): Promise<PrintSummary> {
  const opts = options(argv);
  if (!config.redis) throw new Error(NO_REDIS);
  if (config.pinLetterKey === DEV_PIN_LETTER_KEY) process.stderr.write('warning: PIN_LETTER_KEY is unset: PIN letters are opened with the fixed development key\n');

  const store = await openStore(config);
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  try {
    if (!(store instanceof RedisStore)) throw new Error('expected a Redis store');
    const outbox = new RedisOutbox(store.redis, config.redisPrefix, { minIdleMs: opts.minIdleMs, retentionDays: config.retention.sentDays });
    const skip = new Set<string>();
    const total: PrintSummary = { printed: 0, foundPrinted: 0, failed: 0, stillPending: 0 };
    do {
      const pass = await printAndMail(outbox, {
        outDir: opts.out,
        consumer: opts.consumer,
        render: (letter, date) => renderLetter(letter, { pinLetterKey: config.pinLetterKey, date }),
        skip,
        signal: stop.signal,
        onLetter: (outcome) => process.stdout.write(`${line(outcome)}\n`),
      });
      total.printed += pass.printed;
      total.foundPrinted += pass.foundPrinted;
      total.failed += pass.failed;
      total.stillPending = pass.stillPending;
      if (opts.watch && !stop.signal.aborted) await sleep(WATCH_INTERVAL_MS, undefined, { signal: stop.signal }).catch(() => {});
    } while (opts.watch && !stop.signal.aborted);
    process.stdout.write(`${summaryLine(total, opts.out, opts.minIdleMs)}\n`);
    return total;
  } finally {
    await store.close();
  }
}

try {
  if (process.argv.includes('--help')) process.stdout.write(`${USAGE}\n`);
  else if ((await run(process.argv.slice(2), loadConfig())).failed > 0) process.exitCode = 1;
} catch (error) {
  // The message alone: none of these carries a PIN (failures per letter are scrubbed of digits).
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
