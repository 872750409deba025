// The bench's instruments (scripts/bench/): the Redis tap counts what it claims to, the load
// generator's connection reads replies right, and the bench's walk still matches the line's menus.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startBareServer } from '../scripts/bench/bare-app.ts';
import { KeepAliveConnection } from '../scripts/bench/keep-alive-connection.ts';
import { lineConfig, startLineServer } from '../scripts/bench/line-server.ts';
import { LoadGenerator } from '../scripts/bench/load-generator.ts';
import { WRONG_EVERY } from '../scripts/bench/login-callers.ts';
import { RedisTap } from '../scripts/bench/redis-accounting.ts';
import { WEBHOOKS_PER_CALL } from '../scripts/bench/walk.ts';
import { loadDemoCaseload } from './support/lines.ts';
import { flushPrefix, testRedisClient, testRedisUrl, uniquePrefix } from './support/redis.ts';

describe('bench: RedisTap', () => {
  let tap: RedisTap;
  let client: Redis;
  const prefix = uniquePrefix();

  before(async () => {
    tap = await RedisTap.start(await testRedisUrl());
    client = new Redis(tap.url, { maxRetriesPerRequest: 1 });
    await client.ping();
  });
  beforeEach(() => tap.reset());
  after(async () => {
    await flushPrefix(client, prefix);
    client.disconnect();
    await tap.close();
  });

  it('counts a command sent after awaiting the last one as a round trip of its own', async () => {
    await client.get(`${prefix}a`);
    await client.get(`${prefix}b`);
    expect(tap.counts()).to.deep.include({ commands: 2, roundTrips: 2, byName: [{ name: 'GET', count: 2 }] });
  });

  it('counts a MULTI or a pipeline written at once as one round trip', async () => {
    await client.multi().set(`${prefix}a`, '1').set(`${prefix}b`, '2').exec();
    expect(tap.counts()).to.include({ commands: 4, roundTrips: 1 });
    tap.reset();
    await client.pipeline().get(`${prefix}a`).get(`${prefix}b`).get(`${prefix}c`).exec();
    expect(tap.counts()).to.include({ commands: 3, roundTrips: 1 });
  });

  it('reads a command whose value spans many writes and holds CRLF', async () => {
    await client.set(`${prefix}big`, 'line\r\n'.repeat(100_000));
    const counts = tap.counts();
    expect(counts).to.deep.include({ commands: 1, byName: [{ name: 'SET', count: 1 }] });
    expect(counts.bytesToRedis).to.be.greaterThan(600_000);
  });
});

describe('bench: KeepAliveConnection', () => {
  let server: Server;
  let port: number;
  let connections = 0;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/chunked') {
        res.write('chun');
        res.end('ked é');
      } else if (req.url === '/close') {
        res.setHeader('Connection', 'close');
        res.end('bye');
      } else {
        res.statusCode = req.url === '/missing' ? 404 : 200;
        res.end('with a length');
      }
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;

  it('reads Content-Length and chunked replies, one after another on one socket', async () => {
    const before = connections;
    const connection = new KeepAliveConnection('127.0.0.1', port);
    const first = await connection.send(get('/'));
    const second = await connection.send(get('/chunked'));
    const third = await connection.send(get('/missing'));
    connection.close();
    expect([first.status, first.body.toString()]).to.deep.equal([200, 'with a length']);
    expect([second.status, second.body.toString('utf8')]).to.deep.equal([200, 'chunked é']);
    expect(third.status).to.equal(404);
    expect(connections - before).to.equal(1);
  });

  it('opens a new socket after the server closes one', async () => {
    const before = connections;
    const connection = new KeepAliveConnection('127.0.0.1', port);
    expect((await connection.send(get('/close'))).body.toString()).to.equal('bye');
    expect((await connection.send(get('/'))).status).to.equal(200);
    connection.close();
    expect(connections - before).to.equal(2);
  });
});

describe('bench: the load generator', () => {
  const authToken = 'bench-test-token';
  let generator: LoadGenerator;

  beforeEach(() => {
    generator = new LoadGenerator();
  });
  afterEach(() => generator.close());

  it("walks the line's menus as the bench does, and its signatures made ahead are the ones the line accepts", async function () {
    this.timeout(30_000);
    const prefix = uniquePrefix();
    const line = await startLineServer({ redisUrl: await testRedisUrl(), prefix, authToken, at: '2026-11-24T18:00:00.000Z', profileDir: null });
    try {
      const base = { target: 'line' as const, url: line.info.url, authToken, population: 'menus' as const, thinkMs: 0, seconds: null };
      const first = await generator.run({ ...base, run: 1, concurrency: 2, calls: 2 });
      expect(first.failures).to.deep.equal([]);
      expect(first.requests).to.equal(2 * WEBHOOKS_PER_CALL);
      generator.prepare({ target: 'line', url: line.info.url, authToken, calls: 3 });
      const signedAhead = await generator.run({ ...base, run: 2, concurrency: 3, calls: 3 });
      expect(signedAhead.failures).to.deep.equal([]);
      expect(signedAhead.signedInRun).to.equal(0);
    } finally {
      await line.close();
      const redis = await testRedisClient();
      await flushPrefix(redis, prefix);
      redis.disconnect();
    }
  });

  it("plays the login mix's callers against the line: ID, PIN (a wrong one first in some calls, then 1 to try again), balance", async function () {
    this.timeout(60_000);
    const prefix = uniquePrefix();
    const options = { redisUrl: await testRedisUrl(), prefix, authToken, at: '2026-11-24T18:00:00.000Z', profileDir: null, bcryptCost: '4' };
    const line = await startLineServer(options);
    try {
      await loadDemoCaseload(options.redisUrl, lineConfig(options, line.info.url));
      const run = await generator.run({ run: 1, target: 'line', url: line.info.url, authToken, population: 'login', concurrency: 2, thinkMs: 0, calls: 2 * WRONG_EVERY, seconds: null });
      expect(run.failures).to.deep.equal([]);
      expect(run.login?.successes).to.equal(2 * WRONG_EVERY);
      expect((run.login?.wrongPin ?? 0) + (run.login?.unknownId ?? 0)).to.equal(2);
    } finally {
      await line.close();
      const redis = await testRedisClient();
      await flushPrefix(redis, prefix);
      redis.disconnect();
    }
  });

  it('walks the bare app, whose menu is about 400 bytes', async () => {
    const bare = await startBareServer({ profileDir: null });
    try {
      const run = await generator.run({ run: 1, target: 'bare', url: bare.info.url, authToken, population: 'menus', concurrency: 2, thinkMs: 0, calls: 4, seconds: null });
      expect(run.failures).to.deep.equal([]);
      expect(run.requests).to.equal(4 * WEBHOOKS_PER_CALL);
      expect(bare.info.replyBytes).to.be.within(350, 450);
    } finally {
      await bare.close();
    }
  });
});
