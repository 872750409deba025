// The two servers `npm run bench` measures (scripts/bench.ts): the line, as createLine builds
// it, on a RedisStore over real Redis; and a bare Express 5 app that parses the same urlencoded
// body and answers every POST with one fixed TwiML document of about the same size.
//
// scripts/bench.ts normally runs this file as a child process (BENCH_SERVER_CHILD=1), talking
// over IPC, so the servers have an event loop, a V8 heap and a garbage collector of their own
// and can be CPU-profiled alone; with --inline it imports startServers() instead.
import { writeFile, mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import express from 'express';
import { loadConfig, type Config } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { createLine, type Line } from '../src/server.ts';
import { RedisStore } from '../src/store/redis.ts';

export type Target = 'line' | 'bare';

export type ServerOptions = {
  redisUrl: string;
  /** Every key the line writes starts with this; bench.ts deletes them at the end. */
  prefix: string;
  authToken: string;
  /** The line's clock, pinned (ISO instant). */
  at: string;
  /** When set, each measured slice (not the warm-ups) is CPU-profiled into DIR/<target>-<n>.cpuprofile. */
  profileDir?: string | null;
  /** What-if: the line's Redis client with ioredis enableAutoPipelining (not the line as shipped). */
  /**
   * BCRYPT_COST and SSN_HASH_KEY for the line's configuration, as the environment spells them
   * (unset: the line's own defaults, cost 10 and the development key). bench.ts seeds the demo
   * caseload with lineConfig() of the same options, so its hashes are the ones the line checks.
   */
  bcryptCost?: string;
  ssnHashKey?: string;
};

export type ServerInfo = {
  lineUrl: string;
  bareUrl: string;
  pid: number;
  /** The line's configured bcrypt cost (PIN hashes and bcrypt.compare at login). */
  bcryptCost: number;
  /** UV_THREADPOOL_SIZE as the servers' process saw it (null: unset, libuv's default of 4 threads). */
  uvThreadpoolSize: string | null;
};

/** The line's configuration as the bench builds it; `publicUrl` is where it listens. */
export function lineConfig(options: ServerOptions, publicUrl: string): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: publicUrl,
    TWILIO_AUTH_TOKEN: options.authToken,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.prefix,
    AGENT_NUMBER: '+19165550100',
    ...(options.bcryptCost !== undefined ? { BCRYPT_COST: options.bcryptCost } : {}),
    ...(options.ssnHashKey !== undefined ? { SSN_HASH_KEY: options.ssnHashKey } : {}),
  });
}

/** What the server side saw during one measured phase. */
export type ServerPhaseStats = {
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Event-loop utilisation of the servers' thread, 0..1: near 1 means the server was the bottleneck. */
  eventLoopUtilization: number;
  /** Time from the request's arrival at the HTTP server to the last byte of the reply being handed to the socket (one request in SAMPLE_EVERY). */
  handled: number[];
  /** Where the phase's CPU profile was written, with --profile. */
  profile: string | null;
};

export type Servers = ServerInfo & {
  /** Pads the bare app's reply to about this many bytes; returns its size. */
  sizeBareReply(bytes: number): number;
  begin(target: Target): void;
  end(): Promise<ServerPhaseStats>;
  close(): Promise<void>;
};

const SAMPLE_EVERY = 8;

/** The marker bench.ts looks for in every bare reply. */
export const BARE_MARKER = 'Bare Express reference reply.';

/**
 * A menu reply shaped like the line's (a <Gather> with the prompt inside, then a <Redirect>),
 * padded with one more <Say> to `bytes` when asked (bench.ts asks for the line's average reply size).
 */
export function bareTwiml(publicUrl: string, bytes = 0): string {
  const query = '?turn=1&amp;lang=en';
  const voice = 'voice="Polly.Joanna-Neural" language="en-US"';
  return (
    '<?xml version="1.0" encoding="UTF-8"?><Response>' +
    `<Gather input="dtmf" numDigits="1" finishOnKey="" timeout="6" action="${publicUrl}/voice/input${query}" method="POST">` +
    `<Say ${voice}>${BARE_MARKER}</Say>` +
    `<Say ${voice}>To pay by check or money order, and for our mailing address, press 1. To pay by card or automatic withdrawal, press 2. ` +
    'To learn when payments are credited, press 3. To learn about the compromise of arrears program, press 4.</Say>' +
    `<Say ${voice}>To hear this again, press 9. To go back, press star. To speak with a representative, press 0.</Say>` +
    padding(bytes, voice) +
    `</Gather><Redirect method="POST">${publicUrl}/voice/no-input${query}</Redirect></Response>`
  );
}

const BASE_BYTES = Buffer.byteLength(bareTwiml('http://127.0.0.1:65535'));

