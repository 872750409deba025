// What callers did on the line outlives the nightly load (spec section 12, docs/caseload.md), heard
// over HTTP: the line on a real Redis, a caller changes a PIN, pays by card and updates a phone
// number; the unchanged demo caseload is loaded again (as every night) and the next calls still
// hear it; then a file that confirms the payment, which is counted once.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from '../src/domain/caseload-loader.ts';
import type { LoadReport } from '../src/domain/caseload-store.ts';
import type { Line } from '../src/server.ts';
import { Caller } from './support/caller.ts';
import { LineFleet } from './support/lines.ts';
import { callParams, nextPath, post } from './support/twilio.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00');
const DEVIN = { id: '1586049327', ssn: '987654328', pin: '548217' }; // pays on 37004512: $260.00 due this month
const DANA = { id: '4821930576', pin: '735194', phone: '+19165550143' };
const DEVINS_CASE = '37004512';

describe('what callers did on the line outlives a load (HTTP, real Redis)', function () {
  this.timeout(60_000);
  let fleet: LineFleet;
  let line: Line;
  let dir: string;

  beforeEach(async function () {
    fleet = new LineFleet(NOW);
    line = await fleet.start();
    dir = await mkdtemp(join(tmpdir(), 'line-keeps-'));
  });

  afterEach(async function () {
    await fleet.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The nightly load, as `npm run seed` does it. */
  const load = (path = DEMO_CASELOAD_PATH): Promise<LoadReport> => loadCaseloadFile(path, line.caseload, line.config);

  async function pay(dollars: string, code: string): Promise<void> {
    const caller = await new Caller(line.app).toPay(DEVIN, dollars.replace('.', ''));
    expect(caller.twiml).to.include('<Pay ');
    const paid = await post(line.app, nextPath(caller.twiml), callParams(caller.callSid, {
      Result: 'success', PaymentConfirmationCode: code, PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', PaymentCardType: 'visa', ExpirationDate: '0931',
      PaymentCardPostalCode: '95814', SecurityCode: 'xxx', PaymentMethod: 'credit-card', PaymentError: '', PayErrorCode: '0',
    }));
    expect(paid.text).to.include('was approved');
  }

  /** Devin's balance on his case and his card payments in the history, as a new call hears them. */
  async function devinHears(): Promise<{ balance: string; history: string }> {
    const caller = await new Caller(line.app).login(DEVIN.id, DEVIN.pin);
    await caller.press('1');
    const balance = caller.heard;
    await caller.press('*');
    await caller.press('2');
    return { balance, history: caller.heard };
  }

  it('a PIN changed by phone still opens the account after the unchanged file is loaded again; the old one does not', async function () {
    const caller = new Caller(line.app);
    await caller.toMainMenu();
    for (const keys of ['3', '2', DEVIN.id, DEVIN.pin, '314159', '314159']) await caller.press(keys);
    expect(caller.heard).to.include('Your PIN has been changed.');

    expect(await load()).to.include({ pinsRetired: 0 });

    const old = await new Caller(line.app).login(DEVIN.id, DEVIN.pin);
    expect(old.heard).to.include('We could not verify that participant ID and PIN.');
    const fresh = await new Caller(line.app).login(DEVIN.id, '314159');
    expect(fresh.heard).to.include('Account menu.');
  });

  it('a card payment stays in the balance and the history after the unchanged file, and counts once when a file confirms it', async function () {
    await pay('50.00', 'ch_KEEPME');
    expect(await load()).to.include({ paymentsConfirmed: 0 });

    const kept = await devinHears();
    expect(kept.balance).to.include('Due this month, $210.00.');
    expect(kept.history.match(/\$50\.00 from a card payment/g)).to.have.length(1);

    // The agency's file now lists it, with its code, on that case, and has applied it to the balance.
    const demo = JSON.parse(await readFile(DEMO_CASELOAD_PATH, 'utf8')) as { version: number; cases: Array<{ caseNumber: string; currentMonthDue: string; payments: unknown[] }> };
    demo.version = 2;
    const devins = demo.cases.find((c) => c.caseNumber === DEVINS_CASE)!;
    devins.currentMonthDue = '210.00';
    devins.payments.push({ receivedAt: NOW.toISOString(), amount: '50.00', method: 'card', confirmationCode: 'ch_KEEPME' });
    const confirming = join(dir, 'confirming.json');
    await writeFile(confirming, JSON.stringify(demo));

    expect(await load(confirming)).to.include({ paymentsConfirmed: 1, confirmationMismatches: 0 });

    const confirmed = await devinHears();
    expect(confirmed.balance, 'from the file, not applied twice').to.include('Due this month, $210.00.');
    expect(confirmed.history.match(/\$50\.00 from a card payment/g)).to.have.length(1);
  });

  it('a phone number updated by phone is the one on file after the unchanged file is loaded again', async function () {
    const caller = await new Caller(line.app).login(DANA.id, DANA.pin);
    await caller.press('5');
    await caller.press('1');
    expect(caller.heard).to.include(`ends in ${DANA.phone.slice(-4).split('').join(' ')}`);
    await caller.press('2795550188');
    await caller.press('1');
    expect(caller.heard).to.include('Your phone number has been updated.');

    expect(await load()).to.include({ phonesRetired: 0 });

    const next = await new Caller(line.app).login(DANA.id, DANA.pin);
    await next.press('5');
    await next.press('1');
    expect(next.heard).to.include('ends in 0 1 8 8');
    expect((await line.caseload.participant(DANA.id as never))?.phone).to.equal('+12795550188');
  });
});
