// Card payments over HTTP against a real Redis: <Pay> rendered as Twilio expects, a success
// recorded exactly once and applied by the rules, every other result recording nothing, and a
// payment that arrives while Redis is away spooled and recorded when it is back.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import type { CaseNumber } from '../src/domain/caseload.ts';
import { jsonLogger } from '../src/log.ts';
import { createLine, type Line } from '../src/server.ts';
import { RedisCaseloadStore } from '../src/store/caseload-redis.ts';
import { RedisStore } from '../src/store/redis.ts';
import { Caller } from './support/caller.ts';
import { LineFleet, loadDemoCaseload, testLineConfig } from './support/lines.ts';
import { startRedisServer, uniquePrefix } from './support/redis.ts';
import { callParams, nextPath, post, saidIn } from './support/twilio.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00');
const KEVIN = { id: '5302184967', ssn: '987654322', pin: '920374' };
const DEVIN = { id: '1586049327', ssn: '987654328', pin: '548217' }; // pays on 37004512
const TERRENCE = { id: '7719203846', ssn: '987654321', pin: '482615' }; // receives only
const CASE = '37004512' as CaseNumber;

function success(code: string, card = 'xxxx-xxxx-xxxx-4242'): Record<string, string> {
  return {
    Result: 'success', PaymentConfirmationCode: code, PaymentCardNumber: card, PaymentCardType: 'visa', ExpirationDate: '0931',
    PaymentCardPostalCode: '96161', SecurityCode: 'xxx', PaymentMethod: 'credit-card', PaymentToken: '', ProfileId: '', PaymentError: '', PayErrorCode: '0', ConnectorError: '',
  };
}