function padding(bytes: number, voice: string): string {
  if (bytes === 0) return '';
  const empty = `<Say ${voice}></Say>`;
  const room = bytes - BASE_BYTES - empty.length;
  if (room <= 0) return '';
  const words = 'Please listen carefully, as our menu options have changed. ';
  return `<Say ${voice}>${words.repeat(Math.ceil(room / words.length)).slice(0, room).trimEnd()}</Say>`;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(): Promise<{ server: Server; url: string; serve(handler: Handler): void }> {
  let handler: Handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  // Keep the load generator's sockets across the pause between warm-up and measurement.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    serve(next) {
      handler = next;
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startServers(options: ServerOptions): Promise<Servers> {
  // Listening first (on port 0) tells us the address before the line is built, so PUBLIC_URL is
  // the real one and the signatures the load generator computes are the ones the line checks.
  const lineHttp = await listen();
  const bareHttp = await listen();

  const config = lineConfig(options, lineHttp.url);
  let redisTrouble: string | null = null;
  const onError = (message: string): void => {
    if (message !== redisTrouble) process.stderr.write(`bench server: ${message}\n`);
    redisTrouble = message;
  };
  const store = RedisStore.connect(options.redisUrl, options.prefix, { onError });
  await store.ping();
  const pinned = new Date(options.at).getTime();
  let line: Line;
  try {
    line = await createLine({ config, store, logger: silentLogger, clock: () => new Date(pinned) });
  } catch (error) {
    await store.close();
    throw error;
  }

  let twiml = bareTwiml(bareHttp.url);
  const bare = express();
  bare.disable('x-powered-by');
  bare.use(express.urlencoded({ extended: false, limit: '64kb' }));
  bare.use((req, res) => {
    if (req.method !== 'POST') {
      res.status(405).type('text/plain').send('POST only');
      return;
    }
    res.status(200).type('text/xml').send(twiml);
  });

  const profiler = options.profileDir ? new Session() : null;
  const inspect = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve, reject) => profiler?.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  if (profiler) {
    profiler.connect();
    await inspect('Profiler.enable');
    await inspect('Profiler.setSamplingInterval', { interval: 200 });
    await mkdir(options.profileDir!, { recursive: true });
  }

  let measuring: Target | null = null;
  const slices = { line: 0, bare: 0 };
  let handled: number[] = [];
  let cpuAtBegin = process.cpuUsage();
  let eluAtBegin: EventLoopUtilization = performance.eventLoopUtilization();
  // Timing every request would cost the bare app several percent of its throughput (a listener
  // and a closure per response); one in SAMPLE_EVERY still gives thousands of samples.
  let seen = 0;
  const timed = (target: Target, app: Handler): Handler => (req, res) => {
    if (measuring === target && ++seen % SAMPLE_EVERY === 0) {
      const started = performance.now();
      res.once('finish', () => handled.push(performance.now() - started));
    }
    app(req, res);
  };
  lineHttp.serve(timed('line', line.app as unknown as Handler));
  bareHttp.serve(timed('bare', bare as unknown as Handler));

  return {
    lineUrl: lineHttp.url,
    bareUrl: bareHttp.url,
    sizeBareReply(bytes) {
      twiml = bareTwiml(bareHttp.url, bytes);
      return Buffer.byteLength(twiml);
    },
    pid: process.pid,
    bcryptCost: line.config.bcryptCost,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE || null,
    begin(target) {
      measuring = target;
      handled = [];
      cpuAtBegin = process.cpuUsage();
      eluAtBegin = performance.eventLoopUtilization();
      if (profiler) void inspect('Profiler.start');
    },
    async end() {
      const cpu = process.cpuUsage(cpuAtBegin);
      const elu = performance.eventLoopUtilization(eluAtBegin);
      const target = measuring;
      measuring = null;
      let profile: string | null = null;
      if (profiler && options.profileDir) {
        const { profile: taken } = (await inspect('Profiler.stop')) as { profile: unknown };
        const n = target ? ++slices[target] : 0;
        profile = join(options.profileDir, `${target ?? 'phase'}-${n}.cpuprofile`);
        await writeFile(profile, JSON.stringify(taken));
      }
      return { cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, eventLoopUtilization: elu.utilization, handled, profile };
    },
    async close() {
      await Promise.all([closeServer(lineHttp.server), closeServer(bareHttp.server)]);
      await line.close();
      await store.close();
      profiler?.disconnect();
    },
  };
}

// --- As a child process of bench.ts ------------------------------------------------------

export type ToServer = { type: 'begin'; target: Target } | { type: 'end' } | { type: 'close' } | { type: 'size'; bytes: number };
export type FromServer =
  | { type: 'ready'; info: ServerInfo }
  | { type: 'failed'; error: string }
  | { type: 'stats'; stats: ServerPhaseStats }
  | { type: 'sized'; bytes: number }
  | { type: 'closed' };

async function runAsChild(): Promise<void> {
  const send = (message: FromServer): void => {
    process.send?.(message);
  };
  let servers: Servers;
  try {
    servers = await startServers(JSON.parse(process.env.BENCH_SERVER_OPTIONS ?? '{}') as ServerOptions);
  } catch (error) {
    send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  const info: ServerInfo = { lineUrl: servers.lineUrl, bareUrl: servers.bareUrl, pid: servers.pid, bcryptCost: servers.bcryptCost, uvThreadpoolSize: servers.uvThreadpoolSize };
  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await servers.close();
  };
  process.on('message', (message: ToServer) => {
    if (message.type === 'begin') servers.begin(message.target);
    else if (message.type === 'size') send({ type: 'sized', bytes: servers.sizeBareReply(message.bytes) });
    else if (message.type === 'end') void servers.end().then((stats) => send({ type: 'stats', stats }));
    else if (message.type === 'close') {
      void close().then(() => {
        send({ type: 'closed' });
        // Exiting normally (not by a signal) lets --cpu-prof write its profile.
        process.disconnect?.();
      });
    }
  });
  // The parent went away (crashed, Ctrl-C): close and let the process end.
  process.on('disconnect', () => void close());
  send({ type: 'ready', info });
}

if (process.env.BENCH_SERVER_CHILD === '1' && process.send) void runAsChild();
