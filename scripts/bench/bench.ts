// npm run bench [-- options] — how much traffic the line carries, against a bare Express app.
//
// Three kinds of process, each with an event loop, a heap and a garbage collector of its own
// (scripts/bench/bench-process.ts): the line (createLine on a RedisStore over real Redis, silent
// logger, pinned clock), the baseline (a bare Express 5 app that parses the urlencoded body and
// answers a fixed ~400-byte TwiML menu, no signature check: bare-app.ts), and the load
// generator(s) playing Twilio (load-generator.ts). This process only conducts and adds up.
//
// Why the load generator is built the way it is. On this 2-core machine the load generator and
// the servers share the cores, so what the client spends per webhook is taken from the server.
// The bench used to drive both servers with node:http's client, URL-encoding and signing every
// request as it went (URLSearchParams ~11 µs, the signature ~15 µs): 0.08-0.13 ms of CPU per
// webhook, two thirds of what the whole bare Express app needs (0.11-0.14 ms). The cheap bare app,
// which takes 4-5 times as many webhooks a second as the line, then ran short of CPU long before
// the line did, measured about half as fast as it is, and the ratio line/bare came out ~1.7 times
// too high. Now each call in flight has a raw keep-alive connection, bodies come from templates
// and signatures are computed before each measured round: ~0.03 ms per webhook (printed as
// "client ms"), against wrk's ~0.016 ms, and what this bench measures of the bare app comes within
// about 10 % of what wrk measures of it. --clients K spreads the calls over K load generator
// processes should one ever be the bottleneck.
//
// The box may be shared: each phase reports the CPU other processes used meanwhile (machine CPU
// minus server, load generators and Redis) and warns when it is not ~0; the line and the bare
// app are measured in alternating rounds of equal length, so a burst of outside work hits both.
//
// Figures: warm-ups (--warmup seconds, per server) are excluded. Latency is per webhook, from
// just before the request is written to the reply's last byte. The server's own view (arrival to
// reply handed to the socket), its CPU time and event-loop utilisation, the load generators' CPU
// time and Redis's CPU time (INFO cpu) are printed too.
//
// Then: the line at a caller's pace (--pace, 1 s ± 50 % between webhooks: the p99 aim), with
// --redis what the line asks of Redis per webhook and holds per live call, and the login mix
// (login-mix.ts).
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { runCli } from '../cli.ts';
import { fmt, latency, progress, thousands, type Latency } from './figures.ts';
import { BenchProcess } from './bench-process.ts';
import { deleteKeysUnder } from './delete-keys.ts';
import { Fleet, type Load, type Phase } from './fleet.ts';
import { lineConfig, type LineServerOptions } from './line-server.ts';
import type { RunResult } from './load-generator.ts';
import { loginMixErrors, measureLoginMix, printLoginMix, type LoginMixReport } from './login-mix.ts';
import type { Target } from './phase-meter.ts';
import { RedisTap, liveCallFootprint, type CommandCount, type Footprint } from './redis-accounting.ts';
import { CpuTally, RunTally, type Traffic } from './tally.ts';
import { WEBHOOKS_PER_CALL } from './walk.ts';

