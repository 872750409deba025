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
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import twilio from 'twilio';
import { callParams, newCallSid } from '../test/support/twilio.ts';
import { BARE_MARKER, startServers, type FromServer, type ServerInfo, type ServerOptions, type ServerPhaseStats, type Target, type ToServer } from './bench-server.ts';

const USAGE = `Usage: npm run bench -- [options]

Drives the line (Redis store) and a bare Express app with simulated Twilio calls and compares them.

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
                    DIR/line-N.cpuprofile and DIR/bare-N.cpuprofile (child mode only; the profiler
                    costs some throughput); summarise with: npx tsx scripts/bench-profile.ts DIR/line-*.cpuprofile
  --server-flags F  what-if: extra Node flags for the server process, e.g. "--max-semi-space-size=32"
  --autopipelining  what-if: the line's Redis client with ioredis enableAutoPipelining (the
                    line as shipped does not set it); both are printed in the report
  --json            print the results as JSON (progress still goes to stderr)
  --strict          exit 3 when an aim is missed (errors always exit 1)
  -h, --help        this text

Redis: REDIS_URL, else redis://127.0.0.1:6379. Keys go under a unique bench:<random>: prefix,
deleted at the end with SCAN + UNLINK.`;

const AUTH_TOKEN = 'bench-auth-token-3c91d0e2';
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
  autopipelining: boolean;
  json: boolean;
  strict: boolean;
};

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
      autopipelining: { type: 'boolean', default: false },
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
  return {
    concurrency: positive('concurrency', values.concurrency, true) ?? 100,
    calls,
    seconds,
    warmup,
    thinkMs: values.think === undefined || values.think === '0' ? 0 : (positive('think', values.think, false) ?? 0),
    rounds: positive('rounds', values.rounds, true) ?? 3,
    inline: values.inline,
    profile: values.profile ?? null,
    serverFlags: (values['server-flags'] ?? '').split(/\s+/).filter(Boolean),
    autopipelining: values.autopipelining,
    json: values.json,
    strict: values.strict,
  };
}

const progress = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

// --- The servers, in a child process or in this one ---------------------------------------

type ServerHandle = ServerInfo & {
  sizeBareReply(bytes: number): Promise<number>;
  begin(target: Target): Promise<void>;
  end(): Promise<ServerPhaseStats>;
  close(): Promise<void>;
};

async function startInline(options: ServerOptions): Promise<ServerHandle> {
  const servers = await startServers(options);
  return {
    lineUrl: servers.lineUrl,
    bareUrl: servers.bareUrl,
    pid: servers.pid,
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

// --- One simulated call -------------------------------------------------------------------

type Step =
  | { kind: 'answer'; expect: string[] }
  | { kind: 'press'; digits: string; expect: string[] }
  | { kind: 'silence'; expect: string[] }
  | { kind: 'status'; expect: string[] };

/** English; payment info; check, back, crediting, back; back to the main menu; hours; repeat; silence; hang up. */
const WALK: readonly Step[] = [
  { kind: 'answer', expect: ['For English, press 1.', 'Para español, oprima 2.'] },
  { kind: 'press', digits: '1', expect: ['information only about your own case', 'Main menu.'] },
  { kind: 'press', digits: '4', expect: ['Payment options and mailing address.'] },
  { kind: 'press', digits: '1', expect: ['California State Disbursement Unit'] },
  { kind: 'press', digits: '*', expect: ['Payment options and mailing address.'] },
  { kind: 'press', digits: '3', expect: ['credited on the date'] },
  { kind: 'press', digits: '*', expect: ['Payment options and mailing address.'] },
  { kind: 'press', digits: '*', expect: ['Main menu.'] },
  { kind: 'press', digits: '5', expect: ['open 24 hours a day'] },
  { kind: 'press', digits: '9', expect: ['open 24 hours a day'] },
  { kind: 'silence', expect: ['hear a choice', 'open 24 hours a day'] },
  { kind: 'status', expect: ['<Response'] },
];
const WEBHOOKS_PER_CALL = WALK.length;

type Client = {
  target: Target;
  host: string;
  port: number;
  publicUrl: string;
  agent: Agent;
  thinkMs: number;
  expect(step: Step): string[];
};

function clientFor(target: Target, baseUrl: string, options: Options): Client {
  const { concurrency, thinkMs } = options;
  const url = new URL(baseUrl);
  return {
    target,
    host: url.hostname,
    port: Number(url.port),
    publicUrl: baseUrl,
    // One socket per call in flight, kept alive: each simulated call has one request outstanding at a time.
    agent: new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency, scheduling: 'lifo' }),
    thinkMs,
    expect: (step) => (target === 'line' ? step.expect : [BARE_MARKER]),
  };
}

