import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import {
  CallBusyError,
  MemoryStore,
  RedisStore,
  openStore,
  type CallStore,
  type SessionRecord,
} from '../src/store/index.ts';
import {
  freePort,
  hasRedisServerBinary,
  keysUnder,
  RedisRun,
  startRedisServer,
  testRedisClient,
  testRedisUrl,
  uniquePrefix,
  type RedisServer,
} from './support/redis.ts';
import { clusterAdmin, lineClient, sharedCluster, type RedisCluster } from './support/redis-servers.ts';
import { rejection } from './support/rejection.ts';
import type { CallRecord } from '../src/domain/call-record.ts';

type Harness = {
  store: CallStore;
  /** Lets `ms` pass as far as TTLs are concerned: a fake clock in memory, a real wait in Redis. */
  elapse(ms: number): Promise<void>;
};
type Factory = (options: { callRecordDays?: number }) => Promise<Harness>;

const CALL = 'CA00000000000000000000000000000001';
const OTHER_CALL = 'CA00000000000000000000000000000002';

function session(turn = 1): SessionRecord {
  return {
    machineVersion: '2025-01-a',
    turn,
    language: 'es',
    snapshot: { status: 'active', value: { main: { account: 'balance' } }, context: { attempts: [1, 2], flags: { ok: true }, note: null } },
    lastReply: '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="es-MX">Hola</Say></Response>',
    startedAt: '2025-01-01T00:00:00.000Z',
  };
}

const DAY = 86_400_000;

/** Call `n`, started at `startedAt` and ended a minute later. */
function callRecord(n: number, startedAt: string | number): CallRecord {
  const started = new Date(startedAt);
  return {
    callSid: `CA${String(n).padStart(32, '0')}`,
    startedAt: started.toISOString(),
    endedAt: new Date(started.getTime() + 60_000).toISOString(),
    durationSeconds: n % 2 ? 60 : null,
    language: n % 3 ? 'en' : 'es',
    menus: ['language', 'main', 'hours'],
    outcome: 'self_served',
    transferReason: null,
    identification: 'none',
    identificationFailures: 0,
    payment: 'none',
    twilioStatus: 'completed',
  };
}

async function collect(records: AsyncIterable<CallRecord>): Promise<CallRecord[]> {
  const all: CallRecord[] = [];
  for await (const record of records) all.push(record);
  return all;
}

type Deferred<T = void> = { promise: Promise<T>; resolve(value: T): void };

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Starts a holder of CALL's lock and resolves once its work is running. */
async function hold(store: CallStore, leaseMs?: number): Promise<{ release(): void; done: Promise<void> }> {
  const entered = deferred();
  const released = deferred();
  const done = store.withCallLock(
    CALL,
    async () => {
      entered.resolve();
      await released.promise;
    },
    leaseMs === undefined ? {} : { leaseMs },
  );
  await entered.promise;
  return { release: () => released.resolve(), done };
}