const USAGE = `Usage: npm run bench -- [options]

Drives the line (Redis store) and a bare Express app with simulated Twilio calls and compares them;
then the line at a caller's pace; then the login mix: callers logging in (bcrypt) beside menu-only
callers, whose latency it compares with and without the logins.

Options:
  --concurrency C   calls in flight (default 100)
  --calls N         calls to measure per server (each call is ${WEBHOOKS_PER_CALL} webhooks)
  --seconds S       seconds to measure per server (default 10 when --calls is not given; with
                    both, whichever ends first)
  --rounds R        split the measurement into R rounds, each a slice of the line then an equal
                    slice of the bare app (default 3)
  --warmup S        warm-up seconds per server, excluded from the figures (default 6: the
                    line's first rounds run slow after a shorter one)
  --think MS        pause between a call's webhooks in the comparison (MS ± 50 %; default 0: each
                    call posts its next webhook as soon as it has a reply, so latency = calls in
                    flight / throughput)
  --pace MS         then the line and the bare app with callers who pause MS ± 50 % between
                    webhooks, as people do (default 1000; 0 skips it): the p99 aim is judged here
  --pace-seconds S  seconds of that per server, in 2 rounds (default 8)
  --clients K       load generator processes sharing the calls in flight (default 1)
  --redis           also count the Redis commands and round trips of the line's webhooks (MONITOR,
                    one call at a time) and the bytes a live call holds in Redis (MEMORY USAGE)
  --inline          each server drives itself: the load generator on the server's event loop
                    (for comparison only: the client's work then counts as server time)
  --profile DIR     CPU-profile the servers during each measured phase (not the warm-ups) into
                    DIR/line-N.cpuprofile and DIR/bare-N.cpuprofile (the paced and login mix
                    slices are line-N too; the profiler costs some throughput); summarise with:
                    npx tsx scripts/bench/profile.ts DIR/line-*.cpuprofile
  --server-flags F  what-if: extra Node flags for the servers' processes, e.g. "--max-semi-space-size=32"
  --mix M           what to run: both (default: the comparison and the paced phase, then the login
                    mix), menus (without the login mix) or login (the login mix only)
  --login-callers L login mix: callers logging in, in flight (default 8), each: English, 1,
                    participant ID + #, PIN + # (1 call in 4 a wrong PIN first, then 1 to try again), balance, hang up
  --login-think MS  login mix: pause between a login caller's webhooks (default 0: the logins
                    keep bcrypt as busy as they can)
  --mix-think MS    login mix: pause between the menu-only callers' webhooks (default 200; they
                    are --concurrency in flight, walking the comparison's menus)
  --mix-seconds S   login mix: seconds per side, with and without logins (default 6)
  --mix-rounds R    login mix: rounds of menu callers alone, then with logins (default 2)
  --json            print the results as JSON (progress still goes to stderr)
  --strict          exit 3 when an aim is missed (errors always exit 1)
  -h, --help        this text

Redis: REDIS_URL, else redis://127.0.0.1:6379. Keys go under a unique bench:<random>: prefix,
deleted at the end with SCAN + UNLINK. The line's BCRYPT_COST (default 10) and SSN_HASH_KEY come
from the environment, as in production; set UV_THREADPOOL_SIZE to try another threadpool size.`;

const AUTH_TOKEN = 'bench-auth-token-3c91d0e2';
/** Tuesday 24 November 2026, 10:00 Pacific: inside representatives' hours. */
const PINNED_AT = '2026-11-24T18:00:00.000Z';
/**
 * The aims. Mind Little's law with no pause: every call always has a webhook outstanding, so
 * mean latency = calls in flight / throughput, and p99 ≤ 10 ms at 100 in flight would take more
 * than 10,000 webhooks/s. The p99 aim only means something with callers who pause, as real ones
 * do: it is judged on the paced phase.
 */
const AIMS = { throughputRatio: 0.6, p99Ms: 10, atConcurrency: 100 } as const;
/** --redis: calls walked one at a time and counted on the wire, and calls left live for MEMORY USAGE (after this many steps). */
const REDIS_CALLS = 40;
const LIVE_CALLS = 20;
const LIVE_AFTER_STEPS = 6;

type Options = {
  concurrency: number;
  calls: number | null;
  seconds: number | null;
  warmup: number;
  thinkMs: number;
  rounds: number;
  paceMs: number;
  paceSeconds: number;
  clients: number;
  redis: boolean;
  inline: boolean;
  profile: string | null;
  serverFlags: string[];
  mix: 'both' | 'menus' | 'login';
  loginCallers: number;
  loginThinkMs: number;
  mixThinkMs: number;
  mixSeconds: number;
  mixRounds: number;
  json: boolean;
  strict: boolean;
};

/** A pause in ms: "0" is none. */
function pause(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  return raw === '0' ? 0 : (positive(name, raw, false) ?? fallback);
}

function positive(name: string, raw: string | undefined, integer: boolean): number | null {
  if (raw === undefined) return null;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new Error(`--${name} must be a positive ${integer ? 'whole ' : ''}number, got "${raw}"`);
  return value;
}

function readOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string' },
      calls: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      think: { type: 'string' },
      rounds: { type: 'string' },
      pace: { type: 'string' },
      'pace-seconds': { type: 'string' },
      clients: { type: 'string' },
      redis: { type: 'boolean', default: false },
      inline: { type: 'boolean', default: false },
      profile: { type: 'string' },
      'server-flags': { type: 'string' },
      mix: { type: 'string' },
      'login-callers': { type: 'string' },
      'login-think': { type: 'string' },
      'mix-think': { type: 'string' },
      'mix-seconds': { type: 'string' },
      'mix-rounds': { type: 'string' },
      json: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const calls = positive('calls', values.calls, true);
  const seconds = positive('seconds', values.seconds, false) ?? (calls === null ? 10 : null);
  const warmup = values.warmup === '0' ? 0 : (positive('warmup', values.warmup, false) ?? 6);
  if (values.clients && values.inline) throw new Error('--clients sets the load generator processes: with --inline each server is its own');
  const mix = values.mix ?? 'both';
  if (mix !== 'both' && mix !== 'menus' && mix !== 'login') throw new Error(`--mix must be both, menus or login, got "${mix}"`);
  return {
    concurrency: positive('concurrency', values.concurrency, true) ?? 100,
    calls,
    seconds,
    warmup,
    thinkMs: pause('think', values.think, 0),
    rounds: positive('rounds', values.rounds, true) ?? 3,
    paceMs: pause('pace', values.pace, 1000),
    paceSeconds: positive('pace-seconds', values['pace-seconds'], false) ?? 8,
    clients: positive('clients', values.clients, true) ?? 1,
    redis: values.redis,
    inline: values.inline,
    profile: values.profile ?? null,
    serverFlags: (values['server-flags'] ?? '').split(/\s+/).filter(Boolean),
    mix,
    loginCallers: positive('login-callers', values['login-callers'], true) ?? 8,
    loginThinkMs: pause('login-think', values['login-think'], 0),
    mixThinkMs: pause('mix-think', values['mix-think'], 200),
    mixSeconds: positive('mix-seconds', values['mix-seconds'], false) ?? 6,
    mixRounds: positive('mix-rounds', values['mix-rounds'], true) ?? 2,
    json: values.json,
    strict: values.strict,
  };
}

// --- Measuring ------------------------------------------------------------------------------

type Measured = { target: Target } & Traffic & {
  webhooksPerSecond: number;
  /** Each round's webhooks/s, in order. */
  rounds: number[];
  latencyMs: Latency;
  serverHandledMs: Latency;
  avgReplyBytes: number;
  cpuMsPerWebhook: { server: number; client: number; redis: number | null };
  serverEventLoopUtilization: number;
  /** CPU the rest of the machine used meanwhile (not server, load generators or Redis), in cores: anything well above 0 skews the figures. */
  otherCores: number | null;
  /** The same, for the worst round. */
  otherCoresWorstRound: number | null;
  /** Webhooks the load generators signed while measuring rather than beforehand. */
  signedWhileMeasuring: number;
  profiles: string[];
};

/** One target's slices, added up over the rounds. */
class Pool {
  readonly runs = new RunTally();
  readonly cpu = new CpuTally();
  bytes = 0;
  signedInRun = 0;
  rounds: number[] = [];
  /** The measured windows (server begin to end), for CPU shares. */
  windowMs = 0;
  clientCpuMs = 0;
  profiles: string[] = [];

  constructor(readonly target: Target) {}

  add(slice: Phase<RunResult>): void {
    const { value: run, server } = slice;
    // The run's own clock (first webhook to last reply), not the IPC around it.
    this.runs.add(run);
    this.cpu.add(slice);
    this.bytes += run.bytes;
    this.signedInRun += run.signedInRun;
    this.rounds.push(run.requests / (run.wallMs / 1000));
    this.windowMs += slice.wallMs;
    this.clientCpuMs += slice.clientCpuMs;
    if (server.profile) this.profiles.push(server.profile);
  }