type Tally = { requests: number; errors: number; bytes: number; latencies: number[]; failures: string[] };

const newTally = (): Tally => ({ requests: 0, errors: 0, bytes: 0, latencies: [], failures: [] });

function post(client: Client, path: string, params: Record<string, string>): Promise<{ status: number; text: string; ms: number }> {
  const body = new URLSearchParams(params).toString();
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, client.publicUrl + path, params);
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': String(Buffer.byteLength(body)),
    'x-twilio-signature': signature,
    'i-twilio-idempotency-token': randomUUID(),
    'user-agent': 'TwilioProxy/1.1',
    accept: '*/*',
  };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: client.host, port: client.port, method: 'POST', path, headers, agent: client.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function urlIn(twiml: string, pattern: RegExp, what: string, publicUrl: string): string {
  const found = pattern.exec(twiml)?.[1];
  if (!found) throw new Error(`no ${what} in the reply`);
  const url = found.replace(/&amp;/g, '&');
  if (!url.startsWith(publicUrl + '/')) throw new Error(`the ${what} ${url} is not under ${publicUrl}`);
  return url.slice(publicUrl.length);
}

async function oneCall(client: Client, tally: Tally): Promise<void> {
  const callSid = newCallSid();
  let previous = '';
  const startedAt = Date.now();
  for (const [index, step] of WALK.entries()) {
    let path: string;
    let params: Record<string, string>;
    try {
      // Callers are not in step: each pause is thinkMs ± 50 %.
      if (index > 0 && client.thinkMs > 0) await sleep(client.thinkMs * (0.5 + Math.random()));
      if (step.kind === 'answer') {
        path = '/voice';
        params = callParams(callSid, { CallStatus: 'ringing' });
      } else if (step.kind === 'press') {
        path = urlIn(previous, /<Gather[^>]*\saction="([^"]+)"/, '<Gather> action', client.publicUrl);
        params = callParams(callSid, { Digits: step.digits, FinishedOnKey: '', msg: 'Gather End' });
      } else if (step.kind === 'silence') {
        path = urlIn(previous, /<Redirect[^>]*>([^<]+)<\/Redirect>/, '<Redirect>', client.publicUrl);
        params = callParams(callSid);
      } else {
        path = '/voice/status';
        params = callParams(callSid, {
          CallStatus: 'completed',
          CallDuration: String(Math.max(1, Math.round((Date.now() - startedAt) / 1000))),
          Duration: '1',
          Timestamp: new Date().toUTCString(),
          CallbackSource: 'call-progress-events',
          SequenceNumber: '0',
        });
      }
      const reply = await post(client, path, params);
      tally.requests += 1;
      tally.bytes += Buffer.byteLength(reply.text);
      tally.latencies.push(reply.ms);
      if (reply.status !== 200) throw new Error(`HTTP ${reply.status} from ${path}: ${reply.text.slice(0, 120)}`);
      const text = reply.text.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      const missing = client.expect(step).filter((wanted) => !text.includes(wanted));
      if (missing.length > 0) throw new Error(`step ${index + 1} (${step.kind}${'digits' in step ? ` ${step.digits}` : ''}, ${path}): reply lacks ${JSON.stringify(missing)}: ${reply.text.slice(0, 200)}`);
      previous = reply.text;
    } catch (error) {
      // A call that went wrong cannot follow its menus any further: count it and move on.
      tally.errors += 1;
      if (tally.failures.length < 5) tally.failures.push(error instanceof Error ? error.message : String(error));
      return;
    }
  }
}

