// A card payment recorded in Redis waits (WAIT) until a replica has it, when the caseload's primary
// has replicas: through Sentinels (a primary and one replica) and on a Cluster whose masters have
// replicas, against real servers these tests start (test/support/redis-servers.ts).
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from '../src/domain/caseload-loader.ts';
import type { CaseNumber } from '../src/domain/caseload.ts';
import type { Logger } from '../src/log.ts';
import { createLine, type Line } from '../src/server.ts';
import { Caller } from './support/caller.ts';
import { testLineConfig } from './support/lines.ts';
import { recordingLogger, type LoggedLine, type RecordingLogger } from './support/recording-logger.ts';
import { startRedisServer, uniquePrefix, type RedisServer } from './support/redis.ts';
import { startCluster, startSentinelSet, type Address, type RedisCluster, type SentinelSet } from './support/redis-servers.ts';
import { callParams, nextPath, post, saidIn } from './support/twilio.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00');
const DEVIN = { id: '1586049327', pin: '548217' }; // pays on 37004512
const CASE = '37004512' as CaseNumber;
const WAIT_MS = 500;
const NOT_ON_REPLICA = 'payment not yet on a replica';

function success(code: string): Record<string, string> {
  return {
    Result: 'success', PaymentConfirmationCode: code, PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', PaymentCardType: 'visa', ExpirationDate: '0931',
    PaymentCardPostalCode: '96161', SecurityCode: 'xxx', PaymentMethod: 'credit-card', PaymentToken: '', ProfileId: '', PaymentError: '', PayErrorCode: '0', ConnectorError: '',
  };
}

async function lineOn(env: Record<string, string>, logger: Logger): Promise<Line> {
  const config = await testLineConfig({ PAYMENT_REPLICA_WAIT_MS: String(WAIT_MS), REDIS_PREFIX: uniquePrefix(), ...env });
  const line = await createLine({ config, clock: () => NOW, logger });
  await loadCaseloadFile(DEMO_CASELOAD_PATH, line.caseload, config);
  return line;
}

/** A caller logged in, who chose to pay $100.00 and is at <Pay>: the path Twilio posts the card result to. */
async function atPay(line: Line): Promise<{ caller: Caller; payPath: string }> {
  const caller = await new Caller(line.app).login(DEVIN.id, DEVIN.pin);
  await caller.press('4');
  await caller.press('10000');
  await caller.press('1');
  expect(caller.twiml).to.include('<Pay ');
  return { caller, payPath: nextPath(caller.twiml) };
}

/** Twilio posts a successful card payment; what the caller hears, and how long the line took. */
async function pay(line: Line, at: { caller: Caller; payPath: string }, code: string): Promise<{ heard: string; ms: number }> {
  const started = Date.now();
  const res = await post(line.app, at.payPath, callParams(at.caller.callSid, success(code)));
  const ms = Date.now() - started;
  expect(res.status).to.equal(200);
  return { heard: saidIn(res.text), ms };
}

const APPROVED = 'Your payment of $100.00 with the card ending in 4 2 4 2 was approved';

async function onServer<T>(address: Address, question: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ ...address, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await question(client);
  } finally {
    client.disconnect();
  }
}

