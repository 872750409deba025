// The line on a Redis Cluster and on a Sentinel-managed primary, against real servers these tests
// start themselves (test/support/redis-servers.ts). The store contract suites also run against
// the Cluster (store, caseload-store and outbox tests); here: a whole call over HTTP with the
// staff scripts, SCAN over every master, failing fast, and a call that goes on after a failover.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Redis, type Cluster } from 'ioredis';
import request from 'supertest';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from '../src/domain/caseload-loader.ts';
import type { CallRecord } from '../src/domain/call-record.ts';
import type { CaseNumber, ParticipantId } from '../src/domain/caseload.ts';
import { silentLogger } from '../src/log.ts';
import { createLine, type Line } from '../src/server.ts';
import type { LoadedCaseload } from '../src/domain/caseload-store.ts';
import { RedisCaseloadStore, bucketOf } from '../src/store/caseload-redis.ts';
import { connectRedis, openStore, RedisStore, untilReady } from '../src/store/index.ts';
import { Caller } from './support/caller.ts';
import { testLineConfig } from './support/lines.ts';
import { keysUnder, RedisRun, uniquePrefix } from './support/redis.ts';
import { clusterAdmin, sharedCluster, startCluster, startSentinelSet, type RedisCluster, type SentinelSet } from './support/redis-servers.ts';
import { rejection } from './support/rejection.ts';
import { callParams, nextPath, post, saidIn } from './support/twilio.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NOW = new Date('2026-11-24T10:00:00-08:00'); // a Tuesday morning: an apology transfers to a representative
const DEVIN = { id: '1586049327', ssn: '987654328', pin: '548217' }; // pays on 37004512
const TAMSIN = { id: '8093561274', ssn: '987654325' }; // no PIN: asks for one by mail
const CASE = '37004512' as CaseNumber;
const APOLOGY = 'something went wrong on our side';

function success(code: string): Record<string, string> {
  return {
    Result: 'success', PaymentConfirmationCode: code, PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', PaymentCardType: 'visa', ExpirationDate: '0931',
    PaymentCardPostalCode: '96161', SecurityCode: 'xxx', PaymentMethod: 'credit-card', PaymentToken: '', ProfileId: '', PaymentError: '', PayErrorCode: '0', ConnectorError: '',
  };
}

type ScriptRun = { code: number; stdout: string; stderr: string };

