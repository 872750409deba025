// A line that dies holding a call's lock (kill -9 mid-webhook) must not cost the caller more than
// the lock's lease: Twilio's retry of the same request, on another instance, is answered by the
// menus, not the apology. And a live holder working past its lease keeps the lock.
import { expect } from 'chai';
import bcrypt from 'bcrypt';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import twilio from 'twilio';
import type { ParticipantId } from '../src/domain/caseload.ts';
import { TIME_BUDGET, TWILIO_READ_TIMEOUT_MS } from '../src/engine/time-budget.ts';
import type { Line } from '../src/server.ts';
import { RedisCaseloadStore } from '../src/store/caseload-redis.ts';
import { Caller } from './support/caller.ts';
import { LineFleet, TERRENCE } from './support/lines.ts';
import { freePort, testRedisUrl } from './support/redis.ts';
import { AUTH_TOKEN, PUBLIC_URL, callParams, newCallSid, nextPath, post, saidIn } from './support/twilio.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const APOLOGY = 'something went wrong on our side';

/** A webhook posted to a line listening on `base`, signed for PUBLIC_URL as Twilio signs it. */
async function postTo(base: string, path: string, params: Record<string, string>, idempotencyToken: string): Promise<{ status: number; text: string }> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, PUBLIC_URL + path, params),
      'I-Twilio-Idempotency-Token': idempotencyToken,
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, text: await res.text() };
}