type PhaseResult = Tally & { calls: number; wallMs: number; clientCpuMs: number };

/** Keeps `concurrency` calls in flight until `calls` have started or `seconds` have passed. */
async function drive(client: Client, concurrency: number, limit: { calls: number | null; seconds: number | null }): Promise<PhaseResult> {
  const tally = newTally();
  let started = 0;
  const began = performance.now();
  const deadline = limit.seconds === null ? Infinity : began + limit.seconds * 1000;
  const cpu = process.cpuUsage();
  const more = (): boolean => (limit.calls === null || started < limit.calls) && performance.now() < deadline;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      // With think time, calls start spread over one pause rather than all at once.
      if (client.thinkMs > 0) await sleep(Math.random() * client.thinkMs);
      while (more()) {
        started += 1;
        await oneCall(client, tally);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { ...tally, calls: started, wallMs: performance.now() - began, clientCpuMs: (used.user + used.system) / 1000 };
}

// --- Figures ------------------------------------------------------------------------------

type Latency = { p50: number; p90: number; p99: number; max: number; mean: number };

function latency(samples: number[]): Latency {
  if (samples.length === 0) return { p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  let sum = 0;
  for (const value of sorted) sum += value;
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}


/** CPU time the whole machine spent busy so far (all cores, all processes), in ms. */
function machineBusyMs(): number {
  let busy = 0;
  for (const cpu of cpus()) busy += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return busy;
}

async function redisCpuMs(redis: Redis): Promise<number | null> {
  try {
    const info = await redis.info('cpu');
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
    const seconds = field('used_cpu_user') + field('used_cpu_sys');
    return Number.isFinite(seconds) ? seconds * 1000 : null;
  } catch {
    return null;
  }
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
  const f = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
  const row = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(16) : cell.padStart(10))).join(' ');
  const { machine } = report;
  out();
  out(`Customer Connect bench`);
  out(`  machine      ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')} at start`);
  out(`  node         ${machine.node}`);
  out(`  redis        ${report.redis}`);
  out(`  load         ${report.concurrency} calls in flight, ${WEBHOOKS_PER_CALL} webhooks a call${report.thinkMs > 0 ? `, ${report.thinkMs} ms between a call's webhooks` : ''}, ${report.rounds} rounds line/bare, warm-up ${report.warmupSeconds} s each excluded`);
  if (report.whatIf.length > 0) out(`  WHAT-IF      ${report.whatIf.join('; ')} (not the line as shipped)`);
  out(`  client       ${report.inline ? 'inline: same process and event loop as the servers (comparison only)' : 'own process; servers in a child process'}`);
  out();
  out(row(['', 'webhooks', 'webhooks/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors']));
  for (const m of [report.line, report.bare]) {
    out(row([m.target === 'line' ? 'line (Redis)' : 'bare Express', String(m.webhooks), f(m.webhooksPerSecond, 0), f(m.latencyMs.p50, 2), f(m.latencyMs.p90, 2), f(m.latencyMs.p99, 2), f(m.latencyMs.max, 2), String(m.errors)]));
  }
  out();
  out('  inside the servers (arrival → reply written, 1 in 8 sampled), CPU ms per webhook, CPUs used by other processes:');
  out(row(['', 'p50 ms', 'p99 ms', 'loop busy', 'server ms', 'client ms', 'redis ms', 'reply B', 'others']));
  for (const m of [report.line, report.bare]) {
    out(row([m.target === 'line' ? 'line (Redis)' : 'bare Express', f(m.serverHandledMs.p50, 2), f(m.serverHandledMs.p99, 2), `${f(m.serverEventLoopUtilization * 100, 0)}%`, f(m.cpuMsPerWebhook.server, 3), f(m.cpuMsPerWebhook.client, 3), m.cpuMsPerWebhook.redis === null ? '—' : f(m.cpuMsPerWebhook.redis, 3), f(m.avgReplyBytes, 0), m.otherCores === null ? '—' : `${f(m.otherCores, 2)} cpu`]));
  }
  out();
  const mark = (met: boolean): string => (met ? 'MET' : 'MISSED');
  out(`  throughput line/bare   ${f(report.ratio, 2)}   aim ≥ ${AIMS.throughputRatio}                 ${report.aims.throughputJudged ? mark(report.aims.throughput) : '(not judged: with --think the callers, not the servers, set the pace)'}`);
  out(`  line p99               ${f(report.line.latencyMs.p99, 2)} ms   aim < ${AIMS.p99Ms} ms at ${AIMS.atConcurrency} in flight   ${report.concurrency === AIMS.atConcurrency ? mark(report.aims.p99) : `(not judged: ${report.concurrency} in flight)`}`);
  for (const m of [report.line, report.bare]) {
    if (m.otherCoresWorstRound !== null && m.otherCoresWorstRound > 0.1) {
      out(`  warning: while the ${m.target === 'line' ? 'line' : 'bare app'} was measured, other processes used ${f(m.otherCores ?? NaN, 2)} of ${report.machine.cpus} cores (${f(m.otherCoresWorstRound, 2)} in the worst round): figures are skewed`);
    }
  }
  for (const m of [report.line, report.bare]) {
    if (m.profiles.length > 0) out(`  ${m.target} CPU profiles: ${m.profiles.join(' ')}`);
  }
  for (const m of [report.line, report.bare]) {
    for (const failure of m.failures) out(`  ${m.target} error: ${failure}`);
  }
  out();
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
  line: Measured;
  bare: Measured;
  ratio: number;
  aims: { throughput: boolean; throughputJudged: boolean; p99: boolean; p99Judged: boolean };
};

async function main(): Promise<number> {
  let options: Options | null;
  try {
    options = readOptions();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const loadAverageAtStart = loadavg();
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const prefix = `bench:${randomBytes(6).toString('hex')}:`;
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
    const serverOptions: ServerOptions = { redisUrl, prefix, authToken: AUTH_TOKEN, at: PINNED_AT, profileDir: options.profile, autopipelining: options.autopipelining };
    servers = options.inline ? await startInline(serverOptions) : await startChild(serverOptions, options.serverFlags);
    progress(`line on ${servers.lineUrl}, bare app on ${servers.bareUrl}${options.inline ? ' (inline)' : ` (server pid ${servers.pid})`}, Redis keys under ${prefix}`);

    const { line, bare } = await measureBoth(servers, redis, options);

    const ratio = line.webhooksPerSecond / bare.webhooksPerSecond;
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
        ...(options.autopipelining ? ['ioredis enableAutoPipelining'] : []),
      ],
      line,
      bare,
      ratio,
      aims: {
        throughput: ratio >= AIMS.throughputRatio,
        throughputJudged: options.thinkMs === 0,
        p99: line.latencyMs.p99 < AIMS.p99Ms,
        p99Judged: options.concurrency === AIMS.atConcurrency,
      },
    };
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printTable(report);

    if (line.errors + bare.errors > 0) {
      progress(`FAILED: ${line.errors} line errors, ${bare.errors} bare errors`);
      return 1;
    }
    const { aims } = report;
    if (options.strict && !((aims.throughput || !aims.throughputJudged) && (aims.p99 || !aims.p99Judged))) return 3;
    return 0;
  } finally {
    await cleanUp();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
