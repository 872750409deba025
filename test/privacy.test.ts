// Callers' secrets stay secret, callers hear only their own cases, and lockouts hold across
// calls and instances: over HTTP, against a real Redis, with the demo caseload.
import { expect } from 'chai';
import { decryptForLetter } from '../src/domain/pin.ts';
import { sealedPinOf } from '../src/domain/outbox.ts';
import { Caller } from './support/caller.ts';
import { LineFleet } from './support/lines.ts';
import { watchCommands } from './support/redis.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00');
const DANA = { id: '4821930576', ssn: '987654320', pin: '735194' };
const TERRENCE = { id: '7719203846', ssn: '987654321', pin: '482615' };
const KEVIN = { id: '5302184967', ssn: '987654322', pin: '920374' };

describe('privacy and isolation (real Redis)', function () {
  this.timeout(60_000);
  let fleet: LineFleet;
  let watch: { stop(): void };
  let commands: string[];

  beforeEach(async () => {
    // Debug lines too: nothing personal is logged at any level (spec section 11).
    fleet = new LineFleet(NOW, { LOG_LEVEL: 'debug' });
    commands = [];
    await fleet.lineConfig();
    // Every command any client sends to Redis from here on, with its arguments.
    watch = await watchCommands(await fleet.redis(), (args) => commands.push(args.join(' ')));
  });

  afterEach(async () => {
    watch.stop();
    await fleet.stop();
  });

  /** Everything the line wrote down or told Twilio, to search for secrets. */
  function trail(callers: Caller[]): string {
    return [...fleet.logs, ...commands, ...callers.flatMap((c) => c.urls)].join('\n');
  }

  it('logging in, failing to log in, resetting and changing a PIN leave no SSN or PIN in logs, Redis or URLs', async () => {
    const line = await fleet.start();
    const callers: Caller[] = [];
    const call = () => {
      const caller = new Caller(line.app);
      callers.push(caller);
      return caller;
    };

    // Log in by SSN, then by participant ID; fail once with a wrong PIN.
    let c = await call().login(DANA.ssn, DANA.pin);
    expect(c.heard).to.include('Account menu.');
    await c.press('1');
    c = await call().login(DANA.id, '111999');
    expect(c.heard).to.include('We could not verify that participant ID and PIN.');
    await c.press('1');
    await c.press(DANA.ssn);
    await c.press(DANA.pin);
    expect(c.heard).to.include('Account menu.');

    // Forgot PIN for Kevin: the new PIN exists only encrypted in the outbox.
    c = await call().toMainMenu();
    await c.press('3');
    await c.press('1');
    await c.press(KEVIN.id);
    await c.press(KEVIN.ssn);
    expect(c.heard).to.include('will be mailed');
    const letters = await line.caseload.letters();
    expect(letters).to.have.length(1);
    const mailedPin = decryptForLetter(sealedPinOf(letters[0]!)!, line.config.pinLetterKey);
    expect(mailedPin).to.match(/^\d{6}$/);
    expect(c.heard).not.to.include(mailedPin);
    expect(JSON.stringify(letters)).not.to.include(mailedPin);

    // Kevin logs in with the mailed PIN and changes it.
    c = await call().toMainMenu();
    await c.press('3');
    await c.press('2');
    await c.press(KEVIN.id);
    await c.press(mailedPin);
    expect(c.heard).to.include('new PIN');
    const chosen = '582946';
    await c.press(chosen);
    await c.press(chosen);
    expect(c.heard).to.include('Your PIN has been changed');
    c = await call().login(KEVIN.id, chosen);
    expect(c.heard).to.include('Account menu.');

    for (const caller of callers) await caller.hangUp();
    const everything = trail(callers);
    expect(commands.length).to.be.greaterThan(50);
    for (const secret of [DANA.ssn, DANA.pin, '111999', KEVIN.ssn, mailedPin, chosen]) {
      expect(everything, `secret ${secret}`).not.to.include(secret);
    }
    // Sessions written during those calls hold no secret either (they are in `commands`, checked
    // above); and no URL carries a participant ID.
    for (const url of callers.flatMap((x) => x.urls)) expect(url).not.to.match(/\d{9,}/);
  });

  it('a logged-in caller hears only their own cases, whatever keys they press', async () => {
    const line = await fleet.start();
    // Terrence receives on 300000123456, where Dana pays. Dana also receives on 300000234561
    // (Kevin pays); Kevin pays on 190000045678 too. Terrence is party to none of those.
    const others = ['300000234561', '190000045678', '100000567890', '190000678901', '37004512'];
    const spaced = (n: string) => n.split('').join(' ');
    const forbidden = [...others.map(spaced), ...others.map((n) => `ending in ${spaced(n.slice(-4))}`), 'Dana', 'Kevin', 'Whitfield', 'Ashby'];

    const c = await new Caller(line.app).login(TERRENCE.id, TERRENCE.pin);
    for (const key of ['1', '9', '*', '2', '1', '1', '9', '*', '3', '9', '*']) await c.press(key);
    expect(c.everything.join(' ')).to.include('ending in 3 4 5 6');
    // Then a long random walk through every key the line accepts.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const keys = ['1', '2', '3', '4', '5', '9', '*', '#', '6', '7', '8'];
    for (let i = 0; i < 150; i++) {
      if (/<Hangup\/>|<Dial/.test(c.twiml)) break;
      const key = keys[Math.floor(random() * keys.length)]!;
      if (c.twiml.includes('finishOnKey="#"')) await c.press('*');
      else await c.press(key);
    }
    const heard = c.everything.join('\n');
    for (const text of forbidden) expect(heard, text).not.to.include(text);
  });

  it('two parents of one case each hear the case, in their own role', async () => {
    const line = await fleet.start();
    const dana = await new Caller(line.app).login(DANA.id, DANA.pin);
    await dana.press('1');
    expect(dana.heard).to.include('For the case ending in 3 4 5 6, where you pay support');
    const terrence = await new Caller(line.app).login(TERRENCE.id, TERRENCE.pin);
    await terrence.press('1');
    expect(terrence.heard).to.include('For the case ending in 3 4 5 6, where you receive support');
    expect(terrence.heard).not.to.include('4 5 6 1');
  });

  it('six failed PIN tries across calls and across two instances lock PIN login, silently, until a reset', async () => {
    const first = await fleet.start();
    const second = await fleet.start();
    const instances = [first, second];
    const wrong: string[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await new Caller(instances[i % 2]!.app).login(TERRENCE.id, '999999');
      wrong.push(c.heard);
    }
    expect(new Set(wrong).size, 'the sixth failure sounds like the first').to.equal(1);
    expect(wrong[0]).to.include('We could not verify that participant ID and PIN.');
    // The right PIN is refused now, on either instance, in exactly the words of a wrong one.
    for (const instance of instances) {
      const c = await new Caller(instance.app).login(TERRENCE.id, TERRENCE.pin);
      expect(c.heard).to.equal(wrong[0]);
      expect(c.heard).not.to.include('locked');
    }
    // Forgot PIN lifts the lock, and the current PIN works until the mailed one is first used.
    const reset = await new Caller(first.app).toMainMenu();
    await reset.press('3');
    await reset.press('1');
    await reset.press(TERRENCE.id);
    await reset.press(TERRENCE.ssn);
    expect(reset.heard).to.include('will be mailed');
    expect((await new Caller(second.app).login(TERRENCE.id, TERRENCE.pin)).heard).to.include('Account menu.');
    const [letter] = await second.caseload.letters();
    const pin = decryptForLetter(sealedPinOf(letter!)!, second.config.pinLetterKey);
    const after = await new Caller(second.app).login(TERRENCE.id, pin);
    expect(after.heard).to.include('Account menu.');
    // From its first use, only the mailed PIN works.
    expect((await new Caller(first.app).login(TERRENCE.id, TERRENCE.pin)).heard).to.equal(wrong[0]);
    // And a second reset within 24 hours is refused with the date of the first.
    const again = await new Caller(second.app).toMainMenu();
    await again.press('3');
    await again.press('1');
    await again.press(TERRENCE.id);
    await again.press(TERRENCE.ssn);
    expect(again.heard).to.include('already mailed on Tuesday, November 24, 2026');
    expect(await second.caseload.letters()).to.have.length(1);
  });

  it('an unknown participant ID hears the same message as a wrong PIN', async () => {
    const line = await fleet.start();
    const unknown = await new Caller(line.app).login('1234567890', '735194');
    const wrong = await new Caller(line.app).login(DANA.id, '000111');
    expect(unknown.heard).to.equal(wrong.heard);
  });
});