  figures(): Measured {
    const { runs, cpu } = this;
    const per = (ms: number): number => (runs.requests > 0 ? ms / runs.requests : NaN);
    return {
      target: this.target,
      ...runs.traffic(),
      webhooksPerSecond: runs.webhooksPerSecond,
      rounds: this.rounds,
      latencyMs: latency(runs.latencies),
      serverHandledMs: latency(cpu.handled),
      avgReplyBytes: runs.requests > 0 ? this.bytes / runs.requests : 0,
      cpuMsPerWebhook: { server: per(cpu.serverCpuMs), client: per(this.clientCpuMs), redis: cpu.redisCpuMs === null ? null : per(cpu.redisCpuMs) },
      serverEventLoopUtilization: cpu.serverBusyMs / this.windowMs,
      otherCores: cpu.otherMs === null ? null : cpu.otherMs / this.windowMs,
      otherCoresWorstRound: cpu.otherWorst,
      signedWhileMeasuring: this.signedInRun,
      profiles: this.profiles,
    };
  }
}

/** Walks calls ahead of a measured run need signing: about as many as the run will start, and some to spare. */
function callsToSign(load: Load, webhooksPerSecond: number): number {
  if (load.calls !== null) return load.calls;
  const rate = load.thinkMs > 0 ? Math.min(webhooksPerSecond, (load.concurrency * 1000) / load.thinkMs) : webhooksPerSecond;
  return Math.ceil((rate * (load.seconds ?? 0) * 2.5) / WEBHOOKS_PER_CALL) + load.concurrency;
}

type Rates = Record<Target, number>;

async function warmUp(fleet: Fleet, options: Options): Promise<Rates> {
  const rates: Rates = { line: NaN, bare: NaN };
  for (const target of ['line', 'bare'] as const) {
    // Warm-up is for the JIT and the connections, and learns the walk's paths: no think time.
    progress(`warming up ${target === 'line' ? 'the line' : 'the bare app'} for ${options.warmup} s…`);
    const warm = await fleet.run({ target, population: 'menus', concurrency: options.concurrency, thinkMs: 0, calls: options.warmup > 0 ? null : options.concurrency, seconds: options.warmup > 0 ? options.warmup : null });
    if (warm.errors > 0) progress(`  ${warm.errors} errors while warming up, e.g. ${warm.failures[0]}`);
    rates[target] = warm.requests / (warm.wallMs / 1000);
    // One whole walk per load generator, so each knows the paths to sign for.
    const loads = fleet.loadCount(target);
    await fleet.run({ target, population: 'menus', concurrency: loads, thinkMs: 0, calls: loads, seconds: null });
  }
  return rates;
}

/**
 * Alternates: a slice of the line, then an equal slice of the bare app, for `rounds` rounds.
 * Interleaving keeps a burst of someone else's work (the box is shared) from landing on one side
 * of the comparison only.
 */
async function alternate(fleet: Fleet, redis: Redis, rates: Rates, what: string, load: Omit<Load, 'target'>, rounds: number): Promise<{ line: Measured; bare: Measured }> {
  const pools = { line: new Pool('line'), bare: new Pool('bare') };
  for (let round = 1; round <= rounds; round += 1) {
    for (const target of ['line', 'bare'] as const) {
      const slice: Load = {
        ...load,
        target,
        calls: load.calls === null ? null : Math.floor((load.calls * round) / rounds) - Math.floor((load.calls * (round - 1)) / rounds),
        seconds: load.seconds === null ? null : load.seconds / rounds,
      };
      const limit = [slice.calls !== null ? `${slice.calls} calls` : '', slice.seconds !== null ? `${slice.seconds.toFixed(1)} s` : ''].filter(Boolean).join(' or ');
      progress(`${what} round ${round}/${rounds}: ${target === 'line' ? 'the line' : 'the bare app'} (${limit}, ${load.concurrency} in flight)…`);
      await fleet.prepare(target, callsToSign(slice, rates[target]));
      const measured = await fleet.measure(target, redis, () => fleet.run(slice));
      pools[target].add(measured);
      const seen = measured.value.requests / (measured.value.wallMs / 1000);
      if (Number.isFinite(seen)) rates[target] = Math.max(rates[target] || 0, seen);
    }
  }
  return { line: pools.line.figures(), bare: pools.bare.figures() };
}