function callStoreContract(name: string, factory: Factory): void {
  describe(`CallStore contract: ${name}`, function () {
    let opened: CallStore[] = [];
    const releaseAtEnd: Array<() => void> = [];

    async function open(options: { callRecordDays?: number } = {}): Promise<Harness> {
      const harness = await factory(options);
      opened.push(harness.store);
      return harness;
    }

    afterEach(async function () {
      releaseAtEnd.splice(0).forEach((release) => release());
      const stores = opened;
      opened = [];
      await Promise.all(stores.map((store) => store.close()));
    });

    describe('sessions', function () {
      it('round-trips a session by deep value, never by reference', async function () {
        const { store } = await open();
        const record = session();
        await store.saveSession(CALL, record, 60);
        (record.snapshot as { status: string }).status = 'changed after save';

        const read = await store.getSession(CALL);
        expect(read).to.deep.equal(session());
        expect(read).to.not.equal(record);

        (read!.snapshot as { status: string }).status = 'changed after get';
        expect(await store.getSession(CALL)).to.deep.equal(session());
      });

      it('answers null for an unknown call and after delete', async function () {
        const { store } = await open();
        expect(await store.getSession(CALL)).to.equal(null);
        await store.saveSession(CALL, session(), 60);
        await store.saveSession(OTHER_CALL, session(7), 60);
        await store.deleteSession(CALL);
        expect(await store.getSession(CALL)).to.equal(null);
        expect(await store.getSession(OTHER_CALL)).to.deep.equal(session(7));
        await store.deleteSession(CALL);
      });

      it('overwrites a saved session', async function () {
        const { store } = await open();
        await store.saveSession(CALL, session(1), 60);
        await store.saveSession(CALL, session(2), 60);
        expect((await store.getSession(CALL))?.turn).to.equal(2);
      });

      it('keeps only what JSON keeps, as Redis does', async function () {
        const { store } = await open();
        const record = { ...session(), snapshot: { gone: undefined, kept: 1 } };
        await store.saveSession(CALL, record, 60);
        expect((await store.getSession(CALL))?.snapshot).to.deep.equal({ kept: 1 });
      });

      it('expires sessions and replies after their TTL', async function () {
        const { store, elapse } = await open();
        await store.saveSession(CALL, session(), 1);
        await store.saveSession(OTHER_CALL, session(), 60);
        await store.saveReply(CALL, 'token-1', '<Response/>', 1);
        expect(await store.getSession(CALL)).to.deep.equal(session());
        expect(await store.getReply(CALL, 'token-1')).to.equal('<Response/>');

        await elapse(1_200);

        expect(await store.getSession(CALL)).to.equal(null);
        expect(await store.getReply(CALL, 'token-1')).to.equal(null);
        expect(await store.getSession(OTHER_CALL)).to.deep.equal(session());
      });

      it('refuses a TTL that is not a positive number', async function () {
        const { store } = await open();
        expect(await rejection(store.saveSession(CALL, session(), 0))).to.be.instanceOf(RangeError);
        expect(await rejection(store.saveReply(CALL, 't', '<Response/>', -1))).to.be.instanceOf(RangeError);
        expect(await rejection(store.saveSession(CALL, session(), Number.NaN))).to.be.instanceOf(RangeError);
      });
    });

    describe('call lock', function () {
      it('returns what the work returns and passes on what it throws, releasing either way', async function () {
        const { store } = await open();
        expect(await store.withCallLock(CALL, async () => 42)).to.equal(42);
        const boom = new Error('boom');
        expect(await rejection(store.withCallLock(CALL, async () => Promise.reject(boom)))).to.equal(boom);
        expect(await store.withCallLock(CALL, async () => 'free again', { waitMs: 0 })).to.equal('free again');
      });

      it('serialises two concurrent holders of one call', async function () {
        const { store } = await open();
        const events: string[] = [];
        const work = (who: string) => async () => {
          events.push(`${who}:start`);
          await sleep(40);
          events.push(`${who}:end`);
          return who;
        };
        const results = await Promise.all([store.withCallLock(CALL, work('a')), store.withCallLock(CALL, work('b'))]);
        expect(results).to.deep.equal(['a', 'b']);
        expect(events.join(' ')).to.be.oneOf(['a:start a:end b:start b:end', 'b:start b:end a:start a:end']);
      });

      it('lets only one of many concurrent webhooks in at a time, and all of them eventually', async function () {
        const { store } = await open();
        let inside = 0;
        let most = 0;
        let ran = 0;
        await Promise.all(
          Array.from({ length: 6 }, () =>
            store.withCallLock(CALL, async () => {
              inside += 1;
              most = Math.max(most, inside);
              await sleep(10);
              inside -= 1;
              ran += 1;
            }),
          ),
        );
        expect(most).to.equal(1);
        expect(ran).to.equal(6);
      });

      it('does not make different calls wait for each other', async function () {
        const { store } = await open();
        const holder = await hold(store);
        releaseAtEnd.push(holder.release);
        expect(await store.withCallLock(OTHER_CALL, async () => 'other', { waitMs: 0 })).to.equal('other');
        holder.release();
        await holder.done;
      });

      it('throws CallBusyError after waitMs without running the work', async function () {
        const { store } = await open();
        const holder = await hold(store);
        releaseAtEnd.push(holder.release);
        let ran = false;
        const started = Date.now();
        const error = await rejection(
          store.withCallLock(CALL, async () => {
            ran = true;
          }, { waitMs: 80 }),
        );
        const waited = Date.now() - started;
        expect(error).to.be.instanceOf(CallBusyError);
        expect((error as Error).message).to.contain(CALL);
        expect(waited).to.be.within(70, 1_000);
        expect(ran).to.equal(false);

        expect(await rejection(store.withCallLock(CALL, async () => {}, { waitMs: 0 }))).to.be.instanceOf(CallBusyError);
        holder.release();
        await holder.done;
      });

      it('hands the lock on when a holder dies and its lease runs out', async function () {
        const { store } = await open();
        const dead = await hold(store, 100);
        releaseAtEnd.push(dead.release);
        const started = Date.now();
        expect(await store.withCallLock(CALL, async () => 'next', { waitMs: 2_000 })).to.equal('next');
        expect(Date.now() - started).to.be.within(80, 1_500);
        dead.release();
        await dead.done;
      });

      it('does not let a holder whose lease ran out release the lock of the next holder', async function () {
        const { store } = await open();
        const late = await hold(store, 100);
        releaseAtEnd.push(late.release);
        const nextEntered = deferred();
        const nextRelease = deferred();
        releaseAtEnd.push(() => nextRelease.resolve());
        const next = store.withCallLock(
          CALL,
          async () => {
            nextEntered.resolve();
            await nextRelease.promise;
          },
          { waitMs: 2_000 },
        );
        await nextEntered.promise;

        late.release();
        await late.done;

        expect(await rejection(store.withCallLock(CALL, async () => {}, { waitMs: 50 }))).to.be.instanceOf(CallBusyError);
        nextRelease.resolve();
        await next;
        expect(await store.withCallLock(CALL, async () => 'free', { waitMs: 500 })).to.equal('free');
      });
    });

    describe('idempotency replies', function () {
      it('round-trips a reply, kept per call and per token', async function () {
        const { store } = await open();
        expect(await store.getReply(CALL, 'token-1')).to.equal(null);
        await store.saveReply(CALL, 'token-1', '<Response><Say>one</Say></Response>', 60);
        await store.saveReply(CALL, 'token-2', '<Response><Say>two</Say></Response>', 60);
        expect(await store.getReply(CALL, 'token-1')).to.equal('<Response><Say>one</Say></Response>');
        expect(await store.getReply(CALL, 'token-2')).to.equal('<Response><Say>two</Say></Response>');
        expect(await store.getReply(OTHER_CALL, 'token-1')).to.equal(null);
      });

      it('loads the session and a token\'s reply in one call', async function () {
        const { store } = await open();
        expect(await store.loadTurn(CALL, 'token-7')).to.deep.equal({ session: null, reply: null });
        await store.saveSession(CALL, session(), 60, { idempotencyToken: 'token-7', reply: '<Response/>' });
        expect(await store.loadTurn(CALL, 'token-7')).to.deep.equal({ session: session(), reply: '<Response/>' });
        expect(await store.loadTurn(CALL, 'other-token')).to.deep.equal({ session: session(), reply: null });
        expect(await store.loadTurn(CALL, null)).to.deep.equal({ session: session(), reply: null });
      });

      it('saves the session and the reply to its idempotency token together', async function () {
        const { store } = await open();
        await store.saveSession(CALL, session(), 60, { idempotencyToken: 'token-9', reply: '<Response><Hangup/></Response>' });
        expect(await store.getSession(CALL)).to.deep.equal(session());
        expect(await store.getReply(CALL, 'token-9')).to.equal('<Response><Hangup/></Response>');
      });

      it('does not lose replies when the session is deleted', async function () {
        const { store } = await open();
        await store.saveSession(CALL, session(), 60);
        await store.saveReply(CALL, 'token-1', '<Response/>', 60);
        await store.deleteSession(CALL);
        expect(await store.getReply(CALL, 'token-1')).to.equal('<Response/>');
      });
    });

    describe('a webhook\'s turn (withTurn)', function () {
      const saveWith = (turn: number, token: string, reply: string) =>
        ({ kind: 'save', record: session(turn), ttlSeconds: 60, reply: { idempotencyToken: token, reply } }) as const;

      it('reads the session and the token\'s reply under the lock, and saves both as it releases', async function () {
        const { store } = await open();
        const first = await store.withTurn(CALL, 'token-1', async (open) => ({ value: open, write: saveWith(1, 'token-1', 'reply one') }));
        expect(first).to.deep.equal({ session: null, reply: null });
        const second = await store.withTurn(CALL, 'token-1', async (open) => ({ value: open, write: { kind: 'none' } }));
        expect(second).to.deep.equal({ session: session(1), reply: 'reply one' });
        expect(await store.withTurn(CALL, 'token-2', async (open) => ({ value: open.reply, write: { kind: 'none' } }))).to.equal(null);
        // Released each time: the lock is free at once.
        expect(await store.withCallLock(CALL, async () => 'free', { waitMs: 0 })).to.equal('free');
      });

      it('ends a call: its session and every retry reply go, other calls keep theirs', async function () {
        const { store } = await open();
        await store.withTurn(CALL, 'a', async () => ({ value: null, write: saveWith(1, 'a', 'reply a') }));
        await store.withTurn(CALL, 'b', async () => ({ value: null, write: saveWith(2, 'b', 'reply b') }));
        await store.withTurn(OTHER_CALL, 'a', async () => ({ value: null, write: saveWith(1, 'a', 'other a') }));
        await store.withTurn(CALL, null, async () => ({ value: null, write: { kind: 'end' } }));
        expect(await store.loadTurn(CALL, 'a')).to.deep.equal({ session: null, reply: null });
        expect(await store.getReply(CALL, 'b')).to.equal(null);
        expect(await store.loadTurn(OTHER_CALL, 'a')).to.deep.equal({ session: session(1), reply: 'other a' });
      });

      it('writes nothing and releases the lock when the work throws', async function () {
        const { store } = await open();
        const boom = new Error('boom');
        expect(await rejection(store.withTurn(CALL, 't', async () => Promise.reject(boom)))).to.equal(boom);
        expect(await store.getSession(CALL)).to.equal(null);
        expect(await store.withCallLock(CALL, async () => 'free', { waitMs: 0 })).to.equal('free');
      });

      it('renews its lease while the work runs, so only a holder that stopped loses the lock', async function () {
        const { store } = await open();
        const entered = deferred();
        const finish = deferred();
        const working = store.withTurn(CALL, 't', async () => {
          entered.resolve();
          await finish.promise;
          return { value: 'done', write: saveWith(1, 't', 'reply') };
        }, { leaseMs: 150 });
        await entered.promise;
        await sleep(500);
        expect(await rejection(store.withCallLock(CALL, async () => {}, { waitMs: 0 }))).to.be.instanceOf(CallBusyError);
        finish.resolve();
        expect(await working).to.equal('done');
        expect(await store.getReply(CALL, 't')).to.equal('reply');
      });

      it('waits for a holder, then goes on', async function () {
        const { store } = await open();
        const holder = await hold(store);
        releaseAtEnd.push(holder.release);
        const waiting = store.withTurn(CALL, null, async (open) => ({ value: open.session, write: { kind: 'none' } }), { waitMs: 2_000 });
        await sleep(50);
        holder.release();
        expect(await waiting).to.equal(null);
      });
    });

    describe('call records', function () {
      const T0 = Date.UTC(2025, 10, 3, 16, 0, 0);

      it('reads the records of calls started in [from, to), oldest first', async function () {
        const { store } = await open();
        expect(await collect(store.callRecords(new Date(T0), new Date(T0 + DAY)))).to.deep.equal([]);
        const records = [callRecord(3, T0 + 3_000), callRecord(1, T0), callRecord(4, T0 + DAY), callRecord(2, T0 + 1_000), callRecord(0, T0 - 1)];
        for (const record of records) await store.recordCall(record);
        const read = await collect(store.callRecords(new Date(T0), new Date(T0 + DAY)));
        expect(read).to.deep.equal([callRecord(1, T0), callRecord(2, T0 + 1_000), callRecord(3, T0 + 3_000)]);
        expect(await collect(store.callRecords(new Date(T0 + 1_000), new Date(T0 + 1_001)))).to.deep.equal([callRecord(2, T0 + 1_000)]);
        expect(await collect(store.callRecords(new Date(T0 + DAY), new Date(T0)))).to.deep.equal([]);
      });

      it('reads past a page, many records of one instant included, each once', async function () {
        this.timeout(20_000);
        const { store } = await open();
        const records = Array.from({ length: 1_300 }, (_, n) => callRecord(n, n < 700 ? T0 : T0 + n));
        await Promise.all(records.map((record) => store.recordCall(record)));
        const read = await collect(store.callRecords(new Date(T0), new Date(T0 + DAY)));
        expect(read).to.have.length(records.length);
        expect(new Set(read.map((r) => r.callSid)).size).to.equal(records.length);
        const starts = read.map((r) => Date.parse(r.startedAt));
        expect(starts).to.deep.equal([...starts].sort((a, b) => a - b));
      });

      it('drops the records older than the retention as it writes, counting back from the new call', async function () {
        const { store } = await open({ callRecordDays: 2 });
        await store.recordCall(callRecord(1, T0));
        await store.recordCall(callRecord(2, T0 + DAY));
        // Ends 2 days and a minute after call 1 started, and a minute after call 2 did.
        await store.recordCall(callRecord(3, T0 + 2 * DAY));
        expect((await collect(store.callRecords(new Date(T0 - DAY), new Date(T0 + 3 * DAY)))).map((r) => r.callSid)).to.deep.equal([callRecord(2, 0).callSid, callRecord(3, 0).callSid]);
      });

      it('hands out copies', async function () {
        const { store } = await open();
        const recorded = callRecord(1, T0);
        await store.recordCall(recorded);
        recorded.menus.push('transfer');
        const [read] = await collect(store.callRecords(new Date(T0), new Date(T0 + 1)));
        expect(read).to.deep.equal(callRecord(1, T0));
        read!.menus.push('transfer');
        expect(await collect(store.callRecords(new Date(T0), new Date(T0 + 1)))).to.deep.equal([callRecord(1, T0)]);
      });
    });

    describe('failure notes', function () {
      it('keeps a call\'s failure until it is taken, once', async function () {
        const { store } = await open();
        expect(await store.takeCallFailure(CALL)).to.equal(null);
        await store.noteCallFailure(CALL, 'apology-transfer', 60);
        await store.noteCallFailure(OTHER_CALL, 'payment-spooled', 60);
        expect(await store.takeCallFailure(CALL)).to.equal('apology-transfer');
        expect(await store.takeCallFailure(CALL)).to.equal(null);
        expect(await store.takeCallFailure(OTHER_CALL)).to.equal('payment-spooled');
      });

      it('forgets a failure after its TTL', async function () {
        this.timeout(5_000);
        const { store, elapse } = await open();
        await store.noteCallFailure(CALL, 'apology-goodbye', 1);
        await elapse(1_100);
        expect(await store.takeCallFailure(CALL)).to.equal(null);
      });
    });

    it('answers ping', async function () {
      const { store } = await open();
      await store.ping();
    });
  });
}