/** Runs a staff script as staff would, with only the Redis settings given here. */
function runScript(script: string, args: string[], env: Record<string, string>): Promise<ScriptRun> {
  const clean = { ...process.env };
  for (const name of Object.keys(clean)) if (/^(REDIS_|SSN_HASH_KEY|PIN_LETTER_KEY|BCRYPT_COST|NODE_ENV)/.test(name)) delete clean[name];
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...clean, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** From the main menu, by participant ID and SSN, to the amount prompt. */
async function toAmount(caller: Caller): Promise<Caller> {
  await caller.toMainMenu();
  await caller.press('2');
  await caller.press(DEVIN.id);
  await caller.press(DEVIN.ssn);
  expect(caller.heard).to.include('Enter the amount in dollars and cents');
  return caller;
}

describe('the line on a Redis Cluster', function () {
  this.timeout(30_000);
  const run = new RedisRun(async () => clusterAdmin(await sharedCluster()));
  let cluster: RedisCluster;
  let admin: Cluster;
  let prefix: string;

  before(async function () {
    cluster = await sharedCluster();
    admin = await run.connect();
  });
  after(() => run.end());

  beforeEach(function () {
    prefix = run.nextPrefix();
  });

  it('answers a whole call over HTTP, seeded by npm run seed, its letter printed by npm run outbox, every multi-key step in one slot', async function () {
    this.timeout(60_000);
    const env = { REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PREFIX: prefix, BCRYPT_COST: '4' };
    const seeded = await runScript('scripts/seed.ts', [DEMO_CASELOAD_PATH], env);
    expect(seeded.stderr.replace(/^warning: SSN_HASH_KEY is unset.*\n/m, '')).to.equal('');
    expect(seeded.code).to.equal(0);
    expect(seeded.stdout).to.match(/^Loaded \d+ participants and \d+ cases/);

    const line = await createLine({ config: await testLineConfig(env), clock: () => NOW, logger: silentLogger });
    try {
      expect(line.store.kind).to.equal('redis');
      // A login (bcrypt against the stored hash), the balance, then a card payment.
      const payer = await new Caller(line.app).login(DEVIN.id, DEVIN.pin);
      await payer.press('1');
      expect(payer.heard).to.include('Due this month, $260.00');
      await payer.press('*');
      await payer.press('4');
      expect(payer.heard).to.include('Enter the amount in dollars and cents');
      await payer.press('10000');
      await payer.press('1');
      expect(payer.twiml).to.include('<Pay ');
      const payPath = nextPath(payer.twiml);
      const receipt = await post(line.app, payPath, callParams(payer.callSid, success('ch_CLUSTER')));
      expect(saidIn(receipt.text)).to.include('Your payment of $100.00 with the card ending in 4 2 4 2 was approved');
      await post(line.app, payPath, callParams(payer.callSid, success('ch_CLUSTER')));
      expect((await line.caseload.payments(CASE)).filter((p) => p.confirmationCode === 'ch_CLUSTER')).to.have.length(1);
      // A call's keys share its slot (taken before the call ends: its final status removes them all).
      const slotOf = async (key: string) => Number(await admin.cluster('KEYSLOT', key));
      const callSlots = async (callSid: string) => {
        const ofCall = (await keysUnder(admin, prefix)).filter((key) => key.includes(callSid));
        expect(ofCall.length, callSid).to.be.greaterThan(0);
        expect(new Set(await Promise.all(ofCall.map(slotOf))).size, callSid).to.equal(1);
      };
      await callSlots(payer.callSid);
      await payer.hangUp();

      // A new PIN by mail: the reset and its letter are one Lua script over nine keys.
      const asker = await new Caller(line.app).toMainMenu();
      await asker.press('3');
      await asker.press('1');
      await asker.press(TAMSIN.id);
      await asker.press(TAMSIN.ssn);
      expect(asker.heard).to.include('A new PIN will be mailed to the address we have on file');
      await callSlots(asker.callSid);
      await asker.hangUp();
      // Each call's record, written apart from the call's keys under {calls}.
      const records: CallRecord[] = [];
      for await (const record of line.store.callRecords(new Date(NOW.getTime() - 3_600_000), new Date(NOW.getTime() + 3_600_000))) records.push(record);
      expect(records.map((r) => [r.callSid, r.outcome, r.payment])).to.have.deep.members([[payer.callSid, 'self_served', 'recorded'], [asker.callSid, 'self_served', 'none']]);

      // Nothing of an ended call is left; the caseload's keys (and the outbox's) share their slot.
      const keys = await keysUnder(admin, prefix);
      for (const callSid of [payer.callSid, asker.callSid]) expect(keys.filter((key) => key.includes(callSid)), callSid).to.deep.equal([]);
      const caseloadKeys = keys.filter((key) => key.includes('{caseload}'));
      expect(caseloadKeys.some((key) => key.includes(':outbox:'))).to.equal(true);
      expect(new Set(await Promise.all(caseloadKeys.map(slotOf))).size).to.equal(1);
    } finally {
      await line.close();
    }

    const outDir = await mkdtemp(join(tmpdir(), 'letters-'));
    try {
      const printed = await runScript('scripts/outbox.ts', ['--out', outDir, '--consumer', 'cluster-test'], env);
      expect(printed.stderr.replace(/^warning: PIN_LETTER_KEY is unset.*\n/m, '')).to.equal('');
      expect(printed.code).to.equal(0);
      expect(printed.stdout).to.match(/^sent +\S+ +pin-reset +en /m);
      expect(printed.stdout).to.match(/Outbox: 1 letter printed and sent, 0 failed/);
      expect(await readdir(outDir)).to.have.length(1);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });

  it('drops a replaced caseload generation from the master that holds it, whichever node SCAN would reach', async function () {
    const store = new RedisCaseloadStore(admin, prefix);
    const caseload = (name: string): LoadedCaseload => ({
      participants: Array.from({ length: 30 }, (_, i) => ({
        participant: {
          participantId: String(3_000_000_000 + i) as ParticipantId, firstName: name, lastName: `Last${i}`, language: 'en' as const, phone: null,
          mailingAddress: { line1: `${i} Elm Street`, line2: null, city: 'Modesto', state: 'CA', zip: '95354' },
        },
        ssnHash: `ssn-hash-${i}`,
        pinHash: null,
        resetPin: false,
      })),
      cases: [],
    });
    // A SCAN sent to the Cluster goes to one master of three; four loads in a row would leave
    // something behind on most runs if the drop looked at one node only.
    for (const name of ['First', 'Second', 'Third', 'Fourth']) await store.replaceCaseload(caseload(name));
    const current = await admin.get(`${prefix}{caseload}:generation`);
    const generationKeys = (await keysUnder(admin, prefix)).filter((key) => key.includes(':g:'));
    // The buckets of each participant's record and SSN hash (no PIN, no case here), the generation's meta and its list of keys.
    const buckets = new Set(caseload('Fourth').participants.flatMap((p) => [`p:${bucketOf(p.participant.participantId)}`, `ssn:${bucketOf(p.ssnHash)}`]));
    expect(generationKeys).to.have.length(buckets.size + 2);
    for (const key of generationKeys) expect(key).to.include(`:g:${current}:`);
    expect(await admin.smembers(`${prefix}{caseload}:generations`)).to.deep.equal([current]);
  });

  it('opens the store from REDIS_CLUSTER_NODES, and refuses a cluster that does not answer, naming the setting', async function () {
    const store = await openStore(await testLineConfig({ REDIS_CLUSTER_NODES: cluster.nodeList, REDIS_PREFIX: prefix }));
    try {
      expect(store).to.be.instanceOf(RedisStore);
      await store.saveSession('CA-open', { machineVersion: 'v', turn: 1, language: 'en', snapshot: {}, lastReply: '', startedAt: '' }, 60);
      expect((await store.getSession('CA-open'))?.turn).to.equal(1);
    } finally {
      await store.close();
    }
    const started = Date.now();
    const error = await rejection(openStore(await testLineConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2', REDIS_PASSWORD: 'sekrit' })));
    expect(Date.now() - started).to.be.below(5_000);
    expect(error.message).to.contain('Redis Cluster at 127.0.0.1:1,127.0.0.1:2').and.contain('did not answer').and.contain('REDIS_CLUSTER_NODES');
    expect(error.message).to.not.contain('sekrit');
  });

  it('fails a command at once while every node is away, instead of holding the webhook, and reconnects by itself', async function () {
    const doomed = await startCluster({ masters: 3 });
    const errors: string[] = [];
    const client = connectRedis({ kind: 'cluster', nodes: doomed.nodes, auth: null }, { onError: (message) => errors.push(message) });
    await untilReady(client, 5_000);
    const store = new RedisStore(client, prefix);
    const record = { machineVersion: 'v', turn: 1, language: 'en' as const, snapshot: {}, lastReply: '', startedAt: '' };
    try {
      await store.withCallLock('CA-away', () => store.saveSession('CA-away', record, 60));
      await doomed.stopNodes();
      for (const attempt of [1, 2, 3]) {
        const started = Date.now();
        expect(await rejection(store.loadTurn('CA-away', `token-${attempt}`))).to.be.instanceOf(Error);
        expect(Date.now() - started, `attempt ${attempt}`).to.be.below(2_000);
      }
      expect(errors).to.not.be.empty;
      // Each distinct trouble once, not once per retry of every node.
      expect(new Set(errors).size).to.equal(errors.length);

      await doomed.startNodes();
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await store.ping();
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await sleep(100);
        }
      }
      // The nodes kept nothing (no persistence here); the line writes and reads again.
      await store.withCallLock('CA-back', () => store.saveSession('CA-back', record, 60));
      expect((await store.loadTurn('CA-back', 'token-back')).session).to.deep.equal(record);
    } finally {
      await store.close();
      await doomed.stop();
    }
  });
});

describe('the line on a Sentinel-managed primary', function () {
  this.timeout(60_000);
  let set: SentinelSet;

  before(async function () {
    set = await startSentinelSet();
  });

  after(async function () {
    await set?.stop();
  });

  async function lineOnSentinels(): Promise<Line> {
    const config = await testLineConfig({ REDIS_SENTINELS: set.sentinelList, REDIS_SENTINEL_NAME: set.name, REDIS_PREFIX: uniquePrefix() });
    const line = await createLine({ config, clock: () => NOW, logger: silentLogger });
    await loadCaseloadFile(DEMO_CASELOAD_PATH, line.caseload, config);
    return line;
  }

  /** Replication is asynchronous: makes sure the replica has every write so far. */
  async function replicated(): Promise<void> {
    const primary = new Redis({ ...(await set.primary()), lazyConnect: true });
    try {
      await primary.connect();
      expect(await primary.wait(1, 2_000)).to.equal(1);
    } finally {
      primary.disconnect();
    }
  }

  /**
   * The caller keys an amount while the Sentinels fail over. A webhook the line cannot answer
   * from the store gets the apology (Twilio would follow its <Dial>); this posts it again until
   * the menus answer, and says after how long and how many apologies.
   */
  async function amountAnswered(line: Line, caller: Caller, since: number): Promise<{ ms: number; apologies: number }> {
    const amountPath = nextPath(caller.twiml);
    let apologies = 0;
    for (;;) {
      const res = await post(line.app, amountPath, callParams(caller.callSid, { Digits: '25000', msg: 'Gather End' }));
      expect(res.status).to.equal(200);
      if (!saidIn(res.text).includes(APOLOGY)) {
        caller.twiml = res.text;
        caller.heard = saidIn(res.text);
        return { ms: Date.now() - since, apologies };
      }
      apologies += 1;
      expect(Date.now() - since, 'the line answers from the menus again').to.be.below(20_000);
    }
  }

  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

  it('refuses Sentinels that do not answer, naming the settings', async function () {
    const started = Date.now();
    const error = await rejection(openStore(await testLineConfig({ REDIS_SENTINELS: '127.0.0.1:1', REDIS_SENTINEL_NAME: 'cc' })));
    expect(Date.now() - started).to.be.below(5_000);
    expect(error.message).to.contain('"cc" of the Sentinels at 127.0.0.1:1').and.contain('REDIS_SENTINELS and REDIS_SENTINEL_NAME');
  });

  it('moves to the new primary as soon as the Sentinels switch, while the old one is still up', async function () {
    // A set of its own: after this failover the old primary takes a while to become a replica in sync.
    const own = await startSentinelSet();
    const config = await testLineConfig({ REDIS_SENTINELS: own.sentinelList, REDIS_SENTINEL_NAME: own.name, REDIS_PREFIX: uniquePrefix() });
    const line = await createLine({ config, clock: () => NOW, logger: silentLogger });
    try {
      await loadCaseloadFile(DEMO_CASELOAD_PATH, line.caseload, config);
      const caller = await toAmount(new Caller(line.app));
      const started = Date.now();
      const old = await own.failover();
      const { primary, ms } = await own.waitForFailover(old, started);
      // Time for the announcement to reach the line; Sentinel demotes the old primary only some ten seconds later.
      await sleep(300);
      const answered = await amountAnswered(line, caller, started);
      expect(caller.heard).to.include('You entered $250.00 for the case ending in 4 5 1 2');
      await caller.press('1');
      const receipt = await post(line.app, nextPath(caller.twiml), callParams(caller.callSid, success('ch_SWITCHED')));
      expect(saidIn(receipt.text)).to.include('was approved');
      // On the new primary: the old one would still take the writes, and its resync drop them.
      const promoted = new Redis({ ...primary, lazyConnect: true });
      try {
        await promoted.connect();
        const payments = await new RedisCaseloadStore(promoted, config.redisPrefix).payments(CASE);
        expect(payments.filter((p) => p.confirmationCode === 'ch_SWITCHED')).to.have.length(1);
      } finally {
        promoted.disconnect();
      }
      this.test!.title += ` (switch ${seconds(ms)} after the request; menus after ${seconds(answered.ms)}, ${answered.apologies} apologies before)`;
    } finally {
      await line.close();
      await own.stop();
    }
  });

  it('goes on with a call after its primary dies, and records a card payment made after the failover once', async function () {
    const line = await lineOnSentinels();
    try {
      const caller = await toAmount(new Caller(line.app));
      await replicated();
      const killedAt = Date.now();
      const old = await set.killPrimary();
      const answered = await amountAnswered(line, caller, killedAt);
      const { primary, ms } = await set.waitForFailover(old, killedAt);
      expect(primary.port).to.not.equal(old.port);
      expect(caller.heard).to.include('You entered $250.00 for the case ending in 4 5 1 2');

      await caller.press('1');
      expect(caller.twiml).to.include('<Pay ');
      const payPath = nextPath(caller.twiml);
      const receipt = await post(line.app, payPath, callParams(caller.callSid, success('ch_FAILOVER')), { idempotencyToken: 'pay-1' });
      expect(saidIn(receipt.text)).to.include('Your payment of $250.00 with the card ending in 4 2 4 2 was approved');
      // Twilio's retry of the same callback, and a second delivery: still one payment.
      expect((await post(line.app, payPath, callParams(caller.callSid, success('ch_FAILOVER')), { idempotencyToken: 'pay-1' })).text).to.equal(receipt.text);
      await post(line.app, payPath, callParams(caller.callSid, success('ch_FAILOVER')));
      expect((await line.caseload.payments(CASE)).filter((p) => p.confirmationCode === 'ch_FAILOVER')).to.have.length(1);
      expect((await request(line.app).get('/readyz')).status).to.equal(200);
      this.test!.title += ` (failover ${seconds(ms)}; menus again after ${seconds(answered.ms)}, ${answered.apologies} apologies before)`;
    } finally {
      await line.close();
    }
  });
});
