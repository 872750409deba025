// Identification limits over HTTP, against a real Redis, across two instances of the line sharing
// it (spec section 4): per participant (PIN; ID + SSN), per calling number, withheld numbers, the
// line-wide alarm; each limit's expiry under the line's clock; the same words and the same store
// work whatever the failure.
import { expect } from 'chai';
import type { ParticipantId } from '../src/domain/caseload.ts';
import { callerKeyOf, DEFAULT_IDENTIFICATION_POLICY } from '../src/domain/identification.ts';
import type { Line } from '../src/server.ts';
import { Caller } from './support/caller.ts';
import { DANA, DEVIN, GORDON, KEVIN, LineFleet, NOBODY, TERRENCE, type Person } from './support/lines.ts';
import { watchCommands } from './support/redis.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00'); // a Tuesday, in office hours
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const WRONG_PIN = '000111';
const WRONG_SSN = '123456789';

const MISMATCH_PIN = 'We could not verify that participant ID and PIN.';
const MISMATCH_SSN = 'We could not verify that participant ID and Social Security number.';
const UNAVAILABLE = 'Account services by phone are not available right now.';
const ASKED_FOR_ID = /participant ID (or Social Security number, )?then press pound|10-digit participant ID/;

/** The ways into identification from the main menu: login (1), card payment (2), forgot my PIN (3, 1). */
type Route = 'login' | 'pay' | 'forgot';
const KEYS: Record<Route, string[]> = { login: ['1'], pay: ['2'], forgot: ['3', '1'] };

/** Each answer to the second factor, as TwiML. */
type Tried = { caller: Caller; answers: string[] };

/**
 * One call from `from` that takes `route` and tries each ID and secret in turn (the line allows
 * three a call), stopping when the line stops asking.
 */
async function call(line: Line, from: string, route: Route, tries: [string, string][]): Promise<Tried> {
  const caller = new Caller(line.app, undefined, { from });
  await caller.toMainMenu();
  for (const key of KEYS[route]) await caller.press(key);
  const answers: string[] = [];
  for (const [i, [id, secret]] of tries.entries()) {
    if (i > 0) await caller.press('1');
    if (!ASKED_FOR_ID.test(caller.heard)) break;
    await caller.press(id);
    await caller.press(secret);
    answers.push(caller.twiml);
  }
  return { caller, answers };
}

/** `count` failures from `from` on `route`, in calls of three, alternating between `lines`. */
async function fail(lines: Line[], from: string, route: Route, count: number, who: (i: number) => [string, string]): Promise<string[]> {
  const answers: string[] = [];
  for (let done = 0, n = 0; done < count; n++) {
    const tries = Array.from({ length: Math.min(3, count - done) }, (_, i) => who(done + i));
    const { answers: heard } = await call(lines[n % lines.length]!, from, route, tries);
    answers.push(...heard);
    done += tries.length;
    if (heard.length < tries.length) break;
  }
  return answers;
}

function said(twiml: string): string {
  return [...twiml.matchAll(/<Say[^>]*>[\s\S]*?<\/Say>/g)].map((m) => m[0]).join('');
}