callStoreContract('MemoryStore', async ({ callRecordDays }) => {
  let now = Date.UTC(2025, 0, 1);
  const store = new MemoryStore({ now: () => now, ...(callRecordDays === undefined ? {} : { callRecordDays }) });
  return {
    store,
    elapse: async (ms) => {
      now += ms;
    },
  };
});

describe('MemoryStore', function () {
  it('drops expired entries on later writes, so finished calls do not pile up', async function () {
    let now = 0;
    const store = new MemoryStore({ now: () => now, sweepEveryMs: 1_000 });
    for (let i = 0; i < 100; i += 1) {
      await store.saveSession(`CA${i}`, session(), 1);
      await store.saveReply(`CA${i}`, 'token', '<Response/>', 1);
    }
    expect(store.sizes()).to.include({ sessions: 100, replies: 100 });
    now += 2_000;
    await store.saveSession(CALL, session(), 60);
    expect(store.sizes()).to.include({ sessions: 1, replies: 0 });
  });

  it('forgets a call lock once nobody holds or waits for it', async function () {
    const store = new MemoryStore();
    await Promise.all([store.withCallLock(CALL, async () => sleep(5)), store.withCallLock(CALL, async () => sleep(5))]);
    await rejection(store.withCallLock(CALL, async () => Promise.reject(new Error('boom'))));
    expect(store.sizes().locks).to.equal(0);
  });

  it('drops expired failure notes on later writes', async function () {
    let now = 0;
    const store = new MemoryStore({ now: () => now, sweepEveryMs: 1_000 });
    for (let i = 0; i < 20; i += 1) await store.noteCallFailure(`CA${i}`, 'apology-goodbye', 1);
    expect(store.sizes().failures).to.equal(20);
    now += 2_000;
    await store.saveSession(CALL, session(), 60);
    expect(store.sizes().failures).to.equal(0);
  });
});

