// A <Pay> action URL is good for one payment of one call (spec section 9), over HTTP against a
// real Redis and two instances of the line: a second success posted to it (another confirmation
// code, another CallSid, after its time) records nothing and is logged as a security event.
import { expect } from 'chai';
import type { CaseNumber } from '../src/domain/caseload.ts';
import type { Line } from '../src/server.ts';
import { Caller } from './support/caller.ts';
import { DEVIN, LineFleet } from './support/lines.ts';
import { callParams, newCallSid, nextPath, post, saidIn } from './support/twilio.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00');
const CASE = '37004512' as CaseNumber; // Devin pays $260.00 a month on it
const PAY_URL_LIFETIME_MS = 30 * 60_000;

function success(code: string): Record<string, string> {
  return {
    Result: 'success', PaymentConfirmationCode: code, PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', PaymentCardType: 'visa',
    ExpirationDate: '0931', PaymentCardPostalCode: '96161', SecurityCode: 'xxx', PaymentMethod: 'credit-card', PaymentError: '', PayErrorCode: '0',
  };
}

describe('a <Pay> action URL is good for one payment of one call (real Redis, two instances)', function () {
  this.timeout(30_000);
  let fleet: LineFleet;
  let a: Line;
  let b: Line;

  beforeEach(async () => {
    fleet = new LineFleet(NOW);
    a = await fleet.start();
    b = await fleet.start();
  });
  afterEach(async () => {
    await fleet.stop();
  });

  /** From the main menu, by participant ID and SSN, to the <Pay> for `cents`; returns its action URL. */
  async function payUrlOf(caller: Caller, cents = '5000'): Promise<string> {
    await caller.toPay(DEVIN, cents);
    expect(caller.twiml).to.include('<Pay ');
    return nextPath(caller.twiml);
  }

  const cardPayments = async () => (await a.caseload.payments(CASE)).filter((p) => p.method === 'card');
  const dueThisMonth = async () => (await a.caseload.casesOf(DEVIN.id as never)).find((c) => c.caseNumber === CASE)?.currentMonthDue;
  const replays = () => fleet.parsedLogs.filter((l) => l.msg === 'security' && l.event === 'payment-replay').map((l) => l.reason);

  it('posted again with another confirmation code after the first success, on either instance: nothing recorded, payment-replay logged', async () => {
    const c = new Caller(a.app);
    const url = await payUrlOf(c);
    const first = await post(a.app, url, c.params(success('ch_FIRST')));
    expect(saidIn(first.text)).to.include('Your payment of $50.00');
    expect(await dueThisMonth()).to.equal(26000 - 5000);

    for (const [line, code] of [[a, 'ch_SECOND'], [b, 'ch_THIRD']] as const) {
      const again = await post(line.app, url, c.params(success(code)));
      expect(again.status).to.equal(200);
      expect(saidIn(again.text)).not.to.include(code.replace('ch_', ''));
    }
    expect((await cardPayments()).map((p) => p.confirmationCode)).to.deep.equal(['ch_FIRST']);
    expect(await dueThisMonth()).to.equal(26000 - 5000);
    expect(replays()).to.deep.equal(['consumed', 'consumed']);
  });

  it('posted with another CallSid: nothing recorded (before or after the real one), payment-replay logged; the call it was issued to still pays once', async () => {
    const c = new Caller(a.app);
    const url = await payUrlOf(c);
    const stranger = newCallSid();
    const before = await post(b.app, url, callParams(stranger, success('ch_STRANGER1')));
    expect(before.status).to.equal(200);
    expect(saidIn(before.text)).not.to.include('was approved');
    expect(await cardPayments()).to.deep.equal([]);

    const paid = await post(a.app, url, c.params(success('ch_OWNER')));
    expect(saidIn(paid.text)).to.include('was approved');
    const after = await post(b.app, url, callParams(stranger, success('ch_STRANGER2')));
    expect(saidIn(after.text)).not.to.include('was approved');
    expect((await cardPayments()).map((p) => p.confirmationCode)).to.deep.equal(['ch_OWNER']);
    expect(replays()).to.deep.equal(['other-call', 'other-call']);
  });

  it('posted after its 30 minutes, by the line\'s clock: nothing recorded, payment-replay logged', async () => {
    const c = new Caller(a.app);
    const url = await payUrlOf(c);
    fleet.advance(PAY_URL_LIFETIME_MS + 1_000);
    const late = await post(b.app, url, c.params(success('ch_LATE')));
    expect(late.status).to.equal(200);
    expect(saidIn(late.text)).not.to.include('was approved');
    // A day later, after the call ended, the same.
    await c.hangUp();
    fleet.advance(24 * 3600_000);
    await post(a.app, url, c.params(success('ch_DAY_LATE')));
    expect(await cardPayments()).to.deep.equal([]);
    expect(await dueThisMonth()).to.equal(26000);
    expect(replays()).to.deep.equal(['expired', 'expired']);
  });

  it('two calls whose CallSids share their last 8 hex digits, both paid at the same turn without a confirmation code, record two payments', async () => {
    const tail = 'deadbeef';
    const sid = (head: string) => `CA${head.repeat(24 / head.length)}${tail}`;
    const first = new Caller(a.app, undefined, { callSid: sid('0123') });
    const second = new Caller(b.app, undefined, { callSid: sid('4567') });
    const firstUrl = await payUrlOf(first);
    const secondUrl = await payUrlOf(second);
    expect(new URL(firstUrl, 'https://x').searchParams.get('turn')).to.equal(new URL(secondUrl, 'https://x').searchParams.get('turn'));
    for (const [caller, url] of [[first, firstUrl], [second, secondUrl]] as const) {
      const res = await post(caller.app, url, caller.params({ ...success(''), PaymentConfirmationCode: '' }));
      expect(saidIn(res.text)).to.include('was approved');
    }
    const codes = (await cardPayments()).map((p) => p.confirmationCode);
    expect(codes).to.have.length(2);
    expect(new Set(codes).size).to.equal(2);
    expect(codes.every((code) => (code ?? '').includes(tail))).to.equal(true);
    expect(await dueThisMonth()).to.equal(26000 - 2 * 5000);
  });
});
