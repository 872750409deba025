// Every kind of security event, raised over HTTP against a real Redis, is one structured warn
// line (`msg: security`, `event: <kind>`, reason codes), and nothing the line logs carries a
// participant ID, SSN, PIN or full phone number.
import { expect } from 'chai';
import type { SecurityEvent } from '../src/domain/identification.ts';
import type { Line } from '../src/server.ts';
import { Caller } from './support/caller.ts';
import { DANA, DEVIN, KEVIN, LineFleet, NOBODY, TERRENCE, type LogLine } from './support/lines.ts';
import { callParams, newCallSid, nextPath, post } from './support/twilio.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00');

/** Each kind's fields besides `time`, `level`, `msg` and `event`, and the values each may take. */
const FIELDS: { [Kind in SecurityEvent['kind']]: Record<string, readonly (string | number)[] | 'count'> } = {
  'identification-failed': { method: ['pin', 'ssn'], reason: ['unknown', 'mismatch', 'locked'] },
  'identification-locked': { method: ['pin', 'ssn'] },
  'identification-throttled': { scope: ['number', 'withheld'] },
  'identification-alarm': { failuresThisMinute: 'count' },
  'signature-rejected': { status: [400, 403], path: ['/voice', '/voice/input', '/voice/status'], reason: ['missing', 'mismatch'] },
  'payment-replay': { reason: ['consumed', 'expired', 'other-call'] },
  'phone-update-limited': { scope: ['day'] },
};