describe('identification limits over HTTP, two instances on one Redis', function () {
  this.timeout(120_000);
  let fleet: LineFleet;
  let a: Line;
  let b: Line;

  async function startFleet(env: Record<string, string> = {}): Promise<void> {
    fleet = new LineFleet(NOW, env);
    a = await fleet.start();
    b = await fleet.start();
  }

  afterEach(async () => {
    await fleet.stop();
  });

  /** Whether a method is locked for a participant, read without trying (a try while locked is itself a failure). */
  async function locked(method: 'pin' | 'ssn', who: Person): Promise<boolean> {
    const config = await fleet.lineConfig();
    const state = await a.caseload.identificationState(method, who.id as ParticipantId, callerKeyOf('+19165550100', config.ssnHashKey), fleet.now, config.identification);
    return state.locked;
  }

  const securityEvents = (kind: string) => fleet.parsedLogs.filter((l) => l.msg === 'security' && l.event === kind);

  describe('PIN failures per participant', () => {
    beforeEach(() => startFleet());

    it('six within 24 hours, on either instance, lock PIN login silently; the lock lifts 24 hours after the last failure', async () => {
      const from = '+19165550111';
      for (let i = 0; i < 6; i++) {
        // One a call, a minute apart, the first three calls to one instance and the rest to the other.
        expect(await locked('pin', TERRENCE)).to.equal(false);
        await call([a, b][Math.floor(i / 3)]!, from, 'login', [[TERRENCE.id, WRONG_PIN]]);
        fleet.advance(60_000);
      }
      expect(await locked('pin', TERRENCE)).to.equal(true);
      expect(securityEvents('identification-locked')).to.have.length(1);

      const wrong = await call(b, '+19165550112', 'login', [[TERRENCE.id, WRONG_PIN]]);
      const right = await call(a, '+19165550113', 'login', [[TERRENCE.id, TERRENCE.pin]]);
      expect(said(right.answers[0]!)).to.equal(said(wrong.answers[0]!));
      expect(right.answers[0]).to.equal(wrong.answers[0]);
      expect(right.caller.heard).to.include(MISMATCH_PIN);
      expect(right.caller.heard).not.to.match(/lock|bloque/i);
      // Both tries just now were failures too: the lock lifts a day after the later of them.
      const lifts = fleet.now.getTime() + DAY;
      fleet.now = new Date(lifts - 1_000);
      expect(await locked('pin', TERRENCE)).to.equal(true);
      fleet.now = new Date(lifts + 1_000);
      expect(await locked('pin', TERRENCE)).to.equal(false);
      const after = await call(b, from, 'login', [[TERRENCE.id, TERRENCE.pin]]);
      expect(after.caller.heard).to.include('Account menu.');
    });

    it('failures older than 24 hours do not count: five, a day, then one more, and the PIN still works', async () => {
      await fail([a, b], '+19165550114', 'login', 5, () => [KEVIN.id, WRONG_PIN]);
      fleet.advance(DAY + 1_000);
      await call(b, '+19165550114', 'login', [[KEVIN.ssn, WRONG_PIN]]);
      expect(await locked('pin', KEVIN)).to.equal(false);
      expect((await call(a, '+19165550114', 'login', [[KEVIN.id, KEVIN.pin]])).caller.heard).to.include('Account menu.');
    });

    it('an unknown ID, a wrong PIN and a locked participant get byte-identical TwiML', async () => {
      await fail([a, b], '+19165550115', 'login', 6, () => [GORDON.id, WRONG_PIN]);
      expect(await locked('pin', GORDON)).to.equal(true);
      const unknown = await call(a, '+19165550116', 'login', [[NOBODY, GORDON.pin], [NOBODY, WRONG_PIN], [NOBODY, WRONG_PIN]]);
      const wrong = await call(b, '+19165550116', 'login', [[DANA.id, WRONG_PIN], [DANA.ssn, WRONG_PIN], [DANA.id, WRONG_PIN]]);
      const lockedOut = await call(a, '+19165550116', 'login', [[GORDON.id, GORDON.pin], [GORDON.ssn, GORDON.pin], [GORDON.id, GORDON.pin]]);
      expect(unknown.answers).to.have.length(3);
      expect(wrong.answers).to.deep.equal(unknown.answers);
      expect(lockedOut.answers).to.deep.equal(unknown.answers);
      expect(unknown.caller.heard).to.include('We could not verify your identity on this call.');
    });
  });

  describe('ID + SSN failures per participant', () => {
    beforeEach(() => startFleet());

    it('six by card payment (main menu 2) lock ID + SSN for that participant, not the PIN; forgot my PIN is refused alike; it lifts 24 hours after the last failure', async () => {
      await fail([a, b], '+19165550121', 'pay', 6, () => [DEVIN.id, WRONG_SSN]);
      expect(await locked('ssn', DEVIN)).to.equal(true);
      expect(await locked('pin', DEVIN)).to.equal(false);
      const sixth = fleet.now.getTime();
      fleet.advance(HOUR);

      const rightPay = await call(b, '+19165550122', 'pay', [[DEVIN.id, DEVIN.ssn]]);
      const wrongPay = await call(a, '+19165550123', 'pay', [[DANA.id, WRONG_SSN]]);
      expect(rightPay.answers[0]).to.equal(wrongPay.answers[0]);
      expect(rightPay.caller.heard).to.include(MISMATCH_SSN);
      expect(rightPay.caller.twiml).not.to.include('<Pay');
      const rightForgot = await call(a, '+19165550124', 'forgot', [[DEVIN.id, DEVIN.ssn]]);
      expect(rightForgot.caller.heard).to.include(MISMATCH_SSN);
      expect(rightForgot.caller.heard).not.to.include('will be mailed');
      // The PIN is another method: it still works.
      expect((await call(b, '+19165550125', 'login', [[DEVIN.id, DEVIN.pin]])).caller.heard).to.include('Account menu.');

      // The refused tries an hour after the sixth failure were failures too: the lock lifts a day after them.
      fleet.now = new Date(sixth + DAY + 1_000);
      expect(await locked('ssn', DEVIN)).to.equal(true);
      fleet.now = new Date(sixth + HOUR + DAY + 1_000);
      expect(await locked('ssn', DEVIN)).to.equal(false);
      const paying = await call(a, '+19165550121', 'pay', [[DEVIN.id, DEVIN.ssn]]);
      expect(paying.caller.heard).to.include('is due this month');
    });

    it('six by forgot my PIN lock ID + SSN the same way, card payment included, and no new PIN is mailed', async () => {
      await fail([b, a], '+19165550126', 'forgot', 6, () => [KEVIN.id, WRONG_SSN]);
      expect(await locked('ssn', KEVIN)).to.equal(true);
      const forgot = await call(a, '+19165550127', 'forgot', [[KEVIN.id, KEVIN.ssn]]);
      expect(forgot.caller.heard).to.include(MISMATCH_SSN);
      const pay = await call(b, '+19165550127', 'pay', [[KEVIN.id, KEVIN.ssn]]);
      expect(pay.caller.heard).to.include(MISMATCH_SSN);
      expect(await a.caseload.letters()).to.deep.equal([]);
      fleet.advance(DAY + 1_000);
      expect((await call(b, '+19165550126', 'forgot', [[KEVIN.id, KEVIN.ssn]])).caller.heard).to.include('will be mailed');
    });

    it('an unknown ID, a wrong SSN and a locked participant get byte-identical TwiML, by payment and by forgot my PIN', async () => {
      await fail([a, b], '+19165550128', 'pay', 6, () => [TERRENCE.id, WRONG_SSN]);
      for (const route of ['pay', 'forgot'] as const) {
        const unknown = await call(a, '+19165550129', route, [[NOBODY, TERRENCE.ssn], [NOBODY, WRONG_SSN], [NOBODY, DANA.ssn]]);
        const wrong = await call(b, '+19165550129', route, [[DANA.id, WRONG_SSN], [DANA.id, TERRENCE.ssn], [DANA.id, '000000000']]);
        const lockedOut = await call(a, '+19165550129', route, [[TERRENCE.id, TERRENCE.ssn], [TERRENCE.id, TERRENCE.ssn], [TERRENCE.id, WRONG_SSN]]);
        expect(unknown.answers, route).to.have.length(3);
        expect(wrong.answers, route).to.deep.equal(unknown.answers);
        expect(lockedOut.answers, route).to.deep.equal(unknown.answers);
      }
    });
  });

  describe('per calling number', () => {
    beforeEach(() => startFleet());

    it('twenty failures an hour from one number, any participant and method: not asked to identify again that hour; other numbers unaffected; an hour later it may', async () => {
      const from = '+19165550131';
      const who = (i: number): [string, string] => [[DANA.id, KEVIN.ssn, NOBODY][i % 3]!, WRONG_PIN];
      const answers = [
        ...(await fail([a, b], from, 'login', 10, who)),
        ...(await fail([b, a], from, 'pay', 9, (i) => [[DEVIN.id, NOBODY][i % 2]!, WRONG_SSN])),
      ];
      expect(answers).to.have.length(19);
      expect(answers.every((twiml) => !said(twiml).includes('not available'))).to.equal(true);
      const twentieth = await call(a, from, 'forgot', [[GORDON.id, WRONG_SSN]]);
      expect(twentieth.caller.heard).to.include(UNAVAILABLE);
      expect(twentieth.caller.heard).not.to.include(MISMATCH_SSN);

      for (const [line, route] of [[a, 'login'], [b, 'pay'], [a, 'forgot']] as const) {
        const caller = new Caller(line.app, undefined, { from });
        await caller.toMainMenu();
        for (const key of KEYS[route]) await caller.press(key);
        expect(caller.heard, route).to.include(UNAVAILABLE);
        expect(caller.heard, route).to.include('A representative can help you: press 0.');
        expect(caller.heard, route).to.include('Main menu.');
        expect(caller.heard, route).not.to.match(ASKED_FOR_ID);
        // The other menus still answer.
        await caller.press('5');
        expect(caller.heard).to.include('Monday through Friday');
      }
      expect(securityEvents('identification-throttled').length).to.be.greaterThan(0);
      expect(securityEvents('identification-throttled').every((e) => e.scope === 'number')).to.equal(true);

      expect((await call(b, '+19165550132', 'login', [[DANA.id, DANA.pin]])).caller.heard).to.include('Account menu.');

      fleet.advance(HOUR - 1_000);
      expect((await call(a, from, 'login', [[DANA.id, DANA.pin]])).caller.heard).to.include(UNAVAILABLE);
      fleet.advance(2_000);
      expect((await call(b, from, 'login', [[DANA.id, DANA.pin]])).caller.heard).to.include('Account menu.');
    });

    it('withheld and anonymous numbers share one budget, five times larger', async () => {
      expect(DEFAULT_IDENTIFICATION_POLICY.perWithheld).to.equal(5 * DEFAULT_IDENTIFICATION_POLICY.perNumber);
      // Twilio's spellings of a withheld number: the words, the words on a keypad, nothing at all.
      const withheld = ['anonymous', '+266696687', '', 'Restricted'];
      const budget = DEFAULT_IDENTIFICATION_POLICY.perWithheld;
      const answers: string[] = [];
      for (let done = 0, i = 0; done < budget - 1; i++) {
        const count = Math.min(3, budget - 1 - done);
        answers.push(...(await fail([[a, b][i % 2]!], withheld[i % withheld.length]!, 'login', count, () => [NOBODY, WRONG_PIN])));
        done += count;
      }
      expect(answers).to.have.length(budget - 1);
      expect(answers.every((twiml) => said(twiml).includes('could not verify'))).to.equal(true);
      const last = await call(b, 'anonymous', 'login', [[NOBODY, WRONG_PIN]]);
      expect(last.caller.heard).to.include(UNAVAILABLE);
      for (const from of withheld) {
        expect((await call(a, from, 'login', [[DANA.id, DANA.pin]])).caller.heard, `From "${from}"`).to.include(UNAVAILABLE);
      }
      expect(securityEvents('identification-throttled').every((e) => e.scope === 'withheld')).to.equal(true);
      // A number that shows itself has its own budget.
      expect((await call(b, '+19165550141', 'login', [[DANA.id, DANA.pin]])).caller.heard).to.include('Account menu.');
      fleet.advance(HOUR + 1_000);
      expect((await call(a, '', 'login', [[DANA.id, DANA.pin]])).caller.heard).to.include('Account menu.');
    });
  });

  describe('the line-wide alarm', () => {
    beforeEach(() => startFleet({ IDENTIFICATION_ALARM_PER_MINUTE: '4' }));

    it('logs one security event when a minute\'s failures across the line reach the threshold, and one in the next minute', async () => {
      // Failures from several numbers on both instances: only the line's count sees them all.
      const numbers = ['+19165550151', '+19165550152', '+19165550153', '+19165550154', '+19165550155', '+19165550156'];
      for (const [i, from] of numbers.entries()) await call([a, b][i % 2]!, from, 'login', [[NOBODY, WRONG_PIN]]);
      expect(securityEvents('identification-alarm').map((e) => e.failuresThisMinute)).to.deep.equal([4]);
      fleet.advance(60_000);
      for (const [i, from] of numbers.entries()) await call([b, a][i % 2]!, from, 'pay', [[NOBODY, WRONG_SSN]]);
      expect(securityEvents('identification-alarm').map((e) => e.failuresThisMinute)).to.deep.equal([4, 4]);
      expect(securityEvents('identification-failed')).to.have.length(12);
    });
  });

  describe('the same store work whatever the failure', () => {
    let watch: { stop(): void } | null = null;
    beforeEach(() => startFleet());
    afterEach(() => watch?.stop());

    /**
     * The commands one caller's entries of an ID and a second factor send to Redis under the
     * test's prefix, by name (and, for a script, which script and how many keys): what a caller
     * timing the line could tell apart. Commands a script runs inside Redis are left out: they
     * cost microseconds, far below what a phone call can measure.
     */
    async function storeWork(route: Route, id: string, secret: string): Promise<string[]> {
      const caller = new Caller(a.app, undefined, { from: '+19165550161' });
      await caller.toMainMenu();
      for (const key of KEYS[route]) await caller.press(key);
      // Warm: every script loaded, the dummy hash made, the connection open.
      await caller.press(NOBODY);
      await caller.press(route === 'login' ? WRONG_PIN : WRONG_SSN);
      await caller.press('1');
      const seen: string[] = [];
      watch = await watchCommands(await fleet.redis(), (args, source) => {
        if (source === 'lua' || !args.some((arg) => arg.includes(fleet.prefix))) return;
        const [name = '', sha = '', keys = ''] = args;
        seen.push(/^evalsha$/i.test(name) ? `evalsha ${sha} ${keys}` : name.toLowerCase());
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await caller.press(id);
      await caller.press(secret);
      await new Promise((resolve) => setTimeout(resolve, 100));
      watch.stop();
      watch = null;
      expect(caller.heard).to.include(route === 'login' ? MISMATCH_PIN : MISMATCH_SSN);
      return seen;
    }

    it('an existing ID with a wrong SSN and an unknown ID send the same commands, by payment and by forgot my PIN', async () => {
      for (const route of ['pay', 'forgot'] as const) {
        const known = await storeWork(route, DANA.id, WRONG_SSN);
        const unknown = await storeWork(route, NOBODY, WRONG_SSN);
        expect(known.length, route).to.be.greaterThan(4);
        expect(unknown, route).to.deep.equal(known);
      }
    });

    it('an existing ID with a wrong PIN and an unknown ID send the same commands', async () => {
      const known = await storeWork('login', DANA.id, WRONG_PIN);
      const unknown = await storeWork('login', NOBODY, WRONG_PIN);
      expect(known.length).to.be.greaterThan(4);
      expect(unknown).to.deep.equal(known);
    });
  });
});