describe('card payments (real Redis)', function () {
  this.timeout(30_000);
  let fleet: LineFleet;
  let line: Line;

  beforeEach(async () => {
    fleet = new LineFleet(NOW);
    line = await fleet.start();
  });
  afterEach(() => fleet.stop());

  /** From the main menu, by participant ID and SSN, to the <Pay> for `cents`. */
  async function toPay(caller: Caller, who = DEVIN, cents = '45000'): Promise<Caller> {
    await caller.toMainMenu();
    await caller.press('2');
    expect(caller.heard).to.include('Card payments are free');
    await caller.press(who.id);
    await caller.press(who.ssn);
    await caller.press(cents);
    expect(caller.heard).to.include('To confirm, press 1');
    return caller.press('1');
  }

  function payPath(caller: Caller): string {
    return nextPath(caller.twiml);
  }

  it('renders <Pay> with the charge, currency, connector, description, language, prompts and an action on this service', async () => {
    const c = await toPay(new Caller(line.app));
    expect(c.twiml).to.match(/<Pay input="dtmf" action="https:\/\/ivr\.example\.test\/voice\/pay\?turn=\d+&amp;lang=en&amp;ref=v1\.[\w.-]+"/);
    // The case and amount ride along sealed: no digits the caller typed appear in the URL.
    expect(nextPath(c.twiml)).not.to.match(/45000|37004512/);
    expect(c.twiml).to.include('statusCallback="https://ivr.example.test/voice/pay-status"');
    expect(c.twiml).to.include('chargeAmount="450.00" currency="usd"');
    expect(c.twiml).to.include('paymentConnector="Default"');
    expect(c.twiml).to.include('description="Child support payment, case 37004512"');
    expect(c.twiml).to.include('language="en-US"');
    for (const kind of ['payment-card-number', 'expiration-date', 'security-code', 'postal-code', 'payment-processing']) {
      expect(c.twiml).to.include(`<Prompt for="${kind}">`);
    }
    expect(c.twiml).to.include('errorType="invalid-card-number"');
  });

  it('a Spanish caller gets <Pay> in es-US with Spanish prompts', async () => {
    const c = new Caller(line.app);
    await c.toMainMenu('es');
    await c.press('2');
    await c.press(DEVIN.id);
    await c.press(DEVIN.ssn);
    await c.press('2500');
    await c.press('1');
    expect(c.twiml).to.include('language="es-US"');
    expect(c.twiml).to.include('Por favor marque el número de su tarjeta');
    expect(c.twiml).not.to.include('Please enter');
  });

  it('records a success once, applies it this month → principal → interest → credit, and says the receipt', async () => {
    // 37004512: $260.00 due this month, $3,100.00 principal, $412.80 interest.
    const c = await toPay(new Caller(line.app), DEVIN, '380000');
    await post(line.app, payPath(c), callParams(c.callSid, success('ch_TEST1')))
      .then((res) => { c.twiml = res.text; c.heard = saidIn(res.text); });
    expect(c.heard).to.include('Your payment of $3,800.00 with the card ending in 4 2 4 2 was approved');
    expect(c.heard).to.include('Your confirmation number is C, H, underscore, T, E, S, T, 1');
    expect(c.heard).to.include('credited to your case on Tuesday, November 24, 2026');
    const [after] = (await line.caseload.casesOf(DEVIN.id as never)).filter((x) => x.caseNumber === CASE);
    expect(after).to.include({ currentMonthDue: 0, arrearsPrincipal: 0, arrearsInterest: 0, credit: 380000 - 26000 - 310000 - 41280 });
    const payments = await line.caseload.payments(CASE);
    expect(payments[0]).to.deep.include({ amount: 380000, method: 'card', confirmationCode: 'ch_TEST1', receivedAt: NOW.toISOString() });
    // 1 repeats the confirmation number.
    await c.press('1');
    expect(c.heard).to.include('C, H, underscore, T, E, S, T, 1');
  });

  it('the next call hears the new balance and the payment in the history', async () => {
    const c = await toPay(new Caller(line.app), DEVIN, '30000');
    await post(line.app, payPath(c), callParams(c.callSid, success('ch_NEXT')));
    const again = await new Caller(line.app).login(DEVIN.id, DEVIN.pin);
    await again.press('1');
    // $300.00: $260.00 this month, $40.00 principal.
    expect(again.heard).to.include('Due this month, $0.00. Past-due support, $3,060.00. Interest, $412.80.');
    await again.press('*');
    await again.press('2');
    expect(again.heard).to.include('On Tuesday, November 24, 2026, $300.00 from a card payment, case ending in 4 5 1 2');
  });

  it('the same success callback twice, and twice at once, records one payment and one balance change', async () => {
    const c = await toPay(new Caller(line.app), DEVIN, '10000');
    const path = payPath(c);
    const first = await post(line.app, path, callParams(c.callSid, success('ch_DUP')), { idempotencyToken: 'tok-1' });
    const retried = await post(line.app, path, callParams(c.callSid, success('ch_DUP')), { idempotencyToken: 'tok-1' });
    const [a, b] = await Promise.all([
      post(line.app, path, callParams(c.callSid, success('ch_DUP'))),
      post(line.app, path, callParams(c.callSid, success('ch_DUP'))),
    ]);
    for (const res of [retried, a, b]) expect(res.text).to.equal(first.text);
    const payments = (await line.caseload.payments(CASE)).filter((p) => p.confirmationCode === 'ch_DUP');
    expect(payments).to.have.length(1);
    const [after] = (await line.caseload.casesOf(DEVIN.id as never)).filter((x) => x.caseNumber === CASE);
    expect(after?.currentMonthDue).to.equal(26000 - 10000);
  });

  it('the store records a confirmation code once even when two callers race with it', async () => {
    const caseload = new RedisCaseloadStore(await fleet.redis(), fleet.prefix);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => line.payments.record({ caseNumber: CASE, amount: 1000 as never, confirmationCode: 'ch_RACE', ticket: 'race-ticket' })),
    );
    expect(results.filter((r) => r.status === 'recorded')).to.have.length(1);
    expect((await caseload.payments(CASE)).filter((p) => p.confirmationCode === 'ch_RACE')).to.have.length(1);
    const [after] = (await caseload.casesOf(DEVIN.id as never)).filter((x) => x.caseNumber === CASE);
    expect(after?.currentMonthDue).to.equal(26000 - 1000);
  });

  for (const result of ['too-many-failed-attempts', 'payment-connector-error', 'caller-interrupted-with-star', 'validation-error', 'internal-error']) {
    it(`${result}: nothing recorded, the caller hears nothing was charged and may try again`, async () => {
      const c = await toPay(new Caller(line.app));
      const res = await post(line.app, payPath(c), callParams(c.callSid, { Result: result, PaymentConfirmationCode: '', PaymentError: 'declined', PaymentCardNumber: 'xxxx-xxxx-xxxx-0002' }));
      c.twiml = res.text;
      expect(saidIn(res.text)).to.include('did not go through, and nothing was charged');
      expect(saidIn(res.text)).to.include('To try again, press 1');
      expect(await line.caseload.payments(CASE)).to.have.length((await line.caseload.payments(CASE)).filter((p) => p.method !== 'card').length);
      await c.press('1');
      expect(c.twiml).to.include('<Pay ');
    });
  }

  it('three failed attempts end the payment; a fourth is not offered in the call', async () => {
    const c = await toPay(new Caller(line.app));
    for (let attempt = 1; attempt <= 3; attempt++) {
      const res = await post(line.app, payPath(c), callParams(c.callSid, { Result: 'payment-connector-error', PaymentConfirmationCode: '' }));
      c.twiml = res.text;
      c.heard = saidIn(res.text);
      if (attempt < 3) await c.press('1');
    }
    expect(c.heard).to.include('We could not take a card payment on this call');
    expect(c.heard).to.include('Main menu');
    await c.press('2');
    expect(c.heard).to.include('We could not take a card payment on this call');
    expect(c.twiml).not.to.include('<Pay');
  });

  it('a success that arrives after the status callback removed the session is still recorded, once', async () => {
    const c = await toPay(new Caller(line.app), DEVIN, '5000');
    const path = payPath(c);
    // Twilio may post the final status before <Pay>'s action when the caller hangs up while it processes.
    await post(line.app, '/voice/status', callParams(c.callSid, { CallStatus: 'completed', CallDuration: '90' }));
    const res = await post(line.app, path, callParams(c.callSid, success('ch_ORPHAN')));
    expect(res.status).to.equal(200);
    expect(saidIn(res.text)).to.include('Your payment of $50.00 with the card ending in 4 2 4 2 was approved');
    await post(line.app, path, callParams(c.callSid, success('ch_ORPHAN')));
    expect((await line.caseload.payments(CASE)).filter((p) => p.confirmationCode === 'ch_ORPHAN')).to.have.length(1);
  });

  it('a success whose session was saved by an older version of the menus is still recorded', async () => {
    const c = await toPay(new Caller(line.app), DEVIN, '5000');
    const session = await line.store.getSession(c.callSid);
    await line.store.saveSession(c.callSid, { ...session!, machineVersion: 'an-older-deploy' }, 60);
    const res = await post(line.app, payPath(c), callParams(c.callSid, success('ch_DEPLOY')));
    expect(saidIn(res.text)).to.include('C, H, underscore, D, E, P, L, O, Y');
    expect((await line.caseload.payments(CASE)).filter((p) => p.confirmationCode === 'ch_DEPLOY')).to.have.length(1);
  });

  it('successes without a confirmation code are each recorded once, never folded into one another', async () => {
    for (const who of [new Caller(line.app), new Caller(line.app)]) {
      const c = await toPay(who, DEVIN, '5000');
      const path = payPath(c);
      const first = await post(line.app, path, callParams(c.callSid, { ...success(''), PaymentConfirmationCode: '' }));
      const retried = await post(line.app, path, callParams(c.callSid, { ...success(''), PaymentConfirmationCode: '' }));
      expect(retried.text).to.equal(first.text);
      expect(saidIn(first.text)).to.include('was approved');
    }
    const card = (await line.caseload.payments(CASE)).filter((p) => p.method === 'card');
    expect(card).to.have.length(2);
    expect(new Set(card.map((p) => p.confirmationCode)).size).to.equal(2);
  });

  it('caller-hung-up records nothing and ends quietly', async () => {
    const c = await toPay(new Caller(line.app));
    const res = await post(line.app, payPath(c), callParams(c.callSid, { Result: 'caller-hung-up', PaymentConfirmationCode: '' }));
    expect(res.text).to.equal('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
    expect((await line.caseload.payments(CASE)).some((p) => p.method === 'card')).to.equal(false);
  });

  it('amounts below $1.00 and above the maximum are refused before <Pay>', async () => {
    const c = new Caller(line.app);
    await c.toMainMenu();
    await c.press('2');
    await c.press(DEVIN.id);
    await c.press(DEVIN.ssn);
    await c.press('99');
    expect(c.heard).to.include('The smallest payment we can take is $1.00');
    await c.press('1000001');
    expect(c.heard).to.include('The largest payment we can take on this line is $10,000.00');
    await c.press('100');
    expect(c.heard).to.include('You entered $1.00');
  });

  it('a configured fee is said before confirmation and included in the charge', async () => {
    await fleet.stop();
    fleet = new LineFleet(NOW, { PAYMENT_FEE_PERCENT: '2.5' });
    line = await fleet.start();
    const c = new Caller(line.app);
    await c.toMainMenu();
    await c.press('2');
    await c.press(DEVIN.id);
    await c.press(DEVIN.ssn);
    await c.press('10000');
    expect(c.heard).to.include('A fee of $2.50 will be added, for a total charge of $102.50');
    await c.press('1');
    expect(c.twiml).to.include('chargeAmount="102.50"');
    const res = await post(line.app, nextPath(c.twiml), callParams(c.callSid, success('ch_FEE')));
    expect(saidIn(res.text)).to.include('Your payment of $100.00');
    const [payment] = (await line.caseload.payments(CASE)).filter((p) => p.confirmationCode === 'ch_FEE');
    expect(payment?.amount).to.equal(10000);
  });

  it('a receiving parent hears why they cannot pay and what else they can do', async () => {
    const c = new Caller(line.app);
    await c.toMainMenu();
    await c.press('2');
    await c.press(TERRENCE.id);
    await c.press(TERRENCE.ssn);
    expect(c.heard).to.include('you receive support on your open cases');
    expect(c.heard).to.include('Main menu');
    expect(c.twiml).not.to.include('<Pay');
  });

  it('an ID and SSN of different people get the non-committal message', async () => {
    const c = new Caller(line.app);
    await c.toMainMenu();
    await c.press('2');
    await c.press(DEVIN.id);
    await c.press(KEVIN.ssn);
    expect(c.heard).to.include('We could not verify that participant ID and Social Security number.');
  });

  it('several payable cases are chosen by key, and account menu 4 needs no second identification', async () => {
    const c = await new Caller(line.app).login(KEVIN.id, KEVIN.pin);
    await c.press('4');
    expect(c.heard).to.include('For the case ending in 5 6 7 8, press 1. For the case ending in 4 5 6 1, press 2.'.split('. ')[0]!);
    await c.press('1');
    expect(c.heard).to.include('On the case ending in 5 6 7 8, $280.00 is due this month');
  });

  it('* leaves a payment for the menu it was chosen from: the account menu, or the main menu even when logged in', async () => {
    const fromAccount = await new Caller(line.app).login(KEVIN.id, KEVIN.pin);
    await fromAccount.press('4');
    await fromAccount.press('*');
    expect(fromAccount.heard).to.include('Account menu.');
    const fromMain = await new Caller(line.app).login(KEVIN.id, KEVIN.pin);
    await fromMain.press('*');
    expect(fromMain.heard).to.include('Main menu.');
    await fromMain.press('2');
    expect(fromMain.heard).to.include('For the case ending in 5 6 7 8, press 1.');
    await fromMain.press('*');
    expect(fromMain.heard).to.include('Main menu.');
    expect(fromMain.heard).not.to.include('Account menu.');
  });

  it('nothing of a card reaches logs, Redis or URLs: only the last four digits are said', async () => {
    const c = await toPay(new Caller(line.app));
    // Twilio posts only masked values; even so, nothing but the last four is ever kept or logged.
    await post(line.app, '/voice/pay-status', callParams(c.callSid, { For: 'payment-card-number', Attempt: '1', PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', ErrorType: '' }));
    await post(line.app, payPath(c), callParams(c.callSid, success('ch_PRIV', 'xxxx-xxxx-xxxx-4242')));
    const redis = await fleet.redis();
    const keys = await redis.keys(`${fleet.prefix}*`);
    const values = await Promise.all(keys.map(async (k) => ((await redis.type(k)) === 'string' ? redis.get(k) : JSON.stringify(await redis.lrange(k, 0, -1).catch(() => [])))));
    const everything = [...fleet.logs, ...values, ...c.urls].join('\n');
    for (const fragment of ['xxxx-xxxx', '0931', '96161', 'ExpirationDate', 'PaymentCardNumber', 'PaymentCardPostalCode']) expect(everything).not.to.include(fragment);
  });

  it('a success callback while Redis is away is spooled, told to the caller, and recorded once Redis is back', async function () {
    const server = await startRedisServer();
    const config = await testLineConfig({ REDIS_PREFIX: uniquePrefix() });
    await loadDemoCaseload(server.url, config);
    const logged: string[] = [];
    const logger = jsonLogger((text) => logged.push(text));
    const spoolLine = await createLine({ config, store: RedisStore.connect(server.url, config.redisPrefix), clock: () => NOW, logger });
    try {
      const c = await toPay(new Caller(spoolLine.app));
      const path = payPath(c);
      server.stop();
      await new Promise((r) => setTimeout(r, 300));
      const res = await post(spoolLine.app, path, callParams(c.callSid, success('ch_SPOOL')));
      expect(res.status).to.equal(200);
      expect(saidIn(res.text)).to.include('went through at our card processor, but we could not confirm it in our records yet');
      expect(saidIn(res.text)).to.include('C, H, underscore, S, P, O, O, L');
      expect(logged.some((l) => l.includes('payment spooled') && l.includes('ch_SPOOL'))).to.equal(true);
      const spooled = (await readFile(config.paymentSpoolFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { confirmationCode: string });
      expect(spooled.map((p) => p.confirmationCode)).to.deep.equal(['ch_SPOOL']);

      // Redis comes back on the same port: the replay records it, once, and empties the spool.
      const back = await startRedisServer(server.port);
      try {
        // The restarted Redis is empty (nothing persisted): load the caseload again, as an operator would.
        await loadDemoCaseload(back.url, config);
        for (let i = 0; i < 50 && (await spoolLine.caseload.payments(CASE).catch(() => [])).every((p) => p.confirmationCode !== 'ch_SPOOL'); i++) {
          await spoolLine.engine.replaySpooledPayments().catch(() => 0);
          await new Promise((r) => setTimeout(r, 100));
        }
        const recorded = (await spoolLine.caseload.payments(CASE)).filter((p) => p.confirmationCode === 'ch_SPOOL');
        expect(recorded).to.have.length(1);
        expect(await spoolLine.engine.replaySpooledPayments()).to.equal(0);
        expect((await readFile(config.paymentSpoolFile, 'utf8')).trim()).to.equal('');
      } finally {
        back.stop();
      }
    } finally {
      server.stop();
      await spoolLine.close();
      await spoolLine.store.close();
    }
  });
});