describe('RedisStore', function () {
  const run = new RedisRun(() => testRedisClient());
  let url: string;
  let admin: Redis;

  before(async function () {
    url = await testRedisUrl();
    admin = await run.connect();
  });
  after(() => run.end());

  callStoreContract('RedisStore', async ({ callRecordDays }) => {
    const store = RedisStore.connect(url, run.nextPrefix(), callRecordDays === undefined ? {} : { callRecordDays });
    return { store, elapse: (ms) => sleep(ms) };
  });

  describe('keys', function () {
    let store: RedisStore;
    let prefix: string;

    beforeEach(function () {
      prefix = run.nextPrefix();
      store = RedisStore.connect(url, prefix);
    });

    afterEach(async function () {
      await store.close();
    });

    it('gives every key of one call the prefix and the call hash tag', async function () {
      await store.saveSession(CALL, session(), 60);
      await store.saveReply(CALL, 'token-1', '<Response/>', 60);
      await store.saveSession(OTHER_CALL, session(), 60);
      await store.noteCallFailure(CALL, 'apology-goodbye', 60);
      await store.recordCall(callRecord(1, '2025-11-03T08:00:00Z'));
      const keys = await store.withCallLock(CALL, () => keysUnder(admin, prefix), { leaseMs: 5_000 });

      expect(keys).to.have.length(6);
      for (const key of keys) expect(key.startsWith(prefix), key).to.equal(true);
      const ofCall = keys.filter((key) => key.includes(CALL));
      expect(ofCall).to.have.length(4);
      for (const key of ofCall) expect(key, key).to.contain(`{${CALL}}`);
      expect(ofCall.sort()).to.deep.equal(['failure', 'lock', 'replies', 'session'].map((name) => `${prefix}call:{${CALL}}:${name}`));
      // Records have a hash tag of their own: written apart from every call's keys.
      expect(keys).to.include(`${prefix}{calls}:records`);
      expect(await admin.ttl(`${prefix}call:{${CALL}}:failure`)).to.be.within(59, 60);
    });

    it('keeps a hostile CallSid or token inside its own hash tag', async function () {
      await store.saveSession('CA}x{y', session(), 60);
      await store.saveReply('CA}x{y', 'a}b:c', '<Response/>', 60);
      const keys = await keysUnder(admin, prefix);
      expect(keys).to.have.length(2);
      for (const key of keys) expect(key).to.match(/^[^{}]*\{[^{}]+\}[^{}]*$/);
      expect(await store.getReply('CA}x{y', 'a}b:c')).to.equal('<Response/>');
    });

    it('stores sessions and replies with a TTL and the lock with its lease', async function () {
      await store.saveSession(CALL, session(), 60);
      await store.saveReply(CALL, 'token-1', '<Response/>', 30);
      const keys = store.keys(CALL);
      expect(await admin.ttl(keys.session)).to.be.within(59, 60);
      expect(await admin.ttl(keys.replies)).to.be.within(29, 30);
      expect(JSON.parse((await admin.get(keys.session))!)).to.deep.equal(session());
      const lease = await store.withCallLock(CALL, () => admin.pttl(keys.lock), { leaseMs: 3_000 });
      expect(lease).to.be.within(1, 3_000);
      expect(await admin.exists(keys.lock)).to.equal(0);
    });
  });

  describe('when Redis is unreachable', function () {
    it('fails commands fast instead of hanging the webhook, and reports without secrets', async function () {
      const errors: string[] = [];
      const store = RedisStore.connect('redis://:sekrit-password@127.0.0.1:1', run.prefix, { onError: (m) => errors.push(m) });
      try {
        const started = Date.now();
        expect(await rejection(store.getSession(CALL))).to.be.instanceOf(Error);
        expect(Date.now() - started).to.be.below(3_000);
        expect(await rejection(store.ping())).to.be.instanceOf(Error);
        expect(await rejection(store.withCallLock(CALL, async () => 'ran', { waitMs: 100 }))).to.not.be.instanceOf(CallBusyError);
        expect(Date.now() - started).to.be.below(9_000);
        expect(errors).to.not.be.empty;
        for (const message of errors) expect(message).to.not.contain('sekrit');
      } finally {
        await store.close();
      }
    });

    it('reconnects by itself when Redis comes back', async function () {
      if (!(await hasRedisServerBinary())) this.skip();
      const port = await freePort();
      const store = RedisStore.connect(`redis://127.0.0.1:${port}`, run.prefix);
      let server: RedisServer | null = null;
      try {
        expect(await rejection(store.ping())).to.be.instanceOf(Error);
        server = await startRedisServer(port);
        const deadline = Date.now() + 5_000;
        for (;;) {
          try {
            await store.ping();
            break;
          } catch (error) {
            if (Date.now() > deadline) throw error;
            await sleep(100);
          }
        }
        await store.saveSession(CALL, session(), 60);
        expect(await store.getSession(CALL)).to.deep.equal(session());
      } finally {
        await store.close();
        server?.stop();
      }
    });
  });
});

