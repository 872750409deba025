// npm run bench [-- options] — how much traffic the line carries, against a bare Express app.
//
// Starts the line (createLine, RedisStore on real Redis, silent logger, pinned clock) and a bare
// Express 5 app that parses the same body and answers a fixed TwiML document of about the same
// size, then drives each with the same number of simulated calls, the same number in flight,
// over keep-alive HTTP. Every call walks the menus the way Twilio does (follows the <Gather>
// action and the <Redirect> out of each reply), every webhook is signed and carries Twilio's
// full parameter set and a fresh I-Twilio-Idempotency-Token, and every reply is checked.
//
// Where the load generator runs. The machine has few cores and the load generator shares them
// with the server, Redis and whatever else runs. By default the servers run in a child process
// (scripts/bench-server.ts) and the load generator in this one, so each has an event loop and a
// garbage collector of its own and the OS can put them on different cores — as in production,
// where Twilio's requests are made elsewhere. With --inline both run on one event loop: every
// millisecond spent building, signing and parsing requests then sits inside the measured
// latency (the server cannot answer while the client runs), and throughput is bounded by
// client + server work on ONE core. Measured on this 2-core box, quiet, same code: child mode
// line 1493 / bare 3813 webhooks/s (ratio 0.39); --inline line 1344 / bare 2878 (ratio 0.47).
// The client's fixed cost per request, paid on the server's own event loop, slows the cheap bare
// app far more than the line and flatters the ratio; the child-process mode is the honest one.
// A worker thread would also separate the event loops, but a child process can be CPU-profiled
// alone (--profile) and its CPU time read alone (process.cpuUsage).
//
// The box is shared: each phase reports the CPU other processes used meanwhile (os.cpus()
// minus server, load generator and Redis) and warns when it is not ~0; the line and the bare
// app are measured in interleaved rounds so a burst of outside work hits both sides.
//
// Figures: warm-up calls (--warmup seconds, per server) are excluded. Latency is per webhook,
// from just before the request is written (after signing) to the reply's last byte. The
// server side's own view (arrival to reply handed to the socket), its CPU time and event-loop
// utilisation, the load generator's CPU time and Redis's CPU time (INFO cpu) are printed too.
//
// Then, by default, the login mix (scripts/bench-login.ts): the demo caseload is loaded into the
// bench's Redis prefix with the line's own SSN_HASH_KEY and BCRYPT_COST, and callers who log in
// (bcrypt.compare on libuv's threadpool) run beside menu-only callers; it reports logins a second
// and the other callers' latency with and without the logins. --mix menus or --mix login runs one
// part alone.
//
// The simulated calls themselves are in scripts/bench-client.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import {
  AUTH_TOKEN, WEBHOOKS_PER_CALL, clientFor, drive, fmt, latency, machineBusyMs, progress, redisCpuMs,
  type Client, type Latency, type ServerHandle,
} from './bench-client.ts';
import { loginMixErrors, measureLoginMix, printLoginMix, type LoginMixReport } from './bench-login.ts';
import { lineConfig, startServers, type FromServer, type ServerOptions, type Target, type ToServer } from './bench-server.ts';
import { runCli } from './cli.ts';

