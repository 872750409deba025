// What the line asks of Redis (npm run bench -- --redis): the commands it sends per webhook,
// the round trips they take, the bytes each way, and the memory a live call's keys hold.
//
// Commands and round trips are counted exactly, on the wire: a line process of its own talks to
// Redis through RedisTap, a pass-through TCP relay that reads the commands (RESP arrays) going
// out and notes which way the bytes flow. A round trip starts whenever the line writes after
// Redis last answered: commands it sends together (a pipeline, a MULTI, auto-pipelined calls of
// one tick) are one round trip, a command sent after awaiting a reply is another. (MONITOR can
// not tell these apart: it only stamps the time each command ran.)
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';

export type CommandCount = {
  commands: number;
  roundTrips: number;
  bytesToRedis: number;
  bytesFromRedis: number;
  byName: Array<{ name: string; count: number }>;
};

/** Reads RESP command arrays (what a client sends) as they stream by, counting them by name. */
class CommandReader {
  private buffer: Buffer = Buffer.alloc(0);
  readonly names = new Map<string, number>();
  commands = 0;

  feed(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let at = 0;
    for (;;) {
      const end = this.command(at);
      if (end === null) break;
      at = end;
    }
    this.buffer = this.buffer.subarray(at);
  }

  /** Reads one command at `at`; where it ends, or null when it is not all here yet. */
  private command(at: number): number | null {
    const b = this.buffer;
    if (at >= b.length) return null;
    if (b[at] !== 0x2a /* * */) throw new Error(`not a RESP command array at "${b.toString('latin1', at, at + 20)}"`);
    const header = this.line(at + 1);
    if (header === null) return null;
    let pos = header.next;
    let name = '?';
    for (let i = 0; i < header.value; i += 1) {
      if (pos >= b.length) return null;
      if (b[pos] !== 0x24 /* $ */) throw new Error('a RESP command element that is not a bulk string');
      const bulk = this.line(pos + 1);
      if (bulk === null || bulk.next + bulk.value + 2 > b.length) return null;
      if (i === 0) name = b.toString('latin1', bulk.next, bulk.next + bulk.value).toUpperCase();
      pos = bulk.next + bulk.value + 2;
    }
    this.commands += 1;
    this.names.set(name, (this.names.get(name) ?? 0) + 1);
    return pos;
  }

  private line(from: number): { value: number; next: number } | null {
    const end = this.buffer.indexOf('\r\n', from, 'latin1');
    if (end < 0) return null;
    return { value: Number(this.buffer.toString('latin1', from, end)), next: end + 2 };
  }
}

/** A pass-through relay to Redis that counts what one client sends through it. */
export class RedisTap {
  private reader = new CommandReader();
  private roundTrips = 0;
  private bytesOut = 0;
  private bytesIn = 0;
  /** Whether Redis has answered since the client last wrote. */
  private answered = true;
  private unreadable: string | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server, private readonly target: URL) {}

  static async start(redisUrl: string): Promise<RedisTap> {
    const target = new URL(redisUrl);
    if (target.protocol !== 'redis:') throw new Error(`--redis counts commands on the wire, which needs a plain redis:// URL (got ${target.protocol})`);
    let tap: RedisTap | null = null;
    const server = createServer((client) => tap?.relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    tap = new RedisTap(server, target);
    return tap;
  }

  /** REDIS_URL with the relay's address in place of Redis's (credentials and database kept). */
  get url(): string {
    const url = new URL(this.target.href);
    url.hostname = '127.0.0.1';
    url.port = String((this.server.address() as AddressInfo).port);
    return url.href;
  }

  /** Forgets what was counted so far (the client's connection set-up, say). */
  reset(): void {
    this.reader = new CommandReader();
    this.roundTrips = 0;
    this.bytesOut = 0;
    this.bytesIn = 0;
    this.answered = true;
    this.unreadable = null;
  }

  counts(): CommandCount {
    if (this.unreadable !== null) throw new Error(`the commands to Redis could not be read: ${this.unreadable}`);
    return {
      commands: this.reader.commands,
      roundTrips: this.roundTrips,
      bytesToRedis: this.bytesOut,
      bytesFromRedis: this.bytesIn,
      byName: [...this.reader.names].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count),
    };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    const redis = connect({ host: this.target.hostname, port: Number(this.target.port || 6379), noDelay: true });
    client.setNoDelay(true);
    for (const socket of [client, redis]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => {
      if (this.answered) this.roundTrips += 1;
      this.answered = false;
      this.bytesOut += chunk.length;
      try {
        this.reader.feed(chunk);
      } catch (error) {
        this.unreadable ??= error instanceof Error ? error.message : String(error);
      }
      redis.write(chunk);
    });
    redis.on('data', (chunk: Buffer) => {
      this.answered = true;
      this.bytesIn += chunk.length;
      client.write(chunk);
    });
    client.on('close', () => redis.destroy());
    redis.on('close', () => client.destroy());
    client.on('error', () => redis.destroy());
    redis.on('error', () => client.destroy());
  }
}

export type Footprint = {
  calls: number;
  keysPerCall: number;
  bytesPerCall: number;
  /** By the part of the key after the call's hash tag (session, lock, reply, ...). */
  byKind: Array<{ kind: string; keysPerCall: number; bytesPerCall: number }>;
};

/** MEMORY USAGE of every key under `prefix` that belongs to one of `callSids` (by its {CallSid} hash tag), per call. */
export async function liveCallFootprint(redis: Redis, prefix: string, callSids: readonly string[]): Promise<Footprint> {
  const wanted = new Set(callSids.map((sid) => encodeURIComponent(sid)));
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  const kinds = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const tagged = /\{([^}]*)\}:?([^:]*)/.exec(key.slice(prefix.length));
      if (!tagged || !wanted.has(tagged[1] ?? '')) continue;
      const bytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) || 0;
      const kind = tagged[2] || '(the tag alone)';
      const entry = kinds.get(kind) ?? { keys: 0, bytes: 0 };
      entry.keys += 1;
      entry.bytes += bytes;
      kinds.set(kind, entry);
    }
  } while (cursor !== '0');
  const calls = callSids.length;
  let keys = 0;
  let bytes = 0;
  for (const entry of kinds.values()) {
    keys += entry.keys;
    bytes += entry.bytes;
  }
  return {
    calls,
    keysPerCall: calls > 0 ? keys / calls : NaN,
    bytesPerCall: calls > 0 ? bytes / calls : NaN,
    byKind: [...kinds].map(([kind, e]) => ({ kind, keysPerCall: e.keys / calls, bytesPerCall: e.bytes / calls })).sort((a, b) => b.bytesPerCall - a.bytesPerCall),
  };
}
