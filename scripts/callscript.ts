// Call scripts in the terminal: how `npm run call` and `npm run calls` print a run, and the line
// they start in this process. Reading and playing a script is src/simulator/call-script.ts.

import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { loadConfig, type Config } from '../src/config.ts';
import { parseCaseloadJson } from '../src/domain/caseload-file.ts';
import { DEMO_CASELOAD_PATH, prepareCaseload } from '../src/domain/caseload-loader.ts';
import type { CaseloadStore, LoadedCaseload } from '../src/domain/caseload-store.ts';
import { holidayOn, PACIFIC, representativesAvailable } from '../src/domain/hours.ts';
import { jsonLogger, type Logger } from '../src/log.ts';
import { createLine } from '../src/server.ts';
import { MemoryCaseloadStore } from '../src/store/caseload-memory.ts';
import {
  CallScriptError,
  findCallScripts,
  loadCallScript,
  runCallScript,
  type CallScript,
  type CallScriptResult,
  type LineTarget,
  type Need,
  type RunEvent,
} from '../src/simulator/call-script.ts';
import { listenLocally } from './listen-locally.ts';

export type Paint = { dim(text: string): string; green(text: string): string; red(text: string): string; bold(text: string): string };
const ansi = (code: number) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;
export const COLOURS: Paint = { dim: ansi(2), green: ansi(32), red: ansi(31), bold: ansi(1) };
export const PLAIN: Paint = { dim: (t) => t, green: (t) => t, red: (t) => t, bold: (t) => t };

export function paintFor(stream: NodeJS.WriteStream): Paint {
  return stream.isTTY && !process.env.NO_COLOR ? COLOURS : PLAIN;
}

function stepLabel(script: CallScript, step: number | null): string {
  if (step === null) return '';
  const found = script.steps[step - 1];
  return found ? `step ${step} (${found.kind}, line ${found.line})` : `step ${step}`;
}

function indentLines(text: string, indent: string): string {
  return text.split('\n').join(`\n${indent}`);
}

export function formatEvent(event: RunEvent, script: CallScript, paint: Paint = PLAIN): string {
  switch (event.kind) {
    case 'line':
      return `  LINE    ${event.text}`;
    case 'caller':
      return paint.bold(`  CALLER  ${event.text}`);
    case 'system':
      return paint.dim(`  ·       ${event.text}`);
    case 'pass':
      return paint.green(`  ✓ ${event.step}  ${event.text}`);
    case 'fail': {
      const lines = [paint.red(`  ✗ ${event.step === null ? '' : stepLabel(script, event.step) + ': '}${event.text}`)];
      if (event.expected !== undefined) lines.push(`      expected: ${indentLines(event.expected, '                ')}`);
      if (event.heard !== undefined) lines.push(`      heard:    ${indentLines(event.heard, '                ')}`);
      return lines.join('\n');
    }
  }
}

export function formatHeader(script: CallScript): string {
  const details = [script.file, script.atText ? `line clock ${script.atText}` : null, script.from ? `from ${script.from}` : null].filter(Boolean).join(', ');
  return `▶ ${script.name}  (${details})`;
}