function success(code: string): Record<string, string> {
  return { Result: 'success', PaymentConfirmationCode: code, PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', PaymentCardType: 'visa' };
}

describe('security events (real Redis)', function () {
  this.timeout(60_000);
  let fleet: LineFleet;
  let a: Line;
  let b: Line;

  beforeEach(async () => {
    fleet = new LineFleet(NOW, {
      IDENTIFICATION_LOCK_AFTER: '2', IDENTIFICATION_FAILURES_PER_NUMBER: '4', IDENTIFICATION_FAILURES_WITHHELD: '5',
      IDENTIFICATION_ALARM_PER_MINUTE: '3', PHONE_UPDATES_PER_DAY: '1',
    });
    a = await fleet.start();
    b = await fleet.start();
  });
  afterEach(async () => {
    await fleet.stop();
  });

  const security = (): LogLine[] => fleet.parsedLogs.filter((l) => l.msg === 'security');
  /** The security events `act` logged, as `kind/field=value...`. */
  async function logged(act: () => Promise<unknown>): Promise<string[]> {
    const before = security().length;
    await act();
    return security().slice(before).map(({ time: _time, level: _level, msg: _msg, event, ...fields }) =>
      [event, ...Object.entries(fields).map(([k, v]) => `${k}=${String(v)}`)].join(' '));
  }

  async function login(line: Line, from: string, id: string, pin: string): Promise<Caller> {
    const c = new Caller(line.app, undefined, { from });
    await c.toMainMenu();
    await c.press('1');
    await c.press(id);
    await c.press(pin);
    return c;
  }

  it('each kind is one warn line with its reason codes, and the log names no ID, SSN, PIN or phone number', async () => {
    // A minute with three failures sets off the alarm; the second failure for Dana locks her PIN.
    expect(await logged(() => login(a, '+19165550171', NOBODY, '111111'))).to.deep.equal(['identification-failed method=pin reason=unknown']);
    expect(await logged(() => login(b, '+19165550172', DANA.id, '222222'))).to.deep.equal(['identification-failed method=pin reason=mismatch']);
    expect(await logged(() => login(a, '+19165550173', DANA.ssn, '333333'))).to.deep.equal([
      'identification-failed method=pin reason=mismatch', 'identification-locked method=pin', 'identification-alarm failuresThisMinute=3',
    ]);
    fleet.advance(60_000);
    expect(await logged(() => login(b, '+19165550174', DANA.id, DANA.pin))).to.deep.equal(['identification-failed method=pin reason=locked']);
    expect(await logged(async () => {
      const c = new Caller(a.app, undefined, { from: '+19165550175' });
      await c.toMainMenu();
      await c.press('2');
      await c.press(KEVIN.id);
      await c.press('123456789');
    })).to.deep.equal(['identification-failed method=ssn reason=mismatch']);

    // A number's fourth failure this hour; then its next call is not asked to identify.
    fleet.advance(60_000);
    const from = '+19165550176';
    for (const pin of ['444444', '555555', '666666']) await login(b, from, NOBODY, pin);
    expect(await logged(() => login(a, from, NOBODY, '777777'))).to.deep.equal(['identification-failed method=pin reason=unknown', 'identification-throttled scope=number']);
    expect(await logged(async () => {
      const c = new Caller(b.app, undefined, { from });
      await c.toMainMenu();
      await c.press('1');
    })).to.deep.equal(['identification-throttled scope=number']);
    fleet.advance(60_000);
    for (const [i, withheld] of ['anonymous', '+266696687', '', 'anonymous'].entries()) await login([a, b][i % 2]!, withheld, NOBODY, '888888');
    expect(await logged(() => login(a, '', NOBODY, '999999'))).to.deep.equal(['identification-failed method=pin reason=unknown', 'identification-throttled scope=withheld']);

    // Requests that are not Twilio's.
    const callSid = newCallSid();
    expect(await logged(() => post(a.app, '/voice', callParams(callSid), { signature: null }))).to.deep.equal(['signature-rejected status=400 path=/voice reason=missing']);
    expect(await logged(() => post(b.app, '/voice/input?turn=1&lang=en', callParams(callSid, { Digits: DANA.ssn }), { signature: 'bm90IHR3aWxpbw==' })))
      .to.deep.equal(['signature-rejected status=403 path=/voice/input reason=mismatch']);

    // A <Pay> URL used again, by another call, and late.
    const payer = new Caller(a.app, undefined, { from: '+16195550156' });
    await payer.toMainMenu();
    await payer.press('2');
    await payer.press(DEVIN.id);
    await payer.press(DEVIN.ssn);
    await payer.press('2500');
    await payer.press('1');
    const payUrl = nextPath(payer.twiml);
    expect(await logged(() => post(a.app, payUrl, payer.params(success('ch_SEC1'))))).to.deep.equal([]);
    expect(await logged(() => post(b.app, payUrl, payer.params(success('ch_SEC2'))))).to.deep.equal(['payment-replay reason=consumed']);
    expect(await logged(() => post(a.app, payUrl, callParams(newCallSid(), success('ch_SEC3'))))).to.deep.equal(['payment-replay reason=other-call']);
    fleet.advance(31 * 60_000);
    expect(await logged(() => post(b.app, payUrl, payer.params(success('ch_SEC4'))))).to.deep.equal(['payment-replay reason=expired']);

    // A phone number changed more often than the day allows (one here).
    const updater = await login(a, '+19165550178', TERRENCE.id, TERRENCE.pin);
    await updater.press('5');
    await updater.press('1');
    await updater.press('9165550177');
    await updater.press('1');
    expect(updater.heard).to.include('has been updated');
    expect(await logged(async () => {
      await updater.press('1');
      await updater.press('9165550179');
      await updater.press('1');
    })).to.deep.equal(['phone-update-limited scope=day']);

    const lines = security();
    expect(new Set(lines.map((l) => l.event))).to.deep.equal(new Set(Object.keys(FIELDS)));
    for (const line of lines) {
      const { time, level, msg, event, ...fields } = line;
      expect(level).to.equal('warn');
      expect(msg).to.equal('security');
      expect(time).to.be.a('string');
      const allowed = FIELDS[event as SecurityEvent['kind']];
      expect(Object.keys(fields).sort(), String(event)).to.deep.equal(Object.keys(allowed).sort());
      for (const [name, values] of Object.entries(allowed)) {
        if (values === 'count') expect(fields[name]).to.be.a('number');
        else expect(values, `${String(event)} ${name}`).to.include(fields[name]);
      }
    }

    // The whole log: every line the two instances wrote, CallSids aside (hex, they may hold digit runs).
    const everything = fleet.logs.join('\n').replace(/CA[0-9a-f]{32}/g, 'CA…');
    for (const secret of [DANA.id, DANA.ssn, DANA.pin, KEVIN.id, DEVIN.id, DEVIN.ssn, TERRENCE.id, TERRENCE.pin, NOBODY, '123456789', '9165550177', '9165550179', '19165550176', '266696687']) {
      expect(everything, secret).not.to.include(secret);
    }
    expect(everything).not.to.match(/\d{6,}/);
  });
});
