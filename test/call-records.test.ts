// One record per call, built by the engine from what the caller went through and written when
// Twilio's final status callback comes: real calls over HTTP against a real Redis.
import { expect } from 'chai';
import { EMPTY_TRAIL, MAX_TRAIL_MENUS, MENUS, callRecordOf, trailMenus, type CallEnding, type CallRecord, type CallTrail } from '../src/domain/call-record.ts';
import { menuOfState } from '../src/domain/menu-of-state.ts';
import { silentLogger } from '../src/log.ts';
import { menuMap } from '../src/map/menu-map.ts';
import { createLine, type Line } from '../src/server.ts';
import { RedisStore } from '../src/store/redis.ts';
import type { CallStore } from '../src/store/store.ts';
import { Caller } from './support/caller.ts';
import { LineFleet, testLineConfig } from './support/lines.ts';
import { keysUnder, startRedisServer, testRedisClient, uniquePrefix } from './support/redis.ts';
import { AUTH_TOKEN } from './support/twilio.ts';

const OPEN = new Date('2026-11-24T10:00:00-08:00'); // a Tuesday morning: representatives are in
const CLOSED = new Date('2026-11-24T21:00:00-08:00'); // the same evening
const DEVIN = { id: '1586049327', ssn: '987654328', pin: '548217' }; // pays on 37004512
const TERRENCE = { id: '7719203846', pin: '482615' };

async function recordOf(store: CallStore, callSid: string): Promise<CallRecord | undefined> {
  for await (const record of store.callRecords(new Date(OPEN.getTime() - 86_400_000), new Date(CLOSED.getTime() + 86_400_000))) {
    if (record.callSid === callSid) return record;
  }
  return undefined;
}