export function formatRun(result: CallScriptResult, paint: Paint = PLAIN): string {
  const lines = [formatHeader(result.script), ...result.events.map((event) => formatEvent(event, result.script, paint))];
  lines.push(result.passed ? paint.green(`PASS ${result.script.name}`) : paint.red(`FAIL ${result.script.name}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

export type LocalLine = LineTarget & {
  publicUrl: string;
  storeKind: string;
  /** The line's caseload (participants, cases and what callers did), for tests to look into. */
  caseload: CaseloadStore;
  /** The line's own JSON log lines, kept so a failing script can show them. */
  logs: string[];
  close(): Promise<void>;
};

export type LocalLineOptions = {
  /** Pins the line's clock: it starts at this instant and runs on with real time. */
  at?: Date;
  /** Keep REDIS_URL from the environment; otherwise the in-process demo store is used. */
  useRedis?: boolean;
  onLog?: (line: string) => void;
  logger?: Logger;
};

async function freePort(): Promise<number> {
  const probe: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

const preparedDemo = new Map<string, Promise<LoadedCaseload>>();

// The demo caseload, its SSNs and PINs hashed once per process: bcrypt at the line's cost takes
// seconds for every participant together, and each script gets a fresh line.
function demoCaseload(config: Config): Promise<LoadedCaseload> {
  const key = `${config.ssnHashKey}\n${config.bcryptCost}`;
  let prepared = preparedDemo.get(key);
  if (!prepared) {
    prepared = readFile(DEMO_CASELOAD_PATH, 'utf8').then((text) => {
      const parsed = parseCaseloadJson(text);
      if (!parsed.ok) throw new Error(`${DEMO_CASELOAD_PATH}: ${parsed.error}`);
      return prepareCaseload(parsed.caseload, config);
    });
    preparedDemo.set(key, prepared);
  }
  return prepared;
}

/** Starts the line in this process on a free local port, as `npm start` would but for one test. */
export async function startLocalLine(options: LocalLineOptions = {}): Promise<LocalLine> {
  const port = await freePort();
  const env: Record<string, string | undefined> = { ...process.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, NODE_ENV: 'development' };
  if (!options.useRedis) delete env.REDIS_URL;
  const config = loadConfig(env);
  const logs: string[] = [];
  const logger = options.logger ?? jsonLogger((line) => {
    logs.push(line);
    options.onLog?.(line);
  });
  const { at } = options;
  const startedAt = performance.now();
  const clock = at ? () => new Date(at.getTime() + (performance.now() - startedAt)) : undefined;
  const caseload = config.redis ? undefined : new MemoryCaseloadStore(config.retention);
  if (caseload) await caseload.replaceCaseload(await demoCaseload(config));
  const line = await createLine({ config, logger, ...(clock ? { clock } : {}), ...(caseload ? { caseload } : {}) });
  const { baseUrl, close } = await listenLocally(line, port);
  return {
    baseUrl,
    publicUrl: config.publicUrl,
    authToken: config.twilioAuthToken,
    storeKind: line.store.kind,
    caseload: line.caseload,
    logs,
    close,
  };
}

// ---------------------------------------------------------------------------------------------

/** What the line a script is played against can promise. */
export type LineConditions = {
  /** The line's clock starts at the script's `at` (an in-process line); otherwise it is `now`. */
  clockPinned: boolean;
  /** The caseload is the demo caseload as loaded, untouched by any earlier call. */
  freshCaseload: boolean;
  /** The line's clock when it is not pinned, as this computer sees it. */
  now: Date;
  /** Leave out scripts that change the caseload. */
  readOnly: boolean;
};

// An office-hours script is played only if the hours do not change while it runs (a call takes seconds).
const HOURS_MARGIN_MS = 2 * 60_000;

const pacificDay = new Intl.DateTimeFormat('en-US', { timeZone: PACIFIC, weekday: 'long', month: 'long', day: 'numeric' });
const pacificClock = new Intl.DateTimeFormat('en-US', { timeZone: PACIFIC, hour: 'numeric', minute: '2-digit' });

/** "Tuesday, December 1, 9:47 PM Pacific", and the holiday if it is one. */
function describeMoment(instant: Date): string {
  const holiday = holidayOn(instant);
  const clock = pacificClock.format(instant).replace(/\s+/g, ' ');
  return `${pacificDay.format(instant)}, ${clock} Pacific${holiday ? `, ${holiday}` : ''}`;
}

export type SkipReason = {
  /** The need the line cannot meet, or `changes` when --read-only leaves out a script that changes the caseload. */
  because: Need | 'changes';
  why: string;
};

/** Why a script cannot be played faithfully on this line (null: it can). */
export function whySkip(script: CallScript, line: LineConditions): SkipReason | null {
  if (line.readOnly && script.changes.includes('caseload')) {
    return { because: 'changes', why: 'it changes the caseload (changes: caseload), and --read-only leaves such scripts out' };
  }
  if (!line.freshCaseload && script.needs.includes('fresh-caseload')) {
    return { because: 'fresh-caseload', why: 'it needs a caseload no earlier call has changed (needs: fresh-caseload), and this line keeps what earlier calls did' };
  }
  if (line.clockPinned) return null;
  if (script.needs.includes('pinned-clock')) {
    return { because: 'pinned-clock', why: `it needs the line's clock at ${script.atText} (needs: pinned-clock), and a running line keeps its own clock` };
  }
  for (const [need, open] of [['office-hours', true], ['outside-office-hours', false]] as const) {
    if (!script.needs.includes(need)) continue;
    const later = new Date(line.now.getTime() + HOURS_MARGIN_MS);
    const side = open ? 'in office hours' : 'outside office hours';
    if (representativesAvailable(line.now) !== open) return { because: need, why: `it needs the line's clock ${side} (needs: ${need}), and it is ${describeMoment(line.now)}` };
    if (representativesAvailable(later) !== open) {
      return { because: need, why: `it needs the line's clock ${side} (needs: ${need}), and office hours ${open ? 'end' : 'begin'} within ${HOURS_MARGIN_MS / 60_000} minutes` };
    }
  }
  return null;
}

const SKIPPED_BECAUSE: Readonly<Record<SkipReason['because'], string>> = {
  'pinned-clock': "they need the line's clock at their at: (needs: pinned-clock), and a running line keeps its own clock",
  'office-hours': "they need the line's clock in office hours (needs: office-hours), and it is not",
  'outside-office-hours': "they need the line's clock outside office hours (needs: outside-office-hours), and it is not",
  'fresh-caseload': 'they need a caseload no earlier call has changed (needs: fresh-caseload), and this line keeps what earlier calls did',
  changes: 'they change the caseload (changes: caseload), and --read-only leaves them out',
};

export type PlayOptions = {
  paths: readonly string[];
  /** A line that is already running (`--url`); without it each script gets a fresh in-process line. */
  running?: LineTarget;
  /** In-process lines use REDIS_URL (whose caseload keeps what earlier calls did) instead of the demo store. */
  useRedis?: boolean;
  readOnly?: boolean;
  /** Print the transcripts of failing scripts only. */
  quiet?: boolean;
  out?: (text: string) => void;
  paint?: Paint;
  /** The running line's clock as this computer sees it. */
  now?: () => Date;
};

export type PlaySummary = {
  total: number;
  passed: string[];
  failed: string[];
  skipped: { script: string; reason: SkipReason }[];
};

/** Plays call scripts, prints what happened, and counts: `npm run calls`, and tests of a running line. */
export async function playCallScripts(options: PlayOptions): Promise<PlaySummary> {
  const out = options.out ?? ((text: string) => void process.stdout.write(`${text}\n`));
  const paint = options.paint ?? PLAIN;
  const now = options.now ?? (() => new Date());
  const files = await findCallScripts(options.paths);
  const summary: PlaySummary = { total: files.length, passed: [], failed: [], skipped: [] };
  const running = options.running ?? null;
  const conditions = (): LineConditions => ({
    clockPinned: running === null,
    freshCaseload: running === null && !options.useRedis,
    now: now(),
    readOnly: options.readOnly ?? false,
  });
  if (running) out(paint.dim(`Calling the line at ${running.baseUrl}\n`));
  else out(paint.dim(`Each script calls a fresh in-process line (${options.useRedis ? 'REDIS_URL' : 'the in-process demo store'}).\n`));

  for (const file of files) {
    let script: CallScript;
    try {
      script = await loadCallScript(file);
    } catch (error) {
      if (!(error instanceof CallScriptError)) throw error;
      out(`${paint.red(`✗ ${error.message}`)}\n`);
      summary.failed.push(file);
      continue;
    }
    const label = `${script.name} (${file})`;
    const reason = whySkip(script, conditions());
    if (reason) {
      out(`${paint.dim(`○ SKIP ${label}: ${reason.why}`)}\n`);
      summary.skipped.push({ script: label, reason });
      continue;
    }
    const buffered: string[] = [];
    const print = (text: string) => {
      if (options.quiet) buffered.push(text);
      else out(text);
    };
    const local = running ? null : await startLocalLine({ ...(script.at ? { at: script.at } : {}), useRedis: options.useRedis ?? false });
    try {
      print(formatHeader(script));
      const result = await runCallScript(script, running ?? local!, { onEvent: (event) => print(formatEvent(event, script, paint)) });
      if (result.passed) {
        summary.passed.push(label);
      } else {
        summary.failed.push(label);
        if (options.quiet) out(buffered.join('\n'));
        const problems = local?.logs.filter((line) => !line.includes('"level":"info"')) ?? [];
        if (problems.length > 0) out(paint.dim(`  the line logged:\n    ${problems.join('\n    ')}`));
      }
      out(`${result.passed ? paint.green(`PASS ${script.name}`) : paint.red(`FAIL ${script.name}`)}\n`);
    } finally {
      await local?.close();
    }
  }

  out(paint.bold(`${files.length} call script${files.length === 1 ? '' : 's'}${running ? ` against ${running.baseUrl}` : ''}`));
  const counts = new Map<SkipReason['because'], number>();
  for (const { reason } of summary.skipped) counts.set(reason.because, (counts.get(reason.because) ?? 0) + 1);
  for (const [because, count] of counts) out(paint.dim(`  ${count} skipped: ${SKIPPED_BECAUSE[because]}`));
  for (const name of summary.failed) out(paint.red(`  ✗ ${name}`));
  out(paint.bold(`${summary.passed.length} passed, ${summary.failed.length} failed, ${summary.skipped.length} skipped`));
  return summary;
}
