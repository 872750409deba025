// Finds (or starts) a Redis for the tests, once per mocha run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';

const INSTALL_HINT =
  'The Redis tests need a Redis server. Either set REDIS_URL=redis://host:port to one the tests may write to ' +
  '(they only touch keys under a random test: prefix), or install Redis so a throwaway redis-server can be started ' +
  '(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis).';

let cachedUrl: Promise<string> | null = null;

/** A Redis URL the tests may use: REDIS_URL, else 127.0.0.1:6379, else a throwaway redis-server. */
export function testRedisUrl(): Promise<string> {
  cachedUrl ??= findRedis().catch((error: unknown) => {
    cachedUrl = null;
    throw error;
  });
  return cachedUrl;
}

async function findRedis(): Promise<string> {
  const tried: string[] = [];
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    if (await answers(fromEnv)) return fromEnv;
    tried.push('REDIS_URL does not answer');
  }
  const local = 'redis://127.0.0.1:6379';
  if (await answers(local)) return local;
  tried.push('nothing answers on 127.0.0.1:6379');
  try {
    return (await startRedisServer()).url;
  } catch (error) {
    tried.push(error instanceof Error ? error.message : String(error));
  }
  throw new Error(`${INSTALL_HINT} (${tried.join('; ')})`);
}

/** A client that connects once, without retrying, for probing. */
async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

export type RedisServer = {
  url: string;
  port: number;
  stop(): void;
  /** Freezes the server (SIGSTOP): connections stay open and commands go unanswered, as with a hung Redis; its data stays. */
  pause(): void;
  resume(): void;
};

/**
 * Starts a throwaway, non-persisting redis-server (killed when the test process exits); `settings`
 * are more command-line settings, e.g. ['--maxmemory', '2mb'] or ['--replicaof', '127.0.0.1', '6380'].
 */
export async function startRedisServer(port?: number, settings: readonly string[] = []): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...settings], {
    stdio: 'ignore',
  });
  let failure: Error | null = null;
  child.once('error', (error: NodeJS.ErrnoException) => {
    failure = error.code === 'ENOENT' ? new Error('no redis-server binary on PATH') : error;
  });
  child.once('exit', (code) => {
    failure ??= new Error(`redis-server exited with code ${code}`);
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = (): void => {
    process.removeListener('exit', stop);
    if (running()) {
      // A frozen server would not act on the TERM until it is woken.
      child.kill('SIGCONT');
      child.kill();
    }
  };
  const pause = (): void => {
    if (running()) child.kill('SIGSTOP');
  };
  const resume = (): void => {
    if (running()) child.kill('SIGCONT');
  };
  process.once('exit', stop);
  child.unref();

  const url = `redis://127.0.0.1:${chosen}`;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (failure) throw failure;
    if (await answers(url)) return { url, port: chosen, stop, pause, resume };
    await sleep(50);
  }
  stop();
  throw failure ?? new Error(`redis-server on port ${chosen} did not answer within 5 s`);
}

export function hasRedisServerBinary(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** A key prefix no other test run shares. */
export function uniquePrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`;
}

/** A plain client for tests (inspecting keys, cleaning up); disconnect it when done. */
export async function testRedisClient(url?: string): Promise<Redis> {
  const client = new Redis(url ?? (await testRedisUrl()), { maxRetriesPerRequest: 1, connectTimeout: 1_000 });
  client.on('error', () => {});
  return client;
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Every key under `prefix`, found with SCAN (never KEYS on a shared server); on a Cluster, on every master. */
export async function keysUnder(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 500);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...new Set(found)];
}

/** Deletes the keys under `prefix` and nothing else (never FLUSHALL/FLUSHDB). */
export async function flushPrefix(redis: Redis | Cluster, prefix: string): Promise<number> {
  if (!prefix) throw new Error('flushPrefix needs a non-empty prefix');
  const keys = await keysUnder(redis, prefix);
  if (redis instanceof Cluster) {
    // On a Cluster one UNLINK takes keys of one slot only.
    await Promise.all(keys.map((key) => redis.unlink(key)));
    return keys.length;
  }
  for (let i = 0; i < keys.length; i += 500) {
    await redis.unlink(...keys.slice(i, i + 500));
  }
  return keys.length;
}

/**
 * The keys a `describe` writes to a Redis or a Cluster: all under one prefix (`prefix`), each
 * test's under one of its own (`nextPrefix()`). `end()`, after the tests, deletes every one of
 * them, checks none is left, and closes the connections `connect()` opened.
 */
export class RedisRun<C extends Redis | Cluster> {
  readonly prefix = uniquePrefix();
  private readonly connections: C[] = [];
  private counter = 0;

  constructor(private readonly open: () => Promise<C>) {}

  async connect(): Promise<C> {
    const connection = await this.open();
    this.connections.push(connection);
    return connection;
  }

  nextPrefix(): string {
    this.counter += 1;
    return `${this.prefix}${this.counter}:`;
  }

  async end(): Promise<void> {
    const [first] = this.connections;
    if (!first) return;
    await flushPrefix(first, this.prefix);
    const left = await keysUnder(first, this.prefix);
    for (const connection of this.connections.splice(0)) connection.disconnect();
    if (left.length > 0) throw new Error(`${left.length} keys left under ${this.prefix} after the run: ${left.slice(0, 5).join(', ')}`);
  }
}

/** What the Redis server is sent, while watched: one command's arguments and who sent it. */
export type WatchedCommand = (args: string[], source: string) => void;

/**
 * Every command any client sends to `redis`'s server, with MONITOR on a connection of its own,
 * until `stop()`. Stopping closes that connection; lines the server had already sent reach a
 * client no longer monitoring, which ioredis reports as a "Command queue state error": expected
 * then, and ignored. An error while watching is thrown by `stop()`.
 */
export async function watchCommands(redis: Redis, onCommand: WatchedCommand): Promise<{ stop(): void }> {
  const monitor = await redis.monitor();
  let stopped = false;
  let failure: Error | null = null;
  monitor.on('error', (error: Error) => {
    if (!stopped) failure ??= error;
  });
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!stopped) onCommand(args, source);
  });
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      monitor.disconnect();
      if (failure) throw failure;
    },
  };
}
