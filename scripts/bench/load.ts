// npm run bench:load [-- options] — how the nightly load of a state-sized caseload goes (spec
// section 12: "loads with memory that does not grow with the file, in minutes, and calls in
// progress keep working during the load").
//
// It generates a made-up caseload (npm run caseload -- generate: 2,000,000 participants and
// 1,000,000 cases by default, 3 payments a case, 60% with a pinHash), loads the first thousand of
// its participants as "yesterday's" caseload, starts the line in a process of its own
// (scripts/bench/line-server.ts) with simulated callers logging in to those participants at a
// caller's pace, and then loads the whole file with the real loader in a process of its own
// (npm run seed, under /usr/bin/time -v when there is one). It reports the load's wall time, the
// loading process's peak RSS, Redis's memory per participant (INFO used_memory before and after),
// and the callers' answer times during the load; then the time a version 1 file of plaintext PINs
// takes per thousand PINs (bcrypt on the loader's threads). Every key goes under a unique prefix,
// unlinked in batches at the end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loginOf } from '../caseload-generator.ts';
import { runCli } from '../cli.ts';
import { Phone } from '../../src/simulator/phone.ts';
import { BenchProcess } from './bench-process.ts';
import { deleteKeysUnder } from './delete-keys.ts';
import { fmt, latency, progress, thousands, type Latency } from './figures.ts';

const USAGE = `Usage: npm run bench:load -- [options]

Loads a generated state-sized caseload with the real loader (npm run seed) while the line answers
simulated callers, and reports the load's wall time, the loader's peak RSS, Redis memory per
participant and the callers' answer times during the load; then plaintext PINs per thousand.

Options:
  --participants N  participants to generate (default 2000000; cases are half as many)
  --file FILE.jsonl load this caseload instead of generating one (npm run caseload -- generate)
  --callers C       simulated callers in flight during the load (default 8), each logging in
                    (participant ID and PIN), hearing the balance and hanging up, again and again
  --think MS        pause between a caller's key presses, MS ± 50 % (default 1000)
  --pins P          then a version 1 file of P participants with plaintext PINs (default 2000; 0 skips)
  --own-redis       start a throwaway redis-server for the bench instead of using REDIS_URL (a
                    shared Redis does not want millions of keys, even for minutes)
  --keep            keep the generated files (their directory is printed)
  --json            print the results as JSON
  --strict          exit 3 when a goal is missed
  -h, --help        this text

Goals: the load under 5 minutes, the loading process under 300 MB peak RSS, no caller's answer
slower than 2 s during the load. Redis: REDIS_URL, else redis://127.0.0.1:6379 (or --own-redis).`;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AUTH_TOKEN = 'bench-load-auth-token-52c1';
const SSN_HASH_KEY = 'bench-load-ssn-hash-key';
/** Tuesday 24 November 2026, 10:00 Pacific: inside representatives' hours. */
const PINNED_AT = '2026-11-24T18:00:00.000Z';
/** The generator's options, for `loginOf`: the seed and PIN share the file is generated with. */
const GENERATED = { seed: '1', pinShare: 0.6 } as const;
/** Participants in the caseload loaded before (the first of the file, so they are in both). */
const BEFORE = 1_000;
const GOALS = { loadSeconds: 300, peakRssMb: 300, slowestAnswerMs: 2_000 } as const;

type Options = {
  participants: number;
  file: string | null;
  callers: number;
  thinkMs: number;
  pins: number;
  ownRedis: boolean;
  keep: boolean;
  json: boolean;
  strict: boolean;
};

function readOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      participants: { type: 'string', default: '2000000' },
      file: { type: 'string' },
      callers: { type: 'string', default: '8' },
      think: { type: 'string', default: '1000' },
      pins: { type: 'string', default: '2000' },
      'own-redis': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const whole = (name: string, text: string, min: number): number => {
    if (!/^\d+$/.test(text) || Number(text) < min) throw new Error(`--${name} must be a whole number of at least ${min}, not "${text}"`);
    return Number(text);
  };
  if (values.file !== undefined && !values.file.endsWith('.jsonl')) throw new Error('--file must be a .jsonl caseload (npm run caseload -- generate)');
  return {
    participants: whole('participants', values.participants, BEFORE * 2),
    file: values.file ?? null,
    callers: whole('callers', values.callers, 0),
    thinkMs: whole('think', values.think, 0),
    pins: whole('pins', values.pins, 0),
    ownRedis: values['own-redis'],
    keep: values.keep,
    json: values.json,
    strict: values.strict,
  };
}

type Child = { code: number | null; stdout: string; stderr: string; wallMs: number };

