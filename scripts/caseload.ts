// npm run caseload -- generate … | login ID — made-up caseload files of any size for loading and
// load-testing the line (docs/caseload.md), and the log-in of any participant in them.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { GENERATE_DEFAULTS, MAX_PARTICIPANTS, generateCaseload, loginOf, type GenerateOptions, type Login, type Progress } from './caseload-generator.ts';
import { runCli } from './cli.ts';

const USAGE = `Usage: npm run caseload -- generate --participants N --out FILE.jsonl [options]
       npm run caseload -- login ID [--seed S] [--pin-share P]

generate   writes a made-up caseload in the JSON Lines form (version 2): N participants and
           N/2 cases, streamed to FILE.jsonl. The same options give the same file.
  --participants N   how many people (2 to ${MAX_PARTICIPANTS.toLocaleString('en-US')})
  --out FILE.jsonl   where to write it (replaced when the file is complete)
  --seed S           which made-up people (default ${GENERATE_DEFAULTS.seed})
  --pin-share P      the share of participants with a PIN, 0 to 1 (default ${GENERATE_DEFAULTS.pinShare}); the rest have none yet
  --cost C           bcrypt cost of the PIN hashes, 4 to 15 (default ${GENERATE_DEFAULTS.cost})
  --as-of DATE       the Pacific date payments and appointments are placed around (default today)

login      prints the SSN and PIN a participant of a generated file logs in with: give the
           --seed and --pin-share the file was generated with.

SSNs all start with 9, which the Social Security Administration never issues.`;

type Options =
  | ({ command: 'generate'; out: string } & GenerateOptions)
  | { command: 'login'; participantId: string; seed: string; pinShare: number };

function number(text: string, name: string, valid: (n: number) => boolean, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !valid(n)) throw new Error(`--${name} must be ${what}, not "${text}"`);
  return n;
}

const todayInCalifornia = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' }).format(new Date());

function readOptions(): Options | null {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      participants: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: GENERATE_DEFAULTS.seed },
      'pin-share': { type: 'string', default: String(GENERATE_DEFAULTS.pinShare) },
      cost: { type: 'string', default: String(GENERATE_DEFAULTS.cost) },
      'as-of': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const [command, ...rest] = positionals;
  const pinShare = number(values['pin-share'], 'pin-share', (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
  if (command === 'login') {
    if (rest.length !== 1 || !/^\d{10}$/.test(rest[0] as string)) throw new Error('login takes one participant ID (10 digits)');
    return { command, participantId: rest[0] as string, seed: values.seed, pinShare };
  }
  if (command !== 'generate') throw new Error(command === undefined ? 'Say what to do: generate or login' : `Unknown command "${command}"`);
  if (rest.length > 0) throw new Error(`generate takes no ${rest.join(' ')}`);
  if (values.participants === undefined) throw new Error('generate needs --participants N');
  if (values.out === undefined || !values.out.endsWith('.jsonl')) throw new Error('generate needs --out FILE.jsonl (the JSON Lines form)');
  const asOf = values['as-of'] ?? todayInCalifornia();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(`${asOf}T12:00:00Z`))) throw new Error(`--as-of must be a date like 2026-11-26, not "${asOf}"`);
  return {
    command,
    out: values.out,
    participants: number(values.participants, 'participants', (n) => Number.isInteger(n) && n >= 2 && n <= MAX_PARTICIPANTS, `a whole number from 2 to ${MAX_PARTICIPANTS}`),
    seed: values.seed,
    pinShare,
    cost: number(values.cost, 'cost', (n) => Number.isInteger(n) && n >= 4 && n <= 15, 'a whole number from 4 to 15'),
    asOf,
  };
}

const thousands = (n: number) => n.toLocaleString('en-US');
const size = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

function describe(login: Login, why = true): string {
  const pin = login.pin === null ? `no PIN${why ? ' (must use Forgot my PIN)' : ''}` : `PIN ${login.pin}`;
  return `participant ${login.participantId}: SSN ${login.ssn}, ${pin}${login.resetPin ? ' (marked resetPin)' : ''}`;
}

async function generate(options: Extract<Options, { command: 'generate' }>): Promise<number> {
  const started = performance.now();
  const showProgress = process.stderr.isTTY === true;
  const progress = ({ participants, cases }: Progress) => {
    const total = options.participants + Math.floor(options.participants / 2);
    process.stderr.write(`\r${thousands(participants)} participants, ${thousands(cases)} cases (${Math.floor(((participants + cases) / total) * 100)}%)   `);
  };
  // Written beside the target and renamed when complete: a cut-off file could still be a valid caseload.
  const partial = `${options.out}.partial`;
  const out = createWriteStream(partial);
  let summary;
  try {
    summary = await generateCaseload(options, out, showProgress ? progress : undefined);
    out.end();
    await finished(out);
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    throw error;
  }
  await rename(partial, options.out);
  if (showProgress) process.stderr.write('\r\x1b[K');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `Wrote ${thousands(summary.participants)} participants and ${thousands(summary.cases)} cases to ${options.out} ` +
      `(${size(summary.bytes)}) in ${seconds} s; seed ${options.seed}, as of ${options.asOf}; ` +
      `log-ins: npm run caseload -- login ID --seed ${options.seed}${options.pinShare === GENERATE_DEFAULTS.pinShare ? '' : ` --pin-share ${options.pinShare}`}\n`,
  );
  if (process.stdout.isTTY) {
    process.stdout.write('Sample log-ins (made-up people):\n');
    for (const sample of summary.samples) process.stdout.write(`  ${describe(sample, false)}  — ${sample.shows}\n`);
  }
  return 0;
}

async function main(options: Options): Promise<number> {
  if (options.command === 'generate') return generate(options);
  const login = loginOf(options.participantId, options);
  if (login === null) {
    process.stderr.write(`${options.participantId} is not a participant of any caseload generated with seed ${options.seed}\n`);
    return 1;
  }
  const place = thousands(login.index + 1);
  process.stdout.write(`${describe(login)} (#${place} of seed ${options.seed}: in every file of ${place} or more participants generated with it)\n`);
  return 0;
}

runCli(USAGE, readOptions, main);