const USAGE = `Usage: npm run bench -- [options]

Drives the line (Redis store) and a bare Express app with simulated Twilio calls and compares them;
then the login mix: callers logging in (bcrypt) beside menu-only callers, whose latency it compares
with and without the logins.

Options:
  --concurrency C   calls in flight (default 100)
  --calls N         calls to measure per server (each call is ${'12'} webhooks)
  --seconds S       measure the line for S seconds, and the bare app for as many calls
                    (default 10 when --calls is not given; with both, whichever ends first)
  --rounds R        split the measurement into R rounds, each a slice of the line then the
                    same number of calls at the bare app (default 3)
  --warmup S        warm-up seconds per server, excluded from the figures (default 3)
  --think MS        pause between a call's webhooks (MS ± 50 %), as a caller listens and presses
                    keys (default 0: each call posts its next webhook as soon as it has a reply,
                    so latency = calls in flight / throughput; real callers pause for seconds)
  --inline          run the servers in this process, on the load generator's event loop
                    (for comparison only: the client's work then counts as server latency)
  --profile DIR     CPU-profile the servers during each measured phase (not the warm-ups) into
                    DIR/line-N.cpuprofile and DIR/bare-N.cpuprofile (the login mix's slices are
                    line-N too; child mode only; the profiler costs some throughput); summarise
                    with: npx tsx scripts/bench-profile.ts DIR/line-*.cpuprofile
  --server-flags F  what-if: extra Node flags for the server process, e.g. "--max-semi-space-size=32"
  --mix M           what to run: both (default: the comparison, then the login mix), menus
                    (the comparison only) or login (the login mix only)
  --login-callers L login mix: callers logging in, in flight (default 8), each: English, 1,
                    participant ID + #, PIN + # (1 call in 4 a wrong PIN first), balance, hang up
  --login-think MS  login mix: pause between a login caller's webhooks (default 0: the logins
                    keep bcrypt as busy as they can)
  --mix-think MS    login mix: pause between the menu-only callers' webhooks (default 200; they
                    are --concurrency in flight, walking the comparison's menus)
  --mix-seconds S   login mix: seconds of call starts per side, with and without logins (default 6)
  --mix-rounds R    login mix: rounds of menu callers alone, then with logins (default 2)
  --json            print the results as JSON (progress still goes to stderr)
  --strict          exit 3 when an aim is missed (errors always exit 1)
  -h, --help        this text

Redis: REDIS_URL, else redis://127.0.0.1:6379. Keys go under a unique bench:<random>: prefix,
deleted at the end with SCAN + UNLINK. The line's BCRYPT_COST (default 10) and SSN_HASH_KEY come
from the environment, as in production; set UV_THREADPOOL_SIZE to try another threadpool size.`;

/** Tuesday 24 November 2026, 10:00 Pacific: inside representatives' hours. */
const PINNED_AT = '2026-11-24T18:00:00.000Z';
/**
 * The aims. Mind Little's law with --think 0: every call always has a webhook outstanding, so
 * mean latency = calls in flight / throughput, and p99 < 20 ms at 100 in flight would take more
 * than 5,000 webhooks/s — more than the bare Express app serves on this box. The p99 aim only
 * means something with callers who pause, as real ones do (--think).
 */
const AIMS = { throughputRatio: 0.4, p99Ms: 20, atConcurrency: 100 } as const;