type RedisReport = {
  /** Walked one at a time by a line process of its own, talking to Redis through RedisTap. */
  calls: number;
  webhooks: number;
  errors: number;
  commands: CommandCount;
  commandsPerWebhook: number;
  roundTripsPerWebhook: number;
  /** Calls left live after LIVE_AFTER_STEPS webhooks. */
  liveAfterWebhooks: number;
  live: Footprint;
};

async function measureRedis(fleet: Fleet, redis: Redis, lineOptions: LineServerOptions): Promise<RedisReport> {
  const tap = await RedisTap.start(lineOptions.redisUrl);
  const counted = await BenchProcess.start({ roles: ['line'], line: { ...lineOptions, redisUrl: tap.url, profileDir: null } }).catch(async (error: unknown) => {
    await tap.close();
    throw error;
  });
  let walked: RunResult;
  let commands: CommandCount;
  try {
    const url = counted.info.line?.url;
    if (!url) throw new Error('the counted line did not say where it listens');
    progress(`redis: ${REDIS_CALLS} calls, one at a time, at a line whose Redis connection is counted…`);
    // Its first calls load what it loads once; they are not counted.
    await fleet.run({ target: 'line', population: 'menus', concurrency: 1, thinkMs: 0, calls: 2, seconds: null }, { url });
    tap.reset();
    walked = await fleet.run({ target: 'line', population: 'menus', concurrency: 1, thinkMs: 0, calls: REDIS_CALLS, seconds: null }, { url });
    commands = tap.counts();
  } finally {
    await counted.close();
    await tap.close();
  }
  progress(`redis: ${LIVE_CALLS} calls left live after ${LIVE_AFTER_STEPS} webhooks, MEMORY USAGE of their keys…`);
  const held = await fleet.run({ target: 'line', population: 'menus', concurrency: LIVE_CALLS, thinkMs: 0, calls: LIVE_CALLS, seconds: null, steps: LIVE_AFTER_STEPS });
  const live = await liveCallFootprint(redis, lineOptions.prefix, held.liveCallSids);
  return {
    calls: walked.calls,
    webhooks: walked.requests,
    errors: walked.errors + held.errors,
    commands,
    commandsPerWebhook: commands.commands / walked.requests,
    roundTripsPerWebhook: commands.roundTrips / walked.requests,
    liveAfterWebhooks: LIVE_AFTER_STEPS,
    live,
  };
}

function redisHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}${parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : ''}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

// --- The report -----------------------------------------------------------------------------

type Report = {
  machine: { cpus: number; cpuModel: string; node: string; platform: string; loadAverageAtStart: number[] };
  redis: string;
  processes: { line: number; bare: number; loadGenerators: number[]; inline: boolean };
  bareReplyBytes: number;
  concurrency: number;
  warmupSeconds: number;
  thinkMs: number;
  rounds: number;
  whatIf: string[];
  /** The comparison (null with --mix login). */
  line: Measured | null;
  bare: Measured | null;
  ratio: number | null;
  /** Each round's line ÷ bare. */
  ratioByRound: number[];
  /** The line and the bare app with callers who pause (null with --pace 0 or --mix login). */
  paced: { thinkMs: number; line: Measured; bare: Measured } | null;
  aims: { throughput: boolean; throughputJudged: boolean; p99Ms: number | null; p99: boolean; p99Judged: boolean } | null;
  /** With --redis. */
  redisUse: RedisReport | null;
  /** The login mix (null with --mix menus). */
  loginMix: LoginMixReport | null;
};

