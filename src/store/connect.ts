// The one place a Redis client is made from configuration: a single server (REDIS_URL), a Redis
// Cluster (REDIS_CLUSTER_NODES) or the primary that Sentinels name (REDIS_SENTINELS). Every store
// takes what this returns.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisAddress, RedisTopology } from '../config.ts';
import { WEB_CLIENT_OPTIONS } from './redis.ts';

export type RedisClient = Redis | Cluster;

type ClusterTopology = Extract<RedisTopology, { kind: 'cluster' }>;
type SentinelTopology = Extract<RedisTopology, { kind: 'sentinel' }>;

/** How long after a switch a client not on the announced primary keeps reconnecting. */
const SWITCH_FOLLOWED_FOR_MS = 10_000;

export type ConnectOptions = {
  /** Told about connection trouble, once per distinct message; messages carry no credentials. */
  onError?: (message: string) => void;
};

const list = (addresses: readonly RedisAddress[]) => addresses.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',');

/** The URL with any password blanked. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparseable REDIS_URL)';
  }
}

/** Where the line looks for Redis, for messages: never a password. */
export function describeTopology(topology: RedisTopology): string {
  switch (topology.kind) {
    case 'single':
      return `Redis at ${displayUrl(topology.url)}`;
    case 'cluster':
      return `the Redis Cluster at ${list(topology.nodes)}`;
    case 'sentinel':
      return `the Redis primary "${topology.name}" of the Sentinels at ${list(topology.sentinels)}`;
  }
}

/** The setting that names the topology, for "check X" in messages. */
export function topologySetting(topology: RedisTopology): string {
  return { single: 'REDIS_URL', cluster: 'REDIS_CLUSTER_NODES', sentinel: 'REDIS_SENTINELS and REDIS_SENTINEL_NAME' }[topology.kind];
}

function authOptions(topology: ClusterTopology | SentinelTopology): Pick<RedisOptions, 'username' | 'password'> {
  return topology.auth ? { password: topology.auth.password, ...(topology.auth.username ? { username: topology.auth.username } : {}) } : {};
}

// A primary that became a replica (a failover while this client stayed connected to it) refuses writes.
const reconnectOnReadOnly = (error: Error): 2 | false => (error.message.startsWith('READONLY') ? 2 : false);

function clusterClient(topology: ClusterTopology): Cluster {
  const { connectTimeout, commandTimeout, maxRetriesPerRequest, retryStrategy, enableAutoPipelining } = WEB_CLIENT_OPTIONS;
  const options: ClusterOptions = {
    redisOptions: { connectTimeout, commandTimeout, maxRetriesPerRequest, ...authOptions(topology) },
    clusterRetryStrategy: retryStrategy ?? null,
    enableAutoPipelining,
    // A Cluster puts no timeout on the commands it queues while it has no node to send them to
    // (redis/ioredis#1604): with every node away a webhook would wait for ever. Without the queue
    // they fail at once, as on a single server; so wait for `untilReady` before the first command.
    enableOfflineQueue: false,
    // A moved slot or a failed-over master is retried for about a second (16 × 100 ms), then the command fails.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    slotsRefreshTimeout: 1_000,
  };
  return new Cluster(topology.nodes.map(({ host, port }) => ({ host, port })), options);
}

function sentinelClient(topology: SentinelTopology): Redis {
  const client = new Redis({
    ...WEB_CLIENT_OPTIONS,
    ...authOptions(topology),
    sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
    name: topology.name,
    role: 'master',
    // Asks the Sentinels again soon while none answers, as the web client retries a server.
    sentinelRetryStrategy: (times) => Math.min(100 * times, 2_000),
    sentinelCommandTimeout: WEB_CLIENT_OPTIONS.connectTimeout,
    // followSwitches does its job: see there.
    failoverDetector: false,
    reconnectOnError: reconnectOnReadOnly,
  });
  followSwitches(client, topology);
  return client;
}