/** Runs a script of ours in a process of its own (under /usr/bin/time -v when `timed`), stdout and stderr captured. */
function runScript(script: string, args: string[], env: Record<string, string>, timed = false): Promise<Child> {
  const node = [process.execPath, '--import', 'tsx', script, ...args];
  const [command, ...rest] = timed && existsSync('/usr/bin/time') ? ['/usr/bin/time', '-v', ...node] : node;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command!, rest, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr, wallMs: performance.now() - started }));
  });
}

/** A redis-server of the bench's own on a free port, keeping nothing on disk; stopped by its PID. */
async function throwawayRedis(): Promise<{ url: string; stop(): void }> {
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`redis-server could not start: ${error.message}`))));
  const url = `redis://127.0.0.1:${port}`;
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  };
  process.once('exit', stop);
  for (let tries = 0; tries < 100; tries++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    const up = await Promise.race([probe.connect().then(() => probe.ping()).then(() => true, () => false), failed]);
    probe.disconnect();
    if (up) return { url, stop };
    await sleep(50);
  }
  stop();
  throw new Error(`redis-server on port ${port} did not answer`);
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? NaN);
}

/** The first `count` participant lines of a JSON Lines caseload, as a caseload of their own. */
async function firstParticipants(path: string, count: number, out: string): Promise<string[]> {
  const lines: string[] = [];
  const reader = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of reader) {
    if (lines.length === 0 ? line !== '{"version":2}' : !line.startsWith('{"participant":')) break;
    lines.push(line);
    if (lines.length > count) break;
  }
  reader.close();
  await writeFile(out, `${lines.join('\n')}\n`);
  return lines.slice(1).map((line) => (JSON.parse(line) as { participant: { participantId: string } }).participant.participantId);
}

/** A version 1 document of `count` made-up participants with plaintext PINs and no cases. */
async function plaintextPins(count: number, out: string): Promise<void> {
  const address = { line1: '1 Main Street', line2: null, city: 'Stockton', state: 'CA', zip: '95202' };
  const participants = Array.from({ length: count }, (_, i) => ({
    participantId: String(1_000_000_000 + i), ssn: String(900_000_000 + i), pin: String(100_000 + ((i * 7919) % 900_000)),
    firstName: `First${i}`, lastName: 'Okafor', language: 'en', mailingAddress: address,
  }));
  await writeFile(out, JSON.stringify({ version: 1, participants, cases: [] }));
}

type Answer = { at: number; ms: number };
type Callers = { answers: Answer[]; errors: string[]; stop(): Promise<void> };

/** Callers logging in to `people` (ID and PIN), hearing the balance and hanging up, until stopped. */
function startCallers(url: string, people: { id: string; pin: string }[], count: number, thinkMs: number): Callers {
  const answers: Answer[] = [];
  const errors: string[] = [];
  let stopping = false;
  let next = 0;
  const think = () => (thinkMs > 0 ? sleep(thinkMs * (0.5 + Math.random())) : Promise.resolve());
  const one = async () => {
    while (!stopping) {
      const person = people[next++ % people.length]!;
      const phone = new Phone({ baseUrl: url, authToken: AUTH_TOKEN, from: '+19165550143' });
      const timed = async (act: () => Promise<void>) => {
        const at = performance.now();
        await act();
        answers.push({ at, ms: performance.now() - at });
        if (phone.applicationErrors.length) throw new Error(phone.applicationErrors.map((e) => `${e.status ?? 'no answer'}: ${e.reason}`).join('; '));
      };
      try {
        await timed(() => phone.dial());
        for (const keys of ['1', '1', `${person.id}#`, `${person.pin}#`]) {
          await think();
          await timed(() => phone.press(keys));
        }
        if (!phone.heardSinceLastInput().includes('Account menu.')) throw new Error(`${person.id} did not reach the account menu`);
        await think();
        await timed(() => phone.press('1'));
        await timed(() => phone.hangup());
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
        await phone.hangup().catch(() => {});
      }
      await think();
    }
  };
  const running = Array.from({ length: count }, one);
  return {
    answers,
    errors,
    stop: async () => {
      stopping = true;
      await Promise.all(running);
    },
  };
}

type Report = {
  machine: { cpus: number; cpuModel: string; node: string };
  participants: number;
  cases: number;
  fileBytes: number;
  generatedSeconds: number | null;
  load: { seconds: number; loaderSeconds: number; peakRssMb: number | null; summary: string };
  redis: { beforeBytes: number; afterBytes: number; bytesPerParticipant: number };
  calls: { callers: number; thinkMs: number; before: Latency & { answers: number }; during: Latency & { answers: number }; errors: number; firstErrors: string[] };
  pins: { count: number; seconds: number; secondsPerThousand: number; threads: number } | null;
  goals: { loadUnder5Minutes: boolean; rssUnder300Mb: boolean; noAnswerOver2s: boolean };
};

