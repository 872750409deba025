// What the line keeps and for how long, over HTTP against a real Redis (spec section 9): nothing of
// a call after its final status, retry replies for minutes, the audit trail by age and never
// pushed out by volume, printed letters for SENT_RETENTION_DAYS, and nothing from a status
// callback that is not Twilio's shape.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallRecord } from '../src/domain/call-record.ts';
import type { Line } from '../src/server.ts';
import { outboxKeys } from '../src/store/caseload-redis.ts';
import { REPLY_TTL_SECONDS } from '../src/store/store.ts';
import { Caller } from './support/caller.ts';
import { DANA, DEVIN, KEVIN, LineFleet } from './support/lines.ts';
import { keysUnder, testRedisUrl } from './support/redis.ts';
import { callParams, newCallSid, nextPath, post } from './support/twilio.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00');
const DAY = 86_400_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('what the line keeps, and for how long (real Redis)', function () {
  this.timeout(60_000);
  let fleet: LineFleet;
  let a: Line;
  let b: Line;

  beforeEach(async () => {
    fleet = new LineFleet(NOW, { SENT_RETENTION_DAYS: '7' });
    a = await fleet.start();
    b = await fleet.start();
  });
  afterEach(async () => {
    await fleet.stop();
  });

  /** The call records the store keeps, most recent first. */
  const callRecords = async (): Promise<CallRecord[]> => {
    const found: CallRecord[] = [];
    for await (const record of a.store.callRecords(new Date(0), new Date(Date.UTC(9999, 0)))) found.push(record);
    return found.reverse();
  };
  const keysOf = async (callSid: string) => (await keysUnder(await fleet.redis(), fleet.prefix)).filter((key) => key.includes(callSid));

  describe('/voice/status', () => {
    it('answers 400 to a 60,000-character CallSid, and stores and logs nothing of it', async () => {
      const huge = `CA${'f'.repeat(59_998)}`;
      const res = await post(a.app, '/voice/status', callParams(huge, { CallStatus: 'completed', CallDuration: '12' }));
      expect(res.status).to.equal(400);
      expect(await keysOf('ffffffffffffffffffffffffffffffff')).to.deep.equal([]);
      expect(await callRecords()).to.deep.equal([]);
      expect(fleet.logs.join('\n')).not.to.include('ffffffffffffffffffffffffffffffff');
    });

    it('answers 400 to a CallSid that is not Twilio\'s shape and to an overlong CallStatus; a real one is recorded', async () => {
      for (const callSid of ['', 'CA123', `CA${'g'.repeat(32)}`, `XX${'a'.repeat(32)}`, `CA${'a'.repeat(33)}`]) {
        expect((await post(a.app, '/voice/status', callParams(callSid, { CallStatus: 'completed' }))).status, callSid).to.equal(400);
      }
      const callSid = newCallSid();
      expect((await post(a.app, '/voice/status', callParams(callSid, { CallStatus: `completed${'x'.repeat(60_000)}` }))).status).to.equal(400);
      expect(await callRecords()).to.deep.equal([]);
      await new Caller(a.app, undefined, { callSid }).answer();
      const ok = await post(b.app, '/voice/status', callParams(callSid, { CallStatus: 'completed', CallDuration: '9'.repeat(40) }));
      expect(ok.status).to.equal(200);
      const [record] = await callRecords();
      expect(record).to.include({ callSid, twilioStatus: 'completed', durationSeconds: null });
    });
  });

  describe('a call', () => {
    it('that logged in and paid leaves no key of its own after the final status callback, and its retry replies never outlive five minutes', async () => {
      const c = new Caller(a.app);
      const replyTtls: number[] = [];
      const replies = async () => replyTtls.push(await (await fleet.redis()).pttl(`${fleet.prefix}call:{${c.callSid}}:replies`));
      await c.login(DEVIN.id, DEVIN.pin);
      await replies();
      expect(c.heard).to.include('Account menu.');
      await c.press('4');
      await replies();
      await c.press('5000');
      await c.press('1');
      await replies();
      expect(c.twiml).to.include('<Pay ');
      const paid = await post(b.app, nextPath(c.twiml), c.params({
        Result: 'success', PaymentConfirmationCode: 'ch_RETAIN', PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', PaymentCardType: 'visa',
      }));
      expect(paid.text).to.include('was approved');
      await replies();
      for (const ttl of replyTtls) expect(ttl).to.be.within(1, REPLY_TTL_SECONDS * 1000);
      const session = await (await fleet.redis()).ttl(`${fleet.prefix}call:{${c.callSid}}:session`);
      expect(session, 'the session lives for hours; its replies for minutes').to.be.greaterThan(3600);
      expect((await keysOf(c.callSid)).length).to.be.greaterThan(0);

      await c.hangUp();
      expect(await keysOf(c.callSid)).to.deep.equal([]);
      // What stays is the payment (the agency's export confirms it) and the outcome, not the call.
      expect((await a.caseload.payments('37004512' as never)).some((p) => p.confirmationCode === 'ch_RETAIN')).to.equal(true);
      expect((await callRecords())[0]).to.include({ callSid: c.callSid, twilioStatus: 'completed', outcome: 'self_served', payment: 'recorded' });
    });
  });

  describe('phone updates and the audit trail', () => {
    const audit = () => `${fleet.prefix}{caseload}:audit`;

    /** From the services menu: a new number, confirmed. */
    async function update(c: Caller, tenDigits: string): Promise<void> {
      await c.press('1');
      if (!c.heard.includes('Enter your new 10-digit phone number')) return;
      await c.press(tenDigits);
      await c.press('1');
    }

    it('two a call (thirty tries refused after two), three a day across calls and instances; the audit trail holds each one, and the next day opens again', async () => {
      const first = await new Caller(a.app).login(DANA.id, DANA.pin);
      await first.press('5');
      await update(first, '9165550101');
      expect(first.heard).to.include('Your phone number has been updated.');
      await update(first, '9165550102');
      expect(first.heard).to.include('Your phone number has been updated.');
      // The second update of the day stands too (it once fell back to the number on file).
      expect((await b.caseload.participant(DANA.id as never))?.phone).to.equal('+19165550102');
      for (let i = 3; i <= 30; i++) {
        await update(first, `91655501${String(i).padStart(2, '0')}`);
        expect(first.heard, `update ${i}`).to.include('You have already updated your phone number on this call.');
        expect(first.heard).to.include('Services.');
      }
      expect(await a.caseload.auditTrail(100)).to.have.length(2);

      const second = await new Caller(b.app).login(DANA.id, DANA.pin);
      await second.press('5');
      await update(second, '9165550131');
      expect(second.heard).to.include('Your phone number has been updated.');
      await update(second, '9165550132');
      expect(second.heard).to.include('Your phone number has been updated several times today, so we cannot change it again by phone until tomorrow.');
      const trail = await b.caseload.auditTrail(100);
      expect(trail.map((entry) => entry.newPhone)).to.deep.equal(['***-***-0131', '***-***-0102', '***-***-0101']);
      expect((await a.caseload.participant(DANA.id as never))?.phone).to.equal('+19165550131');
      const limited = fleet.parsedLogs.filter((l) => l.msg === 'security' && l.event === 'phone-update-limited');
      expect(limited.map((l) => l.scope)).to.deep.equal(['day']);

      fleet.advance(DAY);
      const nextDay = await new Caller(a.app).login(DANA.id, DANA.pin);
      await nextDay.press('5');
      await update(nextDay, '9165550141');
      expect(nextDay.heard).to.include('Your phone number has been updated.');
    });

    it('keeps the audit trail by age: an entry older than AUDIT_RETENTION_DAYS goes when a new one is added, a younger one stays', async () => {
      const redis = await fleet.redis();
      const { retention } = await fleet.lineConfig();
      const entry = (daysAgo: number) => JSON.stringify({ at: new Date(NOW.getTime() - daysAgo * DAY).toISOString(), participantId: KEVIN.id, action: 'phone-update', oldPhone: null, newPhone: '***-***-0000', via: 'phone-line' });
      // Written long ago (a stream's IDs are the times entries were added).
      await redis.xadd(audit(), `${NOW.getTime() - (retention.auditDays + 1) * DAY}-0`, 'entry', entry(retention.auditDays + 1));
      await redis.xadd(audit(), `${NOW.getTime() - (retention.auditDays - 1) * DAY}-0`, 'entry', entry(retention.auditDays - 1));
      expect(await redis.xlen(audit())).to.equal(2);

      const c = await new Caller(a.app).login(DANA.id, DANA.pin);
      await c.press('5');
      await update(c, '9165550151');
      expect(c.heard).to.include('Your phone number has been updated.');
      const kept = (await a.caseload.auditTrail(10)).map((e) => e.at);
      expect(kept).to.deep.equal([NOW.toISOString(), new Date(NOW.getTime() - (retention.auditDays - 1) * DAY).toISOString()]);
    });
  });

  describe('the mail outbox', () => {
    it('letters wait without expiry until printed; then each letter and its idempotency key are kept SENT_RETENTION_DAYS, and the sealed PIN goes', async () => {
      const redis = await fleet.redis();
      const forgot = new Caller(a.app);
      await forgot.toMainMenu();
      await forgot.press('3');
      await forgot.press('1');
      await forgot.press(KEVIN.id);
      await forgot.press(KEVIN.ssn);
      expect(forgot.heard).to.include('will be mailed');
      const form = await new Caller(b.app).login(DANA.id, DANA.pin);
      await form.press('5');
      await form.press('2');
      await form.press('3');
      const letters = await a.caseload.letters();
      expect(letters.map((l) => l.kind).sort()).to.deep.equal(['form', 'pin-reset']);
      const keys = outboxKeys(fleet.prefix);
      for (const letter of letters) {
        for (const key of [keys.record(letter.letterId), keys.idempotency(letter.idempotencyKey)]) expect(await redis.pttl(key), key).to.equal(-1);
      }

      const out = await mkdtemp(join(tmpdir(), 'letters-'));
      try {
        const run = await printAndMail(out);
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stdout).to.include('2 letters printed and sent');
      } finally {
        await rm(out, { recursive: true, force: true });
      }
      for (const letter of letters) {
        for (const key of [keys.record(letter.letterId), keys.idempotency(letter.idempotencyKey)]) {
          expect(await redis.ttl(key), key).to.be.within(7 * 86_400 - 60, 7 * 86_400);
        }
        expect(await redis.exists(keys.secret(letter.letterId))).to.equal(0);
      }
    });

    /** The print-and-mail job as operators run it (npm run outbox), on the fleet's Redis and prefix. */
    async function printAndMail(out: string): Promise<{ code: number; stdout: string; stderr: string }> {
      const env: Record<string, string | undefined> = { ...process.env };
      for (const name of ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'NODE_ENV', 'PIN_LETTER_KEY']) delete env[name];
      Object.assign(env, { REDIS_URL: await testRedisUrl(), REDIS_PREFIX: fleet.prefix, SENT_RETENTION_DAYS: '7' });
      return new Promise((resolve) => {
        execFile('npx', ['tsx', 'scripts/outbox.ts', '--once', '--out', out], { cwd: ROOT, env, timeout: 30_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
        });
      });
    }
  });
});
