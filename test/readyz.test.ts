// GET /readyz against Redis servers of its own: ready means the store takes a write, so a Redis
// that still answers reads but refuses writes (full under noeviction, or a read-only replica)
// takes the line out of the load balancer.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { createLine, type Line } from '../src/server.ts';
import { READY_PROBE_TTL_MS, RedisStore } from '../src/store/redis.ts';
import { testLineConfig } from './support/lines.ts';
import { recordingLogger, type RecordingLogger } from './support/recording-logger.ts';
import { startRedisServer, testRedisClient, uniquePrefix, watchCommands, type RedisServer } from './support/redis.ts';

describe('GET /readyz proves the store takes a write (own redis-servers)', function () {
  this.timeout(30_000);
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  const lines: Line[] = [];
  let logger: RecordingLogger;
  const warned = (msg: string) => logger.lines.find((line) => line.level === 'warn' && line.msg === msg);

  beforeEach(() => {
    logger = recordingLogger();
  });
  afterEach(async () => {
    for (const line of lines.splice(0)) {
      await line.close();
      await line.store.close();
    }
    for (const client of clients.splice(0)) client.disconnect();
    for (const server of servers.splice(0)) server.stop();
  });

  async function server(settings: string[] = []): Promise<RedisServer> {
    const started = await startRedisServer(undefined, settings);
    servers.push(started);
    return started;
  }

  async function client(url: string): Promise<Redis> {
    const opened = await testRedisClient(url);
    clients.push(opened);
    return opened;
  }

  async function lineOn(url: string, prefix = uniquePrefix()): Promise<Line> {
    const config = await testLineConfig({ REDIS_PREFIX: prefix });
    const line = await createLine({ config, store: RedisStore.connect(url, prefix), logger });
    lines.push(line);
    return line;
  }

  it('a healthy Redis is ready, and the probe leaves no key behind (one that expires within seconds, were the read lost)', async () => {
    const redis = await server();
    const admin = await client(redis.url);
    const prefix = uniquePrefix();
    const line = await lineOn(redis.url, prefix);
    const ready = await request(line.app).get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({ ok: true, store: 'redis' });
    expect(await admin.keys(`${prefix}*`)).to.deep.equal([]);
    const watched: string[][] = [];
    const watch = await watchCommands(admin, (args) => watched.push(args));
    await request(line.app).get('/readyz');
    await new Promise((resolve) => setTimeout(resolve, 50)); // MONITOR's lines trail the replies
    watch.stop();
    const readyKey = (line.store as RedisStore).readyKey;
    const probe = watched.find((args) => args[0]?.toLowerCase() === 'set' && args[1] === readyKey);
    expect(probe?.slice(3).map((arg) => arg.toLowerCase())).to.deep.equal(['px', String(READY_PROBE_TTL_MS)]);
  });

  it('a full Redis (maxmemory, noeviction) answers reads but is not ready; it is ready again once there is room', async () => {
    const redis = await server(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
    const admin = await client(redis.url);
    const line = await lineOn(redis.url);
    expect((await request(line.app).get('/readyz')).status).to.equal(200);
    await admin.set('kept', 'still readable');
    // Large values first, then tiny ones: a refused large write leaves room a small one still takes.
    let i = 0;
    for (const size of [64 * 1024, 1024, 1]) {
      let full = false;
      for (let tries = 0; tries < 5_000 && !full; tries++, i++) {
        full = await admin.set(`filler:${i}`, 'x'.repeat(size)).then(() => false, (error: Error) => /OOM/.test(error.message));
      }
      expect(full, `Redis refused a ${size}-byte write for want of memory`).to.equal(true);
    }

    const notReady = await request(line.app).get('/readyz');
    expect(notReady.status).to.equal(503);
    expect(notReady.body).to.deep.equal({ ok: false, store: 'redis' });
    expect(await admin.get('kept')).to.equal('still readable');
    expect(await line.store.getSession('CA00000000000000000000000000000000')).to.equal(null);
    // The operator learns why from the log.
    expect(warned('not ready')?.fields.error).to.match(/OOM/);

    await admin.flushall();
    expect((await request(line.app).get('/readyz')).status).to.equal(200);
  });

  it('a read-only replica answers reads but is not ready', async () => {
    const primary = await server();
    const replica = await server(['--replicaof', '127.0.0.1', String((primary).port), '--replica-read-only', 'yes']);
    const writer = await client(primary.url);
    const reader = await client(replica.url);
    await writer.set('written-on-the-primary', 'yes');
    for (let i = 0; i < 100 && (await reader.get('written-on-the-primary')) !== 'yes'; i++) await sleep(50);
    expect(await reader.get('written-on-the-primary')).to.equal('yes');

    const line = await lineOn(replica.url);
    const notReady = await request(line.app).get('/readyz');
    expect(notReady.status).to.equal(503);
    expect(warned('not ready')?.fields.error).to.match(/READONLY/);
    expect((await request(line.app).get('/healthz')).status).to.equal(200);
    expect((await request(await lineOn(primary.url).then((l) => l.app)).get('/readyz')).status).to.equal(200);
  });
});