const mb = (bytes: number) => bytes / 1024 / 1024;

function print(report: Report): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const { load, redis, calls, pins, goals } = report;
  out(`Load benchmark: ${thousands(report.participants)} participants and ${thousands(report.cases)} cases, ${fmt(mb(report.fileBytes), 0)} MB of JSON Lines` +
    (report.generatedSeconds === null ? '' : ` (generated in ${fmt(report.generatedSeconds)} s)`));
  out(`machine: ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}`);
  out();
  out(`  the load (npm run seed, a process of its own)  ${fmt(load.seconds)} s wall, ${fmt(load.loaderSeconds)} s by its own count   goal < ${GOALS.loadSeconds} s: ${mark(goals.loadUnder5Minutes)}`);
  out(`  peak RSS of the loading process               ${load.peakRssMb === null ? 'unknown (no /usr/bin/time)' : `${fmt(load.peakRssMb)} MB`}   goal < ${GOALS.peakRssMb} MB: ${mark(goals.rssUnder300Mb)}`);
  out(`  Redis memory (used_memory)                    ${fmt(mb(redis.beforeBytes))} MB → ${fmt(mb(redis.afterBytes))} MB: ${fmt(redis.bytesPerParticipant, 0)} bytes per participant (with their cases)`);
  out(`  callers (${calls.callers}, ${calls.thinkMs} ms ± 50 % between key presses), answer times in ms:`);
  for (const [name, l] of [['before the load', calls.before], ['during the load', calls.during]] as const) {
    out(`    ${name.padEnd(16)} ${thousands(l.answers).padStart(6)} answers   p50 ${fmt(l.p50)}   p90 ${fmt(l.p90)}   p99 ${fmt(l.p99)}   max ${fmt(l.max)}`);
  }
  out(`    slowest during the load ${fmt(calls.during.max)} ms   goal none over ${GOALS.slowestAnswerMs} ms: ${mark(goals.noAnswerOver2s)};  calls that went wrong: ${calls.errors}`);
  for (const error of calls.firstErrors) out(`      ${error}`);
  if (pins) {
    out(`  plaintext PINs (a version 1 file)             ${thousands(pins.count)} PINs in ${fmt(pins.seconds)} s: ${fmt(pins.secondsPerThousand)} s per thousand (bcrypt on ${pins.threads} thread${pins.threads === 1 ? '' : 's'})`);
  }
  out(`  Summary line of the load: ${load.summary}`);
}

