// Starts real Redis topologies for the tests: a Cluster of masters, and a primary with a replica
// watched by three Sentinels. Every process runs in a temporary directory and is stopped by its
// PID; whatever a failing test leaves running goes at the end of the run, or when the process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import type { RedisTopology } from '../../src/config.ts';
import { connectRedis, untilReady, type RedisClient } from '../../src/store/connect.ts';

export type Address = { host: string; port: number };

const HOST = '127.0.0.1';
// A cluster node also listens on its port + 10000 (the cluster bus), and ports stop at 65535.
const FIRST_PORT = 30_000;
const LAST_PORT = 45_000;

type ServerProcess = {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly dir: string;
  readonly args: readonly string[];
  readonly what: string;
  readonly exited: Promise<void>;
};

const running = new Set<ServerProcess>();
const tempDirs = new Set<string>();

/** The last resort when the process ends without the hooks having run: no waiting is possible here. */
function killAllNow(): void {
  for (const server of running) {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  running.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  const onSignal = (): void => {
    killAllNow();
    // Listening for a signal replaces Node's default of ending the process; restore it if we were the only listener.
    if (process.listenerCount(signal) === 1) {
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    }
  };
  process.on(signal, onSignal);
}

// This module is imported while mocha loads the test files, outside any describe(): a root hook,
// run once after every test file.
after(async function () {
  this.timeout(15_000);
  await stopAllRedisServers();
});

/** Stops every server this module started and removes their directories. */
export async function stopAllRedisServers(): Promise<void> {
  shared = null;
  await Promise.all([...running].map((server) => stopServer(server)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function tempDir(what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cc-redis-${what}-`));
  tempDirs.add(dir);
  return dir;
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
async function stopServer(server: ServerProcess, graceMs = 2_000): Promise<void> {
  if (!running.has(server)) return;
  try {
    process.kill(server.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  const gone = await Promise.race([server.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!gone) {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // Went in between.
    }
    await server.exited;
  }
  running.delete(server);
}

async function killServer(server: ServerProcess): Promise<void> {
  process.kill(server.pid, 'SIGKILL');
  await server.exited;
  running.delete(server);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

/** A port in FIRST_PORT..LAST_PORT that is free, and whose bus port (+10000) is free too. */
async function pickPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * (LAST_PORT - FIRST_PORT));
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free port pair found between ${FIRST_PORT} and ${LAST_PORT}`);
}

function logTail(dir: string, file: string): string {
  try {
    return readFileSync(join(dir, file), 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}

/** A client for one server, for the harness's own checks: no retries, quick to give up. */
function probe(address: Address): Redis {
  const client = new Redis({ ...address, lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 1_000 });
  client.on('error', () => {});
  return client;
}

async function ask<T>(address: Address, question: (client: Redis) => Promise<T>): Promise<T> {
  const client = probe(address);
  try {
    await client.connect();
    return await question(client);
  } finally {
    client.disconnect();
  }
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== null) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what} did not happen within ${timeoutMs} ms${why}`);
    }
    await sleep(50);
  }
}

/** Runs redis-server with `args` in `dir`; resolves once it answers PING on `port`, or with why it did not. */
async function spawnServer(port: number, dir: string, args: readonly string[], what: string): Promise<ServerProcess | string> {
  const child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<string>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT' ? 'no redis-server binary on PATH' : error.message));
    child.once('exit', (code, signal) => resolve(`exited (${signal ?? `code ${code}`}): ${logTail(dir, 'redis.log')}`));
  });
  if (child.pid === undefined) return failed;
  const server: ServerProcess = { child, pid: child.pid, port, dir, args, what, exited };
  running.add(server);
  const answered = until(`${what} on port ${port} answering`, 5_000, () =>
    ask({ host: HOST, port }, async (client) => ((await client.ping()) === 'PONG' ? true : null)),
  );
  const outcome = await Promise.race([answered.then(() => null), failed]);
  if (outcome === null) return server;
  await stopServer(server);
  return outcome;
}

/** Starts one redis-server (or sentinel) on a port of its own, on another port if that one was taken meanwhile. */
async function startServer(args: (port: number, dir: string) => string[], taken: Set<number>, what: string): Promise<ServerProcess> {
  let lastFailure = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await pickPort(taken);
    const dir = tempDir(what);
    const started = await spawnServer(port, dir, args(port, dir), what);
    if (typeof started !== 'string') return started;
    lastFailure = started;
    removeDir(dir);
    if (lastFailure.startsWith('no redis-server')) break;
  }
  throw new Error(`could not start ${what}: ${lastFailure}`);
}

/** The same server again, on its port and in its directory (so a cluster node finds its nodes.conf). */
async function restartServer(server: ServerProcess): Promise<ServerProcess> {
  const started = await spawnServer(server.port, server.dir, server.args, server.what);
  if (typeof started === 'string') throw new Error(`could not restart ${server.what} on port ${server.port}: ${started}`);
  return started;
}

// No delay before a full sync: the default 5 s would hold every replica (and the tests) back.
const COMMON = ['--bind', HOST, '--save', '', '--appendonly', 'no', '--logfile', 'redis.log', '--repl-diskless-sync-delay', '0'];

function runRedisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`redis-cli ${args.join(' ')} failed (${code}): ${output.trim()}`))));
  });
}

export type RedisCluster = {
  /** Every node, masters first. */
  readonly nodes: readonly Address[];
  /** The nodes as REDIS_CLUSTER_NODES takes them: host:port,host:port,... */
  readonly nodeList: string;
  /** Stops every node (SIGTERM), keeping their directories for `startNodes`: the whole cluster is away. */
  stopNodes(): Promise<void>;
  /** Starts the stopped nodes again on their ports; resolves when the cluster is ok again (its data is gone). */
  startNodes(): Promise<void>;
  /** Stops every node and removes its directory. */
  stop(): Promise<void>;
};

export type ClusterOptions = { masters?: number; replicasPerMaster?: number };

/** A Redis Cluster on free ports, every slot assigned, `cluster_state:ok` on every node. */
export async function startCluster(options: ClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  if (masters < 3) throw new Error('redis-cli --cluster create needs at least 3 masters');
  const taken = new Set<number>();
  let servers: ServerProcess[] = [];
  const stopNodes = async () => {
    await Promise.all(servers.map((server) => stopServer(server)));
  };
  const stop = async () => {
    await stopNodes();
    for (const server of servers) removeDir(server.dir);
  };
  const clusterOk = (nodes: readonly Address[]) =>
    Promise.all(
      nodes.map((node) =>
        until(`cluster_state:ok on ${node.port}`, 10_000, () =>
          ask(node, async (client) => {
            const info = String(await client.cluster('INFO'));
            return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${nodes.length}`) ? true : null;
          }),
        ),
      ),
    );
  try {
    const started = await Promise.all(
      Array.from({ length: masters * (1 + replicas) }, () =>
        startServer((port) => ['--port', String(port), ...COMMON, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'], taken, 'cluster-node'),
      ),
    );
    servers.push(...started);
    const nodes = servers.map((server) => ({ host: HOST, port: server.port }));
    await runRedisCli(['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
    await clusterOk(nodes);
    const startNodes = async () => {
      servers = await Promise.all(servers.map((server) => (running.has(server) ? server : restartServer(server))));
      await clusterOk(nodes);
    };
    return { nodes, nodeList: nodes.map((n) => `${n.host}:${n.port}`).join(','), stopNodes, startNodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export type SentinelSet = {
  /** The name the Sentinels monitor the primary under (REDIS_SENTINEL_NAME). */
  readonly name: string;
  readonly sentinels: readonly Address[];
  /** The Sentinels as REDIS_SENTINELS takes them: host:port,host:port,... */
  readonly sentinelList: string;
  /** The primary's address as the Sentinels give it now. */
  primary(): Promise<Address>;
  /** SIGKILLs whichever server is the primary now; resolves with its address. */
  killPrimary(): Promise<Address>;
  /** SIGKILLs the replica (the data server that is not the primary now); resolves with its address. */
  killReplica(): Promise<Address>;
  /** Asks a Sentinel to fail over while the primary is up (SENTINEL FAILOVER); resolves with the old primary's address. */
  failover(): Promise<Address>;
  /**
   * Resolves once a Sentinel names a primary other than `previous` and has finished the failover
   * (it announces +switch-master then), with how long that took since `since`.
   */
  waitForFailover(previous: Address, since?: number, timeoutMs?: number): Promise<{ primary: Address; ms: number }>;
  stop(): Promise<void>;
};

export type SentinelOptions = { name?: string; downAfterMs?: number; failoverTimeoutMs?: number };

async function sentinelPrimary(sentinel: Address, name: string): Promise<Address | null> {
  return ask(sentinel, async (client) => {
    const reply = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string] | null;
    return reply ? { host: reply[0], port: Number(reply[1]) } : null;
  });
}

/** Pairs of a flat [field, value, ...] reply (what Sentinel answers over RESP2) or a map's entries (RESP3). */
function fields(entry: unknown): Map<string, string> {
  if (Array.isArray(entry)) {
    const map = new Map<string, string>();
    for (let i = 0; i + 1 < entry.length; i += 2) map.set(String(entry[i]), String(entry[i + 1]));
    return map;
  }
  if (entry && typeof entry === 'object') return new Map(Object.entries(entry).map(([k, v]) => [k, String(v)]));
  return new Map();
}

/**
 * A primary, one replica and three Sentinels (quorum 2), short timeouts so a failover takes
 * seconds; resolves once every Sentinel knows the replica and the other Sentinels, so a
 * failover can be agreed.
 */
export async function startSentinelSet(options: SentinelOptions = {}): Promise<SentinelSet> {
  const name = options.name ?? 'cc';
  const downAfterMs = options.downAfterMs ?? 1_000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 5_000;
  const taken = new Set<number>();
  const servers: ServerProcess[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => stopServer(server)));
    for (const server of servers) removeDir(server.dir);
  };
  try {
    const first = await startServer((port) => ['--port', String(port), ...COMMON], taken, 'sentinel-primary');
    servers.push(first);
    const replica = await startServer((port) => ['--port', String(port), ...COMMON, '--replicaof', HOST, String(first.port)], taken, 'sentinel-replica');
    servers.push(replica);
    await until('the replica in sync', 10_000, () =>
      ask({ host: HOST, port: replica.port }, async (client) => ((await client.info('replication')).includes('master_link_status:up') ? true : null)),
    );
    const sentinelServers = await Promise.all(
      [0, 1, 2].map(() =>
        startServer((port, dir) => {
          // Sentinel rewrites its configuration file as it learns, so the file is its own, in its directory.
          const file = join(dir, 'sentinel.conf');
          writeFileSync(
            file,
            [
              `port ${port}`,
              `bind ${HOST}`,
              `dir ${dir}`,
              'logfile redis.log',
              `sentinel monitor ${name} ${HOST} ${first.port} 2`,
              `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
              `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
              `sentinel parallel-syncs ${name} 1`,
              '',
            ].join('\n'),
          );
          return [file, '--sentinel'];
        }, taken, 'sentinel'),
      ),
    );
    servers.push(...sentinelServers);
    const sentinels = sentinelServers.map((server) => ({ host: HOST, port: server.port }));
    // Every Sentinel sees a replica in sync and the other Sentinels: a failover can be agreed.
    await Promise.all(
      sentinels.map((sentinel) =>
        until(`sentinel ${sentinel.port} seeing a replica in sync and the other sentinels`, 15_000, () =>
          ask(sentinel, async (client) => {
            const replicas = (await client.call('SENTINEL', 'REPLICAS', name)) as unknown[];
            const others = (await client.call('SENTINEL', 'SENTINELS', name)) as unknown[];
            const replicaUp = replicas.map(fields).some((r) => !/s_down|disconnected/.test(r.get('flags') ?? '') && r.get('master-link-status') === 'ok');
            return replicaUp && others.length === sentinels.length - 1 ? true : null;
          }),
        ),
      ),
    );

    const primary = async (): Promise<Address> => {
      for (const sentinel of sentinels) {
        const address = await sentinelPrimary(sentinel, name).catch(() => null);
        if (address) return address;
      }
      throw new Error('no sentinel names a primary');
    };

    return {
      name,
      sentinels,
      sentinelList: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      primary,
      killPrimary: async () => {
        const address = await primary();
        const server = servers.find((s) => s.port === address.port && running.has(s));
        if (!server) throw new Error(`the primary ${address.host}:${address.port} is not one of this set's servers`);
        await killServer(server);
        return address;
      },
      killReplica: async () => {
        const address = await primary();
        const server = [first, replica].find((s) => s.port !== address.port && running.has(s));
        if (!server) throw new Error(`no replica of the primary ${address.host}:${address.port} is running`);
        await killServer(server);
        return { host: HOST, port: server.port };
      },
      failover: async () => {
        const address = await primary();
        const [sentinel] = sentinels;
        if (!sentinel) throw new Error('no sentinel');
        await ask(sentinel, (client) => client.call('SENTINEL', 'FAILOVER', name));
        return address;
      },
      waitForFailover: async (previous, since = Date.now(), timeoutMs = 20_000) => {
        const promoted = await until(`a failover away from ${previous.host}:${previous.port}`, timeoutMs, async () => {
          for (const sentinel of sentinels) {
            const address = await sentinelPrimary(sentinel, name).catch(() => null);
            if (!address || address.port === previous.port) continue;
            // The new address is given out from the promotion on; the switch is announced when the failover ends.
            const state = await ask(sentinel, (client) => client.call('SENTINEL', 'MASTER', name)).catch(() => null);
            if (fields(state).get('flags') === 'master') return address;
          }
          return null;
        });
        return { primary: promoted, ms: Date.now() - since };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

let shared: Promise<RedisCluster> | null = null;

/** One 3-master cluster for every test file of a run that wants one; stopped by the root hook above. */
export function sharedCluster(): Promise<RedisCluster> {
  shared ??= startCluster({ masters: 3 }).catch((error: unknown) => {
    shared = null;
    throw error;
  });
  return shared;
}

/** A client made the way the line makes one (connectRedis), once it can take commands. */
export async function lineClient(topology: RedisTopology): Promise<RedisClient> {
  const client = connectRedis(topology);
  try {
    await untilReady(client, 10_000);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/** A Cluster client for inspecting and cleaning up in tests. */
export async function clusterAdmin(cluster: RedisCluster): Promise<Cluster> {
  const client = await lineClient({ kind: 'cluster', nodes: cluster.nodes, auth: null });
  if (!(client instanceof Cluster)) throw new Error('expected a Cluster client');
  return client;
}