function printTable(report: Report): void {
  const out = (text = ''): void => {
    process.stdout.write(`${text}\n`);
  };
  const f = fmt;
  const row = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(16) : cell.padStart(10))).join(' ');
  const name = (m: Measured): string => (m.target === 'line' ? 'line (Redis)' : 'bare Express');
  const { machine } = report;
  out();
  out('Customer Connect bench');
  out(`  machine      ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')} at start`);
  out(`  node         ${machine.node}`);
  out(`  redis        ${report.redis}`);
  const { processes: p } = report;
  out(`  processes    ${p.inline ? `line (pid ${p.line}) and bare app (pid ${p.bare}), each driving itself on its own event loop (--inline: comparison only)` : `line (pid ${p.line}), bare app (pid ${p.bare}), load generator${p.loadGenerators.length === 1 ? '' : 's'} (pid ${p.loadGenerators.join(', ')})`}`);
  out(`  baseline     Express 5, urlencoded body parsed, a fixed ${report.bareReplyBytes}-byte TwiML menu, no signature check`);
  if (report.whatIf.length > 0) out(`  WHAT-IF      ${report.whatIf.join('; ')} (not the line as shipped)`);
  const { line, bare, aims } = report;
  const latencyRows = (pair: Measured[]): void => {
    out(row(['', 'webhooks', 'webhooks/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors']));
    for (const m of pair) out(row([name(m), String(m.webhooks), f(m.webhooksPerSecond, 0), f(m.latencyMs.p50, 2), f(m.latencyMs.p90, 2), f(m.latencyMs.p99, 2), f(m.latencyMs.max, 2), String(m.errors)]));
  };
  const cpuRows = (pair: Measured[]): void => {
    out('  CPU ms per webhook (server, load generator, Redis), inside the servers (arrival → reply written, 1 in 8), CPUs used by other processes:');
    out(row(['', 'server ms', 'client ms', 'redis ms', 'loop busy', 'in p50 ms', 'in p99 ms', 'reply B', 'others']));
    for (const m of pair) {
      out(row([name(m), f(m.cpuMsPerWebhook.server, 3), f(m.cpuMsPerWebhook.client, 3), m.cpuMsPerWebhook.redis === null ? '—' : f(m.cpuMsPerWebhook.redis, 3), `${f(m.serverEventLoopUtilization * 100, 0)}%`, f(m.serverHandledMs.p50, 2), f(m.serverHandledMs.p99, 2), f(m.avgReplyBytes, 0), m.otherCores === null ? '—' : `${f(m.otherCores, 2)} cpu`]));
    }
  };
  const warnings = (pair: Measured[]): void => {
    for (const m of pair) {
      if (m.otherCoresWorstRound !== null && m.otherCoresWorstRound > 0.1) {
        out(`  warning: while the ${m.target === 'line' ? 'line' : 'bare app'} was measured, other processes used ${f(m.otherCores ?? NaN, 2)} of ${machine.cpus} cores (${f(m.otherCoresWorstRound, 2)} in the worst round): figures are skewed`);
      }
      if (m.profiles.length > 0) out(`  ${m.target} CPU profiles: ${m.profiles.join(' ')}`);
      for (const failure of m.failures) out(`  ${m.target} error: ${failure}`);
    }
  };
  const mark = (met: boolean): string => (met ? 'MET' : 'MISSED');
  if (line && bare && aims) {
    out();
    out(`The line against the bare Express app: ${report.concurrency} calls in flight, ${report.thinkMs > 0 ? `${report.thinkMs} ms ± 50 % between a call's webhooks` : 'no pause between webhooks'}`);
    out(`  ${WEBHOOKS_PER_CALL} webhooks a call, ${report.rounds} rounds line/bare of equal length, warm-up ${report.warmupSeconds} s each excluded`);
    out();
    latencyRows([line, bare]);
    out(row(['  by round', ...line.rounds.map((r, i) => `${f(r, 0)}/${f(bare.rounds[i] ?? NaN, 0)}`)]));
    out();
    cpuRows([line, bare]);
    out();
    out(`  throughput line/bare   ${f(report.ratio ?? NaN, 2)} (by round ${report.ratioByRound.map((r) => f(r, 2)).join(' ')})   aim ≥ ${AIMS.throughputRatio}   ${aims.throughputJudged ? mark(aims.throughput) : '(not judged: with --think the callers, not the servers, set the pace)'}`);
    warnings([line, bare]);
    const signed = line.signedWhileMeasuring + bare.signedWhileMeasuring;
    if (signed > 0) out(`  note: ${signed} webhooks were signed while measuring, not beforehand`);
  }
  if (report.paced) {
    const { paced } = report;
    out();
    out(`At a caller's pace: ${report.concurrency} calls in flight, ${paced.thinkMs} ms ± 50 % between a call's webhooks`);
    out();
    latencyRows([paced.line, paced.bare]);
    out();
    cpuRows([paced.line, paced.bare]);
    warnings([paced.line, paced.bare]);
  }
  if (aims) {
    out();
    out(`  line p99               ${aims.p99Ms === null ? '—' : `${f(aims.p99Ms, 2)} ms`}   aim ≤ ${AIMS.p99Ms} ms at ${AIMS.atConcurrency} calls in flight with callers who pause   ${aims.p99Judged ? mark(aims.p99) : '(not judged: no paced phase at 100 in flight)'}`);
  }
  if (report.redisUse) {
    const r = report.redisUse;
    out();
    out(`Redis, as the line uses it: ${r.calls} calls of the walk one at a time (${r.webhooks} webhooks), counted on the wire`);
    out(`  commands per webhook      ${f(r.commandsPerWebhook, 2)}   (${r.commands.byName.map((c) => `${c.name} ${f(c.count / r.webhooks, 2)}`).join(', ')})`);
    out(`  round trips per webhook   ${f(r.roundTripsPerWebhook, 2)}   (a round trip: what the line sends before it hears back)`);
    out(`  bytes per webhook         ${thousands(r.commands.bytesToRedis / r.webhooks)} to Redis, ${thousands(r.commands.bytesFromRedis / r.webhooks)} back`);
    out(`  bytes per live call       ${thousands(r.live.bytesPerCall)}   (${r.live.calls} calls held after ${r.liveAfterWebhooks} webhooks, ${f(r.live.keysPerCall, 1)} keys each: ${r.live.byKind.map((k) => `${k.kind} ${thousands(k.bytesPerCall)} B in ${f(k.keysPerCall, 1)}`).join(', ')}; MEMORY USAGE)`);
    if (r.errors > 0) out(`  ${r.errors} calls failed while counting`);
  }
  out();
  if (report.loginMix) printLoginMix(report.loginMix, machine.cpus);
}