describe('RedisStore on a Redis Cluster', function () {
  const run = new RedisRun(async () => clusterAdmin(await sharedCluster()));
  let cluster: RedisCluster;

  before(async function () {
    this.timeout(30_000);
    cluster = await sharedCluster();
    await run.connect();
  });
  after(() => run.end());

  callStoreContract('RedisStore on a Cluster', async ({ callRecordDays }) => {
    const client = await lineClient({ kind: 'cluster', nodes: cluster.nodes, auth: null });
    const store = new RedisStore(client, run.nextPrefix(), callRecordDays === undefined ? {} : { callRecordDays });
    return { store, elapse: (ms) => sleep(ms) };
  });
});

describe('openStore', function () {
  it('opens the in-process store without a Redis URL', async function () {
    const store = await openStore({ redis: null, redisPrefix: 'cc:' });
    expect(store.kind).to.equal('memory');
    await store.ping();
    await store.close();
  });

  it('opens Redis when a URL is given', async function () {
    const store = await openStore({ redis: { kind: 'single', url: await testRedisUrl() }, redisPrefix: uniquePrefix() });
    try {
      expect(store.kind).to.equal('redis');
      await store.ping();
    } finally {
      await store.close();
    }
  });

  it('refuses, clearly and without the password, a Redis that does not answer', async function () {
    const started = Date.now();
    const error = await rejection(openStore({ redis: { kind: 'single', url: 'redis://:sekrit-password@127.0.0.1:1' }, redisPrefix: 'cc:' }));
    expect(Date.now() - started).to.be.below(3_000);
    expect(error).to.be.instanceOf(Error);
    const message = (error as Error).message;
    expect(message).to.contain('127.0.0.1:1').and.contain('did not answer').and.contain('REDIS_URL');
    expect(message).to.not.contain('sekrit');
  });
});