describe('kill -9 during a webhook, then Twilio\'s retry (real Redis)', function () {
  this.timeout(60_000);
  let fleet: LineFleet;
  let child: ChildProcess | null = null;

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = null;
    await fleet.stop();
  });

  /** `npm start` on the fleet's Redis and prefix, as its own process (node with tsx, so the PID is the line's own). */
  async function startChild(bcryptCost: number): Promise<string> {
    const port = await freePort();
    const env: Record<string, string | undefined> = { ...process.env };
    for (const name of ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'NODE_ENV', 'SSN_HASH_KEY', 'PIN_LETTER_KEY']) delete env[name];
    Object.assign(env, {
      REDIS_URL: await testRedisUrl(), REDIS_PREFIX: fleet.prefix, PORT: String(port), PUBLIC_URL, TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      BCRYPT_COST: String(bcryptCost), AGENT_NUMBER: '+19165550199', PAYMENT_SPOOL_FILE: join(await mkdtemp(join(tmpdir(), 'cc-spool-')), 'payments.jsonl'),
    });
    child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`the line exited with ${child.exitCode}`);
      const up = await fetch(`${base}/readyz`).then((res) => res.ok, () => false);
      if (up) return base;
      await sleep(50);
    }
    throw new Error('the line did not become ready within 10 s');
  }

  it('the retry of a PIN webhook whose line died checking it is answered by the menus within about the lock\'s lease', async () => {
    fleet = new LineFleet(new Date());
    const config = await fleet.lineConfig();
    // A PIN hashed at cost 14: its check takes most of a second, the window the line is killed in.
    const caseload = new RedisCaseloadStore(await fleet.redis(), fleet.prefix, config.retention);
    const slowHash = await bcrypt.hash(TERRENCE.pin, 14);
    await caseload.changePin(TERRENCE.id as ParticipantId, slowHash, new Date());
    /** How long that check takes on this machine now (it varies with the machine's load). */
    const pinCheckMs = async () => {
      const started = performance.now();
      await bcrypt.compare(TERRENCE.pin, slowHash);
      return performance.now() - started;
    };
    const base = await startChild(14);

    const callSid = newCallSid();
    const step = async (path: string, params: Record<string, string>) => {
      const res = await postTo(base, path, callParams(callSid, params), randomUUID());
      expect(res.status).to.equal(200);
      return res.text;
    };
    let twiml = await step('/voice', { CallStatus: 'ringing' });
    twiml = await step(nextPath(twiml), { Digits: '1' });
    twiml = await step(nextPath(twiml), { Digits: '1' });
    twiml = await step(nextPath(twiml), { Digits: TERRENCE.id });
    expect(saidIn(twiml)).to.include('Now enter your PIN');

    const pinPath = nextPath(twiml);
    const pinParams = callParams(callSid, { Digits: TERRENCE.pin });
    const token = randomUUID();
    const killed = postTo(base, pinPath, pinParams, token).then(() => 'answered', () => 'cut off');
    await sleep(300);
    const redis = await fleet.redis();
    const lock = `${fleet.prefix}call:{${callSid}}:lock`;
    expect(await redis.exists(lock), 'the line holds the call\'s lock while it checks the PIN').to.equal(1);
    child!.kill('SIGKILL');
    expect(await killed).to.equal('cut off');
    expect(await redis.exists(lock), 'the dead line\'s lock is still there').to.equal(1);

    // Twilio retries the same request, with the same token, and reaches another instance.
    const line = await fleet.start();
    const leaseLeft = await redis.pttl(lock);
    const started = Date.now();
    const retried = await post(line.app, pinPath, pinParams, { idempotencyToken: token });
    const took = Date.now() - started;
    expect(retried.status).to.equal(200);
    expect(saidIn(retried.text)).not.to.include(APOLOGY);
    expect(saidIn(retried.text)).to.include('Account menu.');
    // It waited out the dead line's lease (at most 4 s), then checked the PIN itself: about 5 s
    // on an idle machine, and well inside Twilio's 15 s. A bcrypt check's time swings with the
    // machine's load, so it is measured here and allowed twice over.
    const checkMs = Math.max(await pinCheckMs(), await pinCheckMs());
    const timing = `took ${took} ms: ${leaseLeft} ms of lease left, a PIN check takes ${Math.round(checkMs)} ms here`;
    expect(leaseLeft, timing).to.be.within(1, TIME_BUDGET.lockLeaseMs);
    expect(took, timing).to.be.at.least(leaseLeft - 100);
    expect(took, timing).to.be.below(leaseLeft + 2 * checkMs + 1_000);
    expect(took, timing).to.be.below(TWILIO_READ_TIMEOUT_MS - TIME_BUDGET.marginMs);
    const webhook = fleet.parsedLogs.find((l) => l.msg === 'webhook' && l.call === callSid);
    expect(webhook).to.include({ outcome: 'applied', state: 'account.menu' });

    const next = await post(line.app, nextPath(retried.text), callParams(callSid, { Digits: '1' }));
    expect(saidIn(next.text)).not.to.include(APOLOGY);
  });

  it('a live line working past its lease keeps the lock: the retry on another instance waits and gets the same answer, applied once', async () => {
    fleet = new LineFleet(new Date('2026-11-24T10:00:00-08:00'));
    const config = await fleet.lineConfig();
    const slowFor = TIME_BUDGET.lockLeaseMs + 1_500;
    // An instance whose PIN checks take longer than the lock's lease (a stalled store, a queued bcrypt).
    const slow: Line = await fleet.start({
      caseload: (store) => {
        const real = new RedisCaseloadStore(store.redis, fleet.prefix, config.retention);
        return new Proxy(real, {
          get(target, name) {
            const value: unknown = Reflect.get(target, name, target);
            if (typeof value !== 'function') return value;
            if (name === 'credentials') {
              return async (...args: unknown[]) => {
                await sleep(slowFor);
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            }
            return (value as (...a: unknown[]) => unknown).bind(target);
          },
        });
      },
    });
    const fast = await fleet.start();

    const caller = new Caller(fast.app);
    await caller.toMainMenu();
    await caller.press('1');
    await caller.press(TERRENCE.id);
    const pinPath = nextPath(caller.twiml);
    const pinParams = caller.params({ Digits: TERRENCE.pin });
    const token = randomUUID();
    const first = post(slow.app, pinPath, pinParams, { idempotencyToken: token });
    await sleep(TIME_BUDGET.lockLeaseMs + 500);
    const retried = await post(fast.app, pinPath, pinParams, { idempotencyToken: token });
    const original = await first;

    expect(saidIn(original.text)).to.include('Account menu.');
    expect(retried.text).to.equal(original.text);
    const turn = Number(new URL(pinPath, PUBLIC_URL).searchParams.get('turn'));
    const pinWebhooks = fleet.parsedLogs.filter((l) => l.msg === 'webhook' && l.call === caller.callSid && l.turn === turn);
    expect(pinWebhooks.map((l) => l.outcome)).to.deep.equal(['applied', 'replayed']);
    expect(fleet.parsedLogs.filter((l) => l.msg === 'webhook failed')).to.deep.equal([]);
  });
});