async function main(options: Options): Promise<number> {
  const loadAverageAtStart = loadavg();
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const prefix = `bench:${randomBytes(6).toString('hex')}:`;
  const lineOptions: LineServerOptions = {
    redisUrl, prefix, authToken: AUTH_TOKEN, at: PINNED_AT, profileDir: options.profile,
    // As in production: the line's bcrypt cost and SSN hash key from the environment (unset: its defaults).
    ...(process.env.BCRYPT_COST !== undefined ? { bcryptCost: process.env.BCRYPT_COST } : {}),
    ...(process.env.SSN_HASH_KEY !== undefined ? { ssnHashKey: process.env.SSN_HASH_KEY } : {}),
  };
  try {
    lineConfig(lineOptions, 'http://127.0.0.1:1');
  } catch (error) {
    process.stderr.write(`the line's configuration: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    process.stderr.write(`Redis at ${redisHost(redisUrl)} does not answer (${error instanceof Error ? error.message : String(error)}): set REDIS_URL or start redis-server.\n`);
    return 2;
  }

  let fleet: Fleet | null = null;
  let cleaned = false;
  const cleanUp = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await fleet?.close().catch((error: unknown) => progress(`closing the bench processes failed: ${String(error)}`));
    const deleted = await deleteKeysUnder(redis, prefix);
    progress(`deleted ${deleted} Redis keys under ${prefix}`);
    await redis.quit().catch(() => redis.disconnect());
  };
  // Ctrl-C reaches this process twice (from the terminal and relayed by tsx): stay subscribed,
  // or the second SIGINT would kill it before the keys are deleted.
  let interruptedOnce = false;
  const interrupted = (): void => {
    if (interruptedOnce) return;
    interruptedOnce = true;
    progress('interrupted: cleaning up…');
    void cleanUp().finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);

  try {
    fleet = await Fleet.start({ line: lineOptions, profileDir: options.profile, clients: options.clients, inline: options.inline, serverFlags: options.serverFlags });
    progress(`line on ${fleet.lineInfo.url} (pid ${fleet.line.info.pid}), bare app on ${fleet.bareInfo.url} (pid ${fleet.bare.info.pid}), ${options.inline ? 'each driving itself (--inline)' : `load generators pid ${fleet.loadPids.join(', ')}`}, Redis keys under ${prefix}`);

    const menus = options.mix !== 'login';
    const rates = menus || options.redis ? await warmUp(fleet, options) : { line: NaN, bare: NaN };
    const compared = menus
      ? await alternate(fleet, redis, rates, 'comparison', { population: 'menus', concurrency: options.concurrency, thinkMs: options.thinkMs, calls: options.calls, seconds: options.seconds }, options.rounds)
      : null;
    const paced = menus && options.paceMs > 0
      ? { thinkMs: options.paceMs, ...(await alternate(fleet, redis, rates, 'at a caller\'s pace', { population: 'menus', concurrency: options.concurrency, thinkMs: options.paceMs, calls: null, seconds: options.paceSeconds }, 2)) }
      : null;
    const redisUse = options.redis ? await measureRedis(fleet, redis, lineOptions) : null;

    let loginMix: LoginMixReport | null = null;
    if (options.mix !== 'menus') {
      // The same secrets the line was configured with (lineConfig of the same options), so the
      // PIN hashes seeded here are the ones its bcrypt.compare checks.
      const { ssnHashKey, bcryptCost } = lineConfig(lineOptions, fleet.lineInfo.url);
      loginMix = await measureLoginMix(fleet, redis, prefix, { ssnHashKey, bcryptCost }, {
        concurrency: options.concurrency,
        othersThinkMs: options.mixThinkMs,
        loginCallers: options.loginCallers,
        loginThinkMs: options.loginThinkMs,
        seconds: options.mixSeconds,
        rounds: options.mixRounds,
        warmupSeconds: Math.min(options.warmup, 2),
      });
    }

    const line = compared?.line ?? null;
    const bare = compared?.bare ?? null;
    const ratio = line && bare ? line.webhooksPerSecond / bare.webhooksPerSecond : null;
    // The p99 aim: on the paced phase, or on the comparison when it was itself paced.
    const p99Source = paced?.line ?? (options.thinkMs > 0 ? line : null);
    const report: Report = {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}/${process.arch}`, loadAverageAtStart },
      redis: redisHost(redisUrl),
      processes: { line: fleet.line.info.pid, bare: fleet.bare.info.pid, loadGenerators: options.inline ? [] : fleet.loadPids, inline: options.inline },
      bareReplyBytes: fleet.bareInfo.replyBytes,
      concurrency: options.concurrency,
      warmupSeconds: options.warmup,
      thinkMs: options.thinkMs,
      rounds: options.rounds,
      whatIf: [
        ...(options.serverFlags.length > 0 ? [`server Node flags ${options.serverFlags.join(' ')}`] : []),
      ],
      line,
      bare,
      ratio,
      ratioByRound: line && bare ? line.rounds.map((r, i) => r / (bare.rounds[i] ?? NaN)) : [],
      paced,
      aims: line && ratio !== null ? {
        throughput: ratio >= AIMS.throughputRatio,
        throughputJudged: options.thinkMs === 0,
        p99Ms: p99Source?.latencyMs.p99 ?? null,
        p99: p99Source !== null && p99Source.latencyMs.p99 <= AIMS.p99Ms,
        p99Judged: p99Source !== null && options.concurrency === AIMS.atConcurrency,
      } : null,
      redisUse,
      loginMix,
    };
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printTable(report);

    const errors = (line?.errors ?? 0) + (bare?.errors ?? 0) + (paced ? paced.line.errors + paced.bare.errors : 0) + (redisUse?.errors ?? 0) + (loginMix ? loginMixErrors(loginMix) : 0);
    if (errors > 0) {
      progress(`FAILED: ${errors} calls went wrong (see the errors above)`);
      return 1;
    }
    const { aims } = report;
    if (options.strict && aims && !((aims.throughput || !aims.throughputJudged) && (aims.p99 || !aims.p99Judged))) return 3;
    return 0;
  } finally {
    await cleanUp();
  }
}

runCli(USAGE, readOptions, main, { exit: 'when-idle', failurePrefix: 'bench failed: ' });