const success = (code: string) => ({ Result: 'success', PaymentConfirmationCode: code, PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', PaymentCardType: 'visa' });

describe('the state a caller waits in names one menu of the record', () => {
  it('maps every waiting state of the line to a menu, and the ends of a call to none', () => {
    for (const node of menuMap().nodes) {
      if (node.kind === 'end') expect(menuOfState(node.id), node.id).to.equal(null);
      else expect(MENUS, node.id).to.include(menuOfState(node.id));
    }
    expect(menuOfState('account.services.phone.enter')).to.equal('phone');
    expect(menuOfState('paymentInfo.check')).to.equal('paymentInfo');
    expect(menuOfState('payment.amount.enter')).to.equal('payment');
  });
});

describe('the outcome of a call', () => {
  const ending: CallEnding = {
    callSid: 'CA00000000000000000000000000000001', startedAt: '2026-11-24T18:00:00.000Z', endedAt: '2026-11-24T18:02:00.000Z',
    durationSeconds: 120, language: 'en', twilioStatus: 'completed', failure: null,
  };
  const trail = (extra: Partial<CallTrail>): CallTrail => ({ ...EMPTY_TRAIL, menus: ['language', 'main'], ...extra });
  const decided = (extra: Partial<CallTrail>, end: Partial<CallEnding> = {}) => {
    const record = callRecordOf(trail(extra), { ...ending, ...end });
    return [record.outcome, record.transferReason, record.payment];
  };

  it('takes the first rule that holds: failed, an error transfer, gave up, transferred, self-served, abandoned', () => {
    expect(decided({ served: true, transfer: 'requested' }, { failure: 'apology-goodbye' })).to.deep.equal(['failed', null, 'none']);
    expect(decided({ served: true }, { twilioStatus: 'failed' })).to.deep.equal(['failed', null, 'none']);
    expect(decided({ transfer: 'requested' }, { failure: 'apology-transfer' })).to.deep.equal(['transferred', 'error', 'none']);
    expect(decided({ gaveUp: true, served: true })).to.deep.equal(['gave_up', null, 'none']);
    expect(decided({ transfer: 'gave_up', served: true })).to.deep.equal(['transferred', 'gave_up', 'none']);
    expect(decided({ served: true, payment: 'declined' })).to.deep.equal(['self_served', null, 'declined']);
    expect(decided({ payment: 'declined' }, { failure: 'payment-spooled' })).to.deep.equal(['self_served', null, 'spooled']);
    expect(decided({ payment: 'recorded' }, { failure: 'payment-spooled' })).to.deep.equal(['self_served', null, 'recorded']);
    expect(decided({}, { twilioStatus: 'canceled' })).to.deep.equal(['abandoned', null, 'none']);
  });

  it('keeps the first menus of a long call and, always, the last', () => {
    let menus = trailMenus([], 'language');
    for (let i = 0; i < 100; i++) menus = trailMenus(menus, i % 2 ? 'main' : 'hours');
    menus = trailMenus(menus, 'transfer');
    expect(menus).to.have.length(MAX_TRAIL_MENUS);
    expect(menus.slice(0, 3)).to.deep.equal(['language', 'hours', 'main']);
    expect(menus[menus.length - 1]).to.equal('transfer');
  });
});

describe('call records (real Redis)', function () {
  this.timeout(30_000);
  let fleet: LineFleet;
  let line: Line;

  beforeEach(async () => {
    fleet = new LineFleet(OPEN);
    line = await fleet.start();
  });
  afterEach(() => fleet.stop());

  it('a caller who logs in and hears the balance: self-served, verified, the menus in order', async () => {
    const c = await new Caller(line.app).login(TERRENCE.id, TERRENCE.pin);
    await c.press('1');
    expect(c.heard).to.include('For the case ending in 3 4 5 6');
    await c.press('*');
    // The trail keeps the session small.
    expect(JSON.stringify(await line.store.getSession(c.callSid)).length).to.be.below(2_048);
    await c.hangUp();
    expect(await recordOf(line.store, c.callSid)).to.deep.equal({
      callSid: c.callSid, startedAt: OPEN.toISOString(), endedAt: OPEN.toISOString(), durationSeconds: 60, language: 'en',
      menus: ['language', 'main', 'login', 'account', 'balance', 'account'], outcome: 'self_served', transferReason: null,
      identification: 'verified', identificationFailures: 0, payment: 'none', twilioStatus: 'completed',
    });
  });

  it('a caller who presses 0: transferred, as requested', async () => {
    const c = await new Caller(line.app).toMainMenu('es');
    await c.press('0');
    expect(c.twiml).to.include('<Dial');
    await c.dialEnded('completed');
    await c.hangUp();
    expect(await recordOf(line.store, c.callSid)).to.include({ outcome: 'transferred', transferReason: 'requested', language: 'es' })
      .and.to.have.deep.property('menus', ['language', 'main', 'transfer']);
  });

  it('a transfer nobody answered, the caller back in the menus and gone: abandoned, not transferred', async () => {
    const c = await new Caller(line.app).toMainMenu();
    await c.press('0');
    await c.dialEnded('no-answer');
    expect(c.heard).to.include('Main menu.');
    await c.hangUp();
    expect(await recordOf(line.store, c.callSid)).to.include({ outcome: 'abandoned', transferReason: null })
      .and.to.have.deep.property('menus', ['language', 'main', 'transfer', 'main']);
  });

  it('three wrong keys after hours: gave up; in office hours: transferred for that reason', async () => {
    fleet.now = CLOSED;
    const late = await new Caller(line.app).toMainMenu();
    for (const key of ['8', '8', '8']) await late.press(key);
    expect(late.twiml).to.include('<Hangup/>');
    await late.hangUp();
    expect(await recordOf(line.store, late.callSid)).to.include({ outcome: 'gave_up', transferReason: null }).and.to.have.deep.property('menus', ['language', 'main']);

    fleet.now = OPEN;
    const early = await new Caller(line.app).toMainMenu();
    for (const key of ['8', '8', '8']) await early.press(key);
    expect(early.twiml).to.include('<Dial');
    await early.hangUp();
    expect(await recordOf(line.store, early.callSid)).to.include({ outcome: 'transferred', transferReason: 'gave_up' })
      .and.to.have.deep.property('menus', ['language', 'main', 'transfer']);
  });

  it('a caller who fails to log in and hangs up: abandoned, identification failed, the failures counted', async () => {
    const c = await new Caller(line.app).login(TERRENCE.id, '999999');
    expect(c.heard).to.include('We could not verify');
    await c.press('1');
    await c.press(TERRENCE.id);
    await c.press('999998');
    await c.hangUp();
    expect(await recordOf(line.store, c.callSid)).to.include({ outcome: 'abandoned', identification: 'failed', identificationFailures: 2, payment: 'none' })
      .and.to.have.deep.property('menus', ['language', 'main', 'login']);
  });

  it('a card payment declined, then approved: self-served, the payment recorded', async () => {
    const c = await new Caller(line.app).toMainMenu();
    await c.press('2');
    await c.press(DEVIN.id);
    await c.press(DEVIN.ssn);
    await c.press('10000');
    await c.press('1');
    await c.pay({ Result: 'payment-connector-error', PaymentConfirmationCode: '' });
    expect(c.heard).to.include('press 1');
    await c.press('1');
    await c.pay(success('ch_RECORDS'));
    expect(c.heard).to.include('was approved');
    await c.hangUp();
    expect(await recordOf(line.store, c.callSid)).to.include({ outcome: 'self_served', identification: 'verified', payment: 'recorded' })
      .and.to.have.deep.property('menus', ['language', 'main', 'payment']);
  });

  it('a call that ends before the line answers it is recorded from the status alone; a repeated callback adds nothing', async () => {
    const c = new Caller(line.app);
    await c.hangUp('canceled');
    const answered = await new Caller(line.app).toMainMenu();
    await answered.hangUp();
    await answered.hangUp();
    const records = [];
    for await (const record of line.store.callRecords(new Date(OPEN.getTime() - 60_000), new Date(OPEN.getTime() + 1))) records.push(record);
    expect(records.map((r) => [r.callSid, r.outcome, r.twilioStatus, r.menus.length])).to.have.deep.members([
      [c.callSid, 'abandoned', 'canceled', 0],
      [answered.callSid, 'abandoned', 'completed', 2],
    ]);
  });
});

describe('call records when Redis hangs mid-call', function () {
  this.timeout(60_000);

  for (const [label, at, expected] of [
    ['after hours: the apology says goodbye, the call failed', CLOSED, { outcome: 'failed', transferReason: null }],
    ['in office hours: the apology transfers, for an error', OPEN, { outcome: 'transferred', transferReason: 'error' }],
  ] as const) {
    it(`${label}; the menus before it are kept, whichever instance takes the status callback`, async () => {
      const server = await startRedisServer();
      const prefix = uniquePrefix();
      const config = await testLineConfig({ REDIS_PREFIX: prefix });
      const lines = [
        await createLine({ config, store: RedisStore.connect(server.url, prefix), clock: () => at, logger: silentLogger }),
        await createLine({ config, store: RedisStore.connect(server.url, prefix), clock: () => at, logger: silentLogger }),
      ];
      try {
        const c = await new Caller(lines[0]!.app).toMainMenu();
        server.pause();
        try {
          await c.press('5');
        } finally {
          server.resume();
        }
        expect(c.heard).to.include('something went wrong on our side');
        // The other instance never saw the failure: it learns of it from the store.
        await new Caller(lines[1]!.app, AUTH_TOKEN, { callSid: c.callSid }).hangUp();
        expect(await recordOf(lines[1]!.store, c.callSid)).to.include(expected).and.to.have.deep.property('menus', ['language', 'main']);
        const admin = await testRedisClient(server.url);
        expect((await keysUnder(admin, prefix)).filter((key) => key.includes(c.callSid))).to.deep.equal([]);
        admin.disconnect();
      } finally {
        for (const line of lines) {
          await line.close();
          await line.store.close();
        }
        server.stop();
      }
    });
  }
});