async function main(options: Options): Promise<number> {
  let ownRedis: { stop(): void; url: string } | null = null;
  if (options.ownRedis) {
    ownRedis = await throwawayRedis();
    progress(`a throwaway redis-server at ${ownRedis.url}`);
  }
  const redisUrl = ownRedis?.url ?? (process.env.REDIS_URL || 'redis://127.0.0.1:6379');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on('error', () => {});
  const prefix = `bench-load:${randomBytes(6).toString('hex')}:`;
  const dir = await mkdtemp(join(tmpdir(), 'bench-load-'));
  let line: BenchProcess | null = null;
  let callers: Callers | null = null;
  try {
    await redis.ping();
    // 1. The caseload, and yesterday's: its first participants.
    let file = options.file;
    let generatedSeconds: number | null = null;
    if (!file) {
      file = join(dir, 'caseload.jsonl');
      progress(`generating ${thousands(options.participants)} participants into ${file} …`);
      const generated = await runScript('scripts/caseload.ts', ['generate', '--participants', String(options.participants), '--out', file, '--seed', GENERATED.seed, '--pin-share', String(GENERATED.pinShare)], {});
      if (generated.code !== 0) throw new Error(`npm run caseload -- generate failed: ${generated.stderr.trim()}`);
      generatedSeconds = generated.wallMs / 1000;
    }
    const fileBytes = (await stat(file)).size;
    const before = join(dir, 'before.jsonl');
    const ids = await firstParticipants(file, BEFORE, before);
    const people = ids.flatMap((id) => {
      const login = loginOf(id, GENERATED);
      return login?.pin ? [{ id, pin: login.pin }] : [];
    });
    if (people.length === 0) throw new Error(`none of the first ${BEFORE} participants of ${file} has a PIN by seed ${GENERATED.seed}: generate the file with --seed ${GENERATED.seed}`);
    const seedEnv = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, SSN_HASH_KEY, NODE_ENV: 'development' };
    const first = await runScript('scripts/seed.ts', [before], seedEnv);
    if (first.code !== 0) throw new Error(`loading the caseload before failed: ${first.stderr.trim()}`);

    // 2. The line, and callers at a caller's pace.
    line = await BenchProcess.start({ roles: ['line'], line: { redisUrl, prefix, authToken: AUTH_TOKEN, at: PINNED_AT, profileDir: null, ssnHashKey: SSN_HASH_KEY } });
    const url = line.info.line!.url;
    progress(`line on ${url} (pid ${line.info.pid}); ${options.callers} callers logging in to ${people.length} participants; keys under ${prefix}`);
    callers = startCallers(url, people, options.callers, options.thinkMs);
    await sleep(Math.max(5_000, options.thinkMs * 6));
    const loadStarts = performance.now();
    const beforeBytes = await usedMemory(redis);

    // 3. The load.
    progress(`loading ${file} (${fmt(mb(fileBytes), 0)} MB) with npm run seed …`);
    const loaded = await runScript('scripts/seed.ts', [file], seedEnv, true);
    const loadEnds = performance.now();
    const answers = callers.answers.slice();
    await callers.stop();
    const calls = callers;
    callers = null;
    if (loaded.code !== 0) throw new Error(`the load failed (exit ${loaded.code}): ${loaded.stderr.trim()}`);
    const afterBytes = await usedMemory(redis);
    const summary = loaded.stdout.trim();
    const counted = /^Loaded ([\d,]+) participants? and ([\d,]+) cases? from .* in ([\d.]+) s/.exec(summary);
    if (!counted) throw new Error(`the load's summary is not what it should be: ${summary}`);
    const [participants, cases, loaderSeconds] = counted.slice(1).map((n) => Number(n!.replace(/,/g, ''))) as [number, number, number];
    const rssKb = /Maximum resident set size \(kbytes\): (\d+)/.exec(loaded.stderr)?.[1];
    const during = answers.filter((a) => a.at >= loadStarts && a.at < loadEnds);
    const beforeLoad = answers.filter((a) => a.at < loadStarts);
    await line.close();
    line = null;

    // 4. Plaintext PINs: bcrypt at the configured cost (BCRYPT_COST, default 10), under a prefix of their own.
    let pins: Report['pins'] = null;
    if (options.pins > 0) {
      const pinFile = join(dir, 'pins.json');
      await plaintextPins(options.pins, pinFile);
      progress(`loading ${thousands(options.pins)} plaintext PINs …`);
      const hashed = await runScript('scripts/seed.ts', [pinFile], { ...seedEnv, REDIS_PREFIX: `${prefix}pins:` });
      if (hashed.code !== 0) throw new Error(`the PIN load failed: ${hashed.stderr.trim()}`);
      const seconds = Number(/ in ([\d.]+) s/.exec(hashed.stdout)?.[1] ?? NaN);
      pins = { count: options.pins, seconds, secondsPerThousand: seconds / (options.pins / 1000), threads: Math.max(1, availableParallelism() - 1) };
    }

    const peakRssMb = rssKb ? Number(rssKb) / 1024 : null;
    const duringLatency = latency(during.map((a) => a.ms));
    const report: Report = {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.versions.node },
      participants, cases, fileBytes, generatedSeconds,
      load: { seconds: loaded.wallMs / 1000, loaderSeconds, peakRssMb, summary },
      redis: { beforeBytes, afterBytes, bytesPerParticipant: (afterBytes - beforeBytes) / participants },
      calls: {
        callers: options.callers, thinkMs: options.thinkMs,
        before: { ...latency(beforeLoad.map((a) => a.ms)), answers: beforeLoad.length },
        during: { ...duringLatency, answers: during.length },
        errors: calls.errors.length, firstErrors: [...new Set(calls.errors)].slice(0, 5),
      },
      pins,
      goals: {
        loadUnder5Minutes: loaded.wallMs / 1000 < GOALS.loadSeconds,
        rssUnder300Mb: peakRssMb !== null && peakRssMb < GOALS.peakRssMb,
        noAnswerOver2s: during.length > 0 && duringLatency.max < GOALS.slowestAnswerMs && calls.errors.length === 0,
      },
    };
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else print(report);
    return options.strict && Object.values(report.goals).some((met) => !met) ? 3 : 0;
  } finally {
    await callers?.stop().catch(() => {});
    await line?.close().catch(() => {});
    progress(`deleting the keys under ${prefix} …`);
    const deleted = await deleteKeysUnder(redis, prefix).catch((error: unknown) => {
      progress(`could not delete the keys under ${prefix}: ${error instanceof Error ? error.message : String(error)}`);
      return 0;
    });
    progress(`deleted ${thousands(deleted)} keys`);
    redis.disconnect();
    ownRedis?.stop();
    if (options.keep) progress(`the files are in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

runCli(USAGE, readOptions, main, { exit: 'when-idle' });