/**
 * Moves a Sentinel client to the new primary as soon as a Sentinel announces the switch
 * (+switch-master). Otherwise a client stays on an old primary that is still up (a failover an
 * operator asked for, a partition) until Sentinel demotes it, some ten seconds later, and the
 * writes it took meanwhile are dropped by its resync. ioredis's failoverDetector does this too,
 * but a switch that lands while the client is reconnecting ends that client for good (status
 * 'end'; about one failover in thirty here), so this acts on a ready client only. The other
 * Sentinels learn of the switch a moment later and may still name the old primary: the client
 * goes on reconnecting, for a while, until it is on the announced one.
 */
function followSwitches(client: Redis, topology: SentinelTopology): void {
  let target: { ip: string; port: number; until: number } | null = null;
  const moveIfStale = () => {
    if (!target || client.status !== 'ready') return;
    const { remoteAddress, remotePort } = client.stream;
    if (Date.now() > target.until || (remotePort === target.port && remoteAddress?.replace(/^::ffff:/, '') === target.ip)) {
      target = null;
      return;
    }
    client.disconnect(true);
  };
  const watchers = topology.sentinels.map(({ host, port }) => {
    const watcher = new Redis({
      host, port,
      connectTimeout: WEB_CLIENT_OPTIONS.connectTimeout,
      retryStrategy: (times) => Math.min(1_000 * times, 10_000),
      maxRetriesPerRequest: null,
    });
    // The client itself reports Sentinels it cannot reach.
    watcher.on('error', () => {});
    watcher.on('message', (_channel: string, message: string) => {
      // <name> <old ip> <old port> <new ip> <new port>
      const [name, , , ip, newPort] = message.split(' ');
      if (name !== topology.name || !ip || !newPort) return;
      target = { ip, port: Number(newPort), until: Date.now() + SWITCH_FOLLOWED_FOR_MS };
      moveIfStale();
    });
    watcher.subscribe('+switch-master').catch(() => {});
    return watcher;
  });
  client.on('ready', moveIfStale);
  client.once('end', () => {
    for (const watcher of watchers) watcher.disconnect();
  });
}

/**
 * A client for a web service, for any topology: fails a command in about a second while Redis
 * is away (a webhook must answer within Twilio's 15 s), reconnects by itself when it is back,
 * and pipelines what concurrent webhooks send in one tick.
 */
export function connectRedis(topology: RedisTopology, options: ConnectOptions = {}): RedisClient {
  const client =
    topology.kind === 'cluster' ? clusterClient(topology)
    : topology.kind === 'sentinel' ? sentinelClient(topology)
    : new Redis(topology.url, WEB_CLIENT_OPTIONS);
  // Retries repeat the same trouble (a Cluster's for each node in turn, Sentinel's with its next
  // delay in it): each once until the client is ready again.
  const reported = new Set<string>();
  const report = (prefix: string) => (error: unknown) => {
    const message = `${prefix}${error instanceof Error ? error.message : String(error)}`;
    const kind = message.replace(/\d+ ?ms\b/g, 'N ms');
    if (reported.has(kind) || reported.size >= 20) return;
    reported.add(kind);
    options.onError?.(message);
  };
  // Without an 'error' listener ioredis would raise an unhandled 'error' event and end the process.
  client.on('error', report('redis: '));
  if (client instanceof Cluster) client.on('node error', (error: unknown, node: string) => report(`redis: node ${node}: `)(error));
  if (topology.kind === 'sentinel') client.on('sentinelError', report('redis sentinel: '));
  client.on('ready', () => reported.clear());
  return client;
}

/**
 * Resolves once the client takes commands. Rejects after `timeoutMs`, or at the first error
 * before that (a Cluster none of whose nodes answers says so at once, then keeps retrying).
 */
export function untilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onReady = () => done();
    const onError = (error: unknown) => done(error ?? new Error('connection failed'));
    const timer = setTimeout(() => done(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
    client.once('ready', onReady);
    client.once('error', onError);
  });
}