/** How many WAIT commands a server has run. */
async function waitsOn(address: Address): Promise<number> {
  const stats = await onServer(address, (client) => client.info('commandstats'));
  return Number(/^cmdstat_wait:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

function notOnReplica(logger: RecordingLogger): LoggedLine[] {
  return logger.lines.filter((line) => line.msg === NOT_ON_REPLICA);
}

async function recorded(line: Line, code: string): Promise<boolean> {
  return (await line.caseload.payments(CASE)).some((payment) => payment.confirmationCode === code);
}

describe('a card payment waits for a Redis replica', function () {
  this.timeout(60_000);

  it('does not wait on one server without replicas, and says nothing', async function () {
    const server: RedisServer = await startRedisServer();
    const logger = recordingLogger();
    const line = await lineOn({ REDIS_URL: server.url }, logger);
    try {
      const paid = await pay(line, await atPay(line), 'ch_ONE_SERVER');
      expect(paid.heard).to.include(APPROVED);
      expect(await recorded(line, 'ch_ONE_SERVER')).to.equal(true);
      expect(await waitsOn({ host: '127.0.0.1', port: server.port })).to.equal(0);
      expect(notOnReplica(logger)).to.deep.equal([]);
    } finally {
      await line.close();
      server.stop();
    }
  });

  describe('through Sentinels: a primary and one replica', function () {
    let set: SentinelSet;
    let line: Line | null = null;
    const logger = recordingLogger();

    before(async function () {
      set = await startSentinelSet();
      line = await lineOn({ REDIS_SENTINELS: set.sentinelList, REDIS_SENTINEL_NAME: set.name }, logger);
    });

    after(async function () {
      await line?.close();
      await set?.stop();
    });

    it('is acknowledged by the replica (WAIT answers 1), then the receipt; with the replica killed, recorded on the primary, one warn line, the receipt within the wait', async function () {
      if (!line) throw new Error('no line');
      const primary = await set.primary();
      const first = await atPay(line);
      const second = await atPay(line);
      const third = await atPay(line);

      const waitsBefore = await waitsOn(primary);
      const acknowledged = await pay(line, first, 'ch_ON_REPLICA');
      expect(acknowledged.heard).to.include(APPROVED);
      expect(await waitsOn(primary)).to.equal(waitsBefore + 1);
      expect(notOnReplica(logger)).to.deep.equal([]);

      // The primary still counts the replica (known for a few seconds): WAIT runs out its time.
      await set.killReplica();
      const unanswered = await pay(line, second, 'ch_PRIMARY_ONLY');
      expect(unanswered.heard).to.include(APPROVED);
      expect(unanswered.ms).to.be.at.least(WAIT_MS - 50).and.below(WAIT_MS + 1_500);
      expect(await waitsOn(primary)).to.equal(waitsBefore + 2);
      expect(await recorded(line, 'ch_PRIMARY_ONLY')).to.equal(true);
      expect(notOnReplica(logger)).to.deep.equal([{ level: 'warn', msg: NOT_ON_REPLICA, fields: { confirmationCode: 'ch_PRIMARY_ONLY' } }]);

      // Asked again, the primary has no replica: nothing to wait for, but the line had one, so it says so.
      const alone = await pay(line, third, 'ch_NO_REPLICA_LEFT');
      expect(alone.heard).to.include(APPROVED);
      expect(await waitsOn(primary)).to.equal(waitsBefore + 2);
      expect(await recorded(line, 'ch_NO_REPLICA_LEFT')).to.equal(true);
      expect(notOnReplica(logger).map((line) => line.fields)).to.deep.equal([{ confirmationCode: 'ch_PRIMARY_ONLY' }, { confirmationCode: 'ch_NO_REPLICA_LEFT' }]);
    });
  });

  describe('on a Cluster whose masters have replicas', function () {
    let cluster: RedisCluster;
    let line: Line | null = null;
    const logger = recordingLogger();

    before(async function () {
      cluster = await startCluster({ masters: 3, replicasPerMaster: 1 });
      // Every master with its replica in sync, so a WAIT is answered at once.
      for (const node of cluster.nodes) {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const replication = await onServer(node, (client) => client.info('replication'));
          if (!replication.includes('role:master') || /^slave0:.*state=online/m.test(replication)) break;
          if (Date.now() > deadline) throw new Error(`the replica of ${node.port} did not come online`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      line = await lineOn({ REDIS_CLUSTER_NODES: cluster.nodeList }, logger);
    });

    after(async function () {
      await line?.close();
      await cluster?.stop();
    });

    it('sends WAIT to the master of the caseload\'s slot, not to a random node, and a replica acknowledges', async function () {
      if (!line) throw new Error('no line');
      const slot = await onServer(cluster.nodes[0] as Address, (client) => client.cluster('KEYSLOT', '{caseload}'));
      const masters: { node: Address; owner: boolean; waits: number }[] = [];
      for (const node of cluster.nodes) {
        const role = await onServer(node, (client) => client.info('replication'));
        if (!role.includes('role:master')) continue;
        const keys = await onServer(node, (client) => client.cluster('COUNTKEYSINSLOT', slot));
        masters.push({ node, owner: Number(keys) > 0, waits: await waitsOn(node) });
      }
      expect(masters).to.have.length(3);
      expect(masters.filter((master) => master.owner)).to.have.length(1);

      for (const code of ['ch_CLUSTER_1', 'ch_CLUSTER_2', 'ch_CLUSTER_3']) {
        const paid = await pay(line, await atPay(line), code);
        expect(paid.heard).to.include(APPROVED);
      }
      for (const master of masters) {
        expect(await waitsOn(master.node), `WAITs on ${master.node.port}`).to.equal(master.waits + (master.owner ? 3 : 0));
      }
      expect(notOnReplica(logger)).to.deep.equal([]);
    });
  });
});