type Options = {
  concurrency: number;
  calls: number | null;
  seconds: number | null;
  warmup: number;
  thinkMs: number;
  rounds: number;
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
  const warmup = values.warmup === '0' ? 0 : (positive('warmup', values.warmup, false) ?? 3);
  if (values.profile && values.inline) throw new Error('--profile profiles the server process: it cannot be combined with --inline');
  if (values['server-flags'] && values.inline) throw new Error('--server-flags needs the server process: it cannot be combined with --inline');
  const mix = values.mix ?? 'both';
  if (mix !== 'both' && mix !== 'menus' && mix !== 'login') throw new Error(`--mix must be both, menus or login, got "${mix}"`);
  return {
    concurrency: positive('concurrency', values.concurrency, true) ?? 100,
    calls,
    seconds,
    warmup,
    thinkMs: pause('think', values.think, 0),
    rounds: positive('rounds', values.rounds, true) ?? 3,
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

// --- The servers, in a child process or in this one ---------------------------------------

async function startInline(options: ServerOptions): Promise<ServerHandle> {
  const servers = await startServers(options);
  return {
    lineUrl: servers.lineUrl,
    bareUrl: servers.bareUrl,
    pid: servers.pid,
    bcryptCost: servers.bcryptCost,
    uvThreadpoolSize: servers.uvThreadpoolSize,
    sizeBareReply: async (bytes) => servers.sizeBareReply(bytes),
    begin: async (t) => servers.begin(t),
    end: () => servers.end(),
    close: () => servers.close(),
  };
}

async function startChild(options: ServerOptions, serverFlags: string[]): Promise<ServerHandle> {
  const execArgv = [...process.execArgv, ...serverFlags];
  const child: ChildProcess = fork(fileURLToPath(new URL('./bench-server.ts', import.meta.url)), [], {
    execArgv,
    env: { ...process.env, BENCH_SERVER_CHILD: '1', BENCH_SERVER_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: Array<(message: FromServer) => void> = [];
  let exited: string | null = null;
  const next = (): Promise<FromServer> =>
    new Promise((resolve, reject) => {
      if (exited) reject(new Error(exited));
      else waiting.push(resolve);
    });
  child.on('message', (message: FromServer) => waiting.shift()?.(message));
  child.on('error', (error) => progress(`server process: ${error.message}`));
  child.once('exit', (code, signal) => {
    exited = `the server process exited (${signal ?? code})`;
  });
  const ask = async (message: ToServer, expect: FromServer['type']): Promise<FromServer> => {
    const answer = next();
    child.send(message);
    const got = await answer;
    if (got.type !== expect) throw new Error(`the server process answered ${got.type} to ${message.type}`);
    return got;
  };
  const first = await Promise.race([
    next(),
    new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`the server process exited (${signal ?? code}) before it was ready`)))),
  ]);
  if (first.type === 'failed') throw new Error(`the server process could not start: ${first.error}`);
  if (first.type !== 'ready') throw new Error(`the server process said ${first.type} before it was ready`);
  return {
    ...first.info,
    sizeBareReply: async (bytes) => {
      const got = await ask({ type: 'size', bytes }, 'sized');
      return got.type === 'sized' ? got.bytes : NaN;
    },
    begin: async (target) => {
      child.send({ type: 'begin', target } satisfies ToServer);
    },
    end: async () => {
      const got = await ask({ type: 'end' }, 'stats');
      if (got.type !== 'stats') throw new Error('unreachable');
      return got.stats;
    },
    close: async () => {
      if (exited || !child.connected) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timeout = (): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
      await Promise.race([ask({ type: 'close' }, 'closed').catch(() => {}), gone, timeout()]);
      await Promise.race([gone, timeout()]);
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}

type Measured = {
  target: Target;
  calls: number;
  webhooks: number;
  errors: number;
  failures: string[];
  /** Measured wall time, summed over the rounds. */
  seconds: number;
  webhooksPerSecond: number;
  latencyMs: Latency;
  serverHandledMs: Latency;
  avgReplyBytes: number;
  cpuMsPerWebhook: { server: number; client: number; redis: number | null };
  serverEventLoopUtilization: number;
  /** CPU the rest of the machine used meanwhile (not server, load generator or Redis), in cores: anything well above 0 skews the figures. */
  otherCores: number | null;
  /** The same, for the worst round. */
  otherCoresWorstRound: number | null;
  profiles: string[];
};

/** One target's slices, added up over the rounds. */
type Pooled = {
  target: Target;
  calls: number;
  requests: number;
  errors: number;
  bytes: number;
  latencies: number[];
  failures: string[];
  wallMs: number;
  clientCpuMs: number;
  serverCpuMs: number;
  serverBusyMs: number;
  handled: number[];
  redisCpuMs: number | null;
  otherMs: number | null;
  otherWorst: number | null;
  profiles: string[];
};

const newPooled = (target: Target): Pooled => ({
  target, calls: 0, requests: 0, errors: 0, bytes: 0, latencies: [], failures: [], wallMs: 0, clientCpuMs: 0,
  serverCpuMs: 0, serverBusyMs: 0, handled: [], redisCpuMs: 0, otherMs: 0, otherWorst: 0, profiles: [],
});

/** One measured slice of one target, added to its pool; returns how many calls it made. */
async function slice(servers: ServerHandle, redis: Redis, client: Client, options: Options, limit: { calls: number | null; seconds: number | null }, pool: Pooled): Promise<number> {
  const redisBefore = await redisCpuMs(redis);
  await servers.begin(client.target);
  const machineBefore = machineBusyMs();
  const result = await drive(client, options.concurrency, limit);
  const machineAfter = machineBusyMs();
  const server = await servers.end();
  const redisAfter = await redisCpuMs(redis);

  const serverCpu = server.cpuUserMs + server.cpuSystemMs;
  const redisCpu = redisBefore !== null && redisAfter !== null ? redisAfter - redisBefore : null;
  // In --inline mode the client's CPU time is already in the (shared) process's.
  const ours = redisCpu === null ? null : serverCpu + (options.inline ? 0 : result.clientCpuMs) + redisCpu;
  const other = ours === null ? null : Math.max(0, machineAfter - machineBefore - ours);

  pool.calls += result.calls;
  pool.requests += result.requests;
  pool.errors += result.errors;
  pool.bytes += result.bytes;
  for (const ms of result.latencies) pool.latencies.push(ms);
  for (const failure of result.failures) if (pool.failures.length < 5) pool.failures.push(failure);
  pool.wallMs += result.wallMs;
  pool.clientCpuMs += result.clientCpuMs;
  pool.serverCpuMs += serverCpu;
  pool.serverBusyMs += server.eventLoopUtilization * result.wallMs;
  for (const ms of server.handled) pool.handled.push(ms);
  pool.redisCpuMs = pool.redisCpuMs === null || redisCpu === null ? null : pool.redisCpuMs + redisCpu;
  pool.otherMs = pool.otherMs === null || other === null ? null : pool.otherMs + other;
  pool.otherWorst = pool.otherWorst === null || other === null ? null : Math.max(pool.otherWorst, other / result.wallMs);
  if (server.profile) pool.profiles.push(server.profile);
  return result.calls;
}

function figures(pool: Pooled, options: Options): Measured {
  const per = (ms: number): number => (pool.requests > 0 ? ms / pool.requests : NaN);
  return {
    target: pool.target,
    calls: pool.calls,
    webhooks: pool.requests,
    errors: pool.errors,
    failures: pool.failures,
    seconds: pool.wallMs / 1000,
    webhooksPerSecond: pool.requests / (pool.wallMs / 1000),
    latencyMs: latency(pool.latencies),
    serverHandledMs: latency(pool.handled),
    avgReplyBytes: pool.requests > 0 ? pool.bytes / pool.requests : 0,
    cpuMsPerWebhook: {
      // In --inline mode the process's CPU time is the client's and the servers' together.
      server: per(pool.serverCpuMs),
      client: options.inline ? NaN : per(pool.clientCpuMs),
      redis: pool.redisCpuMs === null ? null : per(pool.redisCpuMs),
    },
    serverEventLoopUtilization: pool.serverBusyMs / pool.wallMs,
    otherCores: pool.otherMs === null ? null : pool.otherMs / pool.wallMs,
    otherCoresWorstRound: pool.otherWorst,
    profiles: pool.profiles,
  };
}

/**
 * Warm both up, then alternate: a slice of the line, then the bare app for as many calls, for
 * --rounds rounds. Interleaving keeps a burst of someone else's work (the box is shared) from
 * landing on one side of the comparison only.
 */
async function measureBoth(servers: ServerHandle, redis: Redis, options: Options): Promise<{ line: Measured; bare: Measured }> {
  const line = clientFor('line', servers.lineUrl, options);
  const bare = clientFor('bare', servers.bareUrl, options);
  for (const client of [line, bare]) {
    // Warm-up is for the JIT and the connection pools: no think time, whatever --think says.
    // At least one call, so the line's replies can be measured.
    progress(`warming up ${client.target === 'line' ? 'the line' : 'the bare app'} for ${options.warmup} s…`);
    const warm = await drive({ ...client, thinkMs: 0 }, options.concurrency, { calls: options.warmup > 0 ? null : 1, seconds: options.warmup > 0 ? options.warmup : null });
    if (warm.errors > 0) progress(`  ${warm.errors} errors while warming up, e.g. ${warm.failures[0]}`);
    if (client.target === 'line' && warm.requests > 0) {
      // The bare app answers a document as large as the line's average reply.
      const bytes = await servers.sizeBareReply(Math.round(warm.bytes / warm.requests));
      progress(`  the line's replies average ${Math.round(warm.bytes / warm.requests)} bytes; the bare app's is now ${bytes}`);
    }
  }
  const pools = { line: newPooled('line'), bare: newPooled('bare') };
  const { rounds } = options;
  for (let round = 1; round <= rounds; round += 1) {
    const limit = {
      calls: options.calls === null ? null : Math.floor((options.calls * round) / rounds) - Math.floor((options.calls * (round - 1)) / rounds),
      seconds: options.seconds === null ? null : options.seconds / rounds,
    };
    progress(`round ${round}/${rounds}: the line (${[limit.calls !== null ? `${limit.calls} calls` : '', limit.seconds !== null ? `${limit.seconds.toFixed(1)} s` : ''].filter(Boolean).join(' or ')}, ${options.concurrency} in flight)…`);
    const calls = await slice(servers, redis, line, options, limit, pools.line);
    progress(`round ${round}/${rounds}: the bare app (${calls} calls)…`);
    await slice(servers, redis, bare, options, { calls, seconds: null }, pools.bare);
  }
  return { line: figures(pools.line, options), bare: figures(pools.bare, options) };
}

function redisHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}${parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : ''}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

function printTable(report: Report): void {
  const out = (text = ''): void => {
    process.stdout.write(`${text}\n`);
  };
  const f = fmt;
  const row = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(16) : cell.padStart(10))).join(' ');
  const { machine } = report;
  out();
  out(`Customer Connect bench`);
  out(`  machine      ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')} at start`);
  out(`  node         ${machine.node}`);
  out(`  redis        ${report.redis}`);
  if (report.whatIf.length > 0) out(`  WHAT-IF      ${report.whatIf.join('; ')} (not the line as shipped)`);
  out(`  client       ${report.inline ? 'inline: same process and event loop as the servers (comparison only)' : 'own process; servers in a child process'}`);
  const { line, bare, aims } = report;
  if (line && bare && aims) {
    out();
    out('The line against a bare Express app');
    out(`  load         ${report.concurrency} calls in flight, ${WEBHOOKS_PER_CALL} webhooks a call${report.thinkMs > 0 ? `, ${report.thinkMs} ms between a call's webhooks` : ''}, ${report.rounds} rounds line/bare, warm-up ${report.warmupSeconds} s each excluded`);
    out();
    out(row(['', 'webhooks', 'webhooks/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors']));
    for (const m of [line, bare]) {
      out(row([m.target === 'line' ? 'line (Redis)' : 'bare Express', String(m.webhooks), f(m.webhooksPerSecond, 0), f(m.latencyMs.p50, 2), f(m.latencyMs.p90, 2), f(m.latencyMs.p99, 2), f(m.latencyMs.max, 2), String(m.errors)]));
    }
    out();
    out('  inside the servers (arrival → reply written, 1 in 8 sampled), CPU ms per webhook, CPUs used by other processes:');
    out(row(['', 'p50 ms', 'p99 ms', 'loop busy', 'server ms', 'client ms', 'redis ms', 'reply B', 'others']));
    for (const m of [line, bare]) {
      out(row([m.target === 'line' ? 'line (Redis)' : 'bare Express', f(m.serverHandledMs.p50, 2), f(m.serverHandledMs.p99, 2), `${f(m.serverEventLoopUtilization * 100, 0)}%`, f(m.cpuMsPerWebhook.server, 3), f(m.cpuMsPerWebhook.client, 3), m.cpuMsPerWebhook.redis === null ? '—' : f(m.cpuMsPerWebhook.redis, 3), f(m.avgReplyBytes, 0), m.otherCores === null ? '—' : `${f(m.otherCores, 2)} cpu`]));
    }
    out();
    const mark = (met: boolean): string => (met ? 'MET' : 'MISSED');
    out(`  throughput line/bare   ${f(report.ratio ?? NaN, 2)}   aim ≥ ${AIMS.throughputRatio}                 ${aims.throughputJudged ? mark(aims.throughput) : '(not judged: with --think the callers, not the servers, set the pace)'}`);
    out(`  line p99               ${f(line.latencyMs.p99, 2)} ms   aim < ${AIMS.p99Ms} ms at ${AIMS.atConcurrency} in flight   ${report.concurrency === AIMS.atConcurrency ? mark(aims.p99) : `(not judged: ${report.concurrency} in flight)`}`);
    for (const m of [line, bare]) {
      if (m.otherCoresWorstRound !== null && m.otherCoresWorstRound > 0.1) {
        out(`  warning: while the ${m.target === 'line' ? 'line' : 'bare app'} was measured, other processes used ${f(m.otherCores ?? NaN, 2)} of ${report.machine.cpus} cores (${f(m.otherCoresWorstRound, 2)} in the worst round): figures are skewed`);
      }
    }
    for (const m of [line, bare]) {
      if (m.profiles.length > 0) out(`  ${m.target} CPU profiles: ${m.profiles.join(' ')}`);
    }
    for (const m of [line, bare]) {
      for (const failure of m.failures) out(`  ${m.target} error: ${failure}`);
    }
  }
  out();
  if (report.loginMix) printLoginMix(report.loginMix, machine.cpus);
}

type Report = {
  machine: { cpus: number; cpuModel: string; node: string; platform: string; loadAverageAtStart: number[] };
  redis: string;
  concurrency: number;
  warmupSeconds: number;
  thinkMs: number;
  rounds: number;
  inline: boolean;
  whatIf: string[];
  /** The comparison (null with --mix login). */
  line: Measured | null;
  bare: Measured | null;
  ratio: number | null;
  aims: { throughput: boolean; throughputJudged: boolean; p99: boolean; p99Judged: boolean } | null;
  /** The login mix (null with --mix menus). */
  loginMix: LoginMixReport | null;
};

async function main(options: Options): Promise<number> {
  const loadAverageAtStart = loadavg();
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const prefix = `bench:${randomBytes(6).toString('hex')}:`;
  const serverOptions: ServerOptions = {
    redisUrl, prefix, authToken: AUTH_TOKEN, at: PINNED_AT, profileDir: options.profile,
    // As in production: the line's bcrypt cost and SSN hash key from the environment (unset: its defaults).
    ...(process.env.BCRYPT_COST !== undefined ? { bcryptCost: process.env.BCRYPT_COST } : {}),
    ...(process.env.SSN_HASH_KEY !== undefined ? { ssnHashKey: process.env.SSN_HASH_KEY } : {}),
  };
  try {
    lineConfig(serverOptions, 'http://127.0.0.1:1');
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

  let servers: ServerHandle | null = null;
  let cleaned = false;
  const cleanUp = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await servers?.close().catch((error: unknown) => progress(`closing the servers failed: ${String(error)}`));
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
    servers = options.inline ? await startInline(serverOptions) : await startChild(serverOptions, options.serverFlags);
    progress(`line on ${servers.lineUrl}, bare app on ${servers.bareUrl}${options.inline ? ' (inline)' : ` (server pid ${servers.pid})`}, Redis keys under ${prefix}`);

    const { line, bare } = options.mix === 'login' ? { line: null, bare: null } : await measureBoth(servers, redis, options);
    const ratio = line && bare ? line.webhooksPerSecond / bare.webhooksPerSecond : null;

    let loginMix: LoginMixReport | null = null;
    if (options.mix !== 'menus') {
      // The same secrets the line was configured with (lineConfig of the same options), so the
      // PIN hashes seeded here are the ones its bcrypt.compare checks.
      const { ssnHashKey, bcryptCost } = lineConfig(serverOptions, servers.lineUrl);
      loginMix = await measureLoginMix(servers, redis, prefix, { ssnHashKey, bcryptCost }, {
        concurrency: options.concurrency,
        othersThinkMs: options.mixThinkMs,
        loginCallers: options.loginCallers,
        loginThinkMs: options.loginThinkMs,
        seconds: options.mixSeconds,
        rounds: options.mixRounds,
        warmupSeconds: Math.min(options.warmup, 2),
        inline: options.inline,
      });
    }

    const report: Report = {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}/${process.arch}`, loadAverageAtStart },
      redis: redisHost(redisUrl),
      concurrency: options.concurrency,
      warmupSeconds: options.warmup,
      thinkMs: options.thinkMs,
      rounds: options.rounds,
      inline: options.inline,
      whatIf: [
        ...(options.serverFlags.length > 0 ? [`server Node flags ${options.serverFlags.join(' ')}`] : []),
      ],
      line,
      bare,
      ratio,
      aims: line && ratio !== null ? {
        throughput: ratio >= AIMS.throughputRatio,
        throughputJudged: options.thinkMs === 0,
        p99: line.latencyMs.p99 < AIMS.p99Ms,
        p99Judged: options.concurrency === AIMS.atConcurrency,
      } : null,
      loginMix,
    };
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printTable(report);

    const errors = { line: line?.errors ?? 0, bare: bare?.errors ?? 0, loginMix: loginMix ? loginMixErrors(loginMix) : 0 };
    if (errors.line + errors.bare + errors.loginMix > 0) {
      progress(`FAILED: ${errors.line} line errors, ${errors.bare} bare errors, ${errors.loginMix} login-mix errors`);
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
