// The browser phone (/console) as staff use it, in headless Chromium: a call placed with the
// page's buttons, what the line says in the transcript, the caller's state lit on the menu map,
// the line's clock set for office hours, and a call script played; then who may open it.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { CARD_ENTRY_REFUSED } from '../src/console/console-call.ts';
import { CLOCK_REFUSED, SCRIPT_PAYMENT_REFUSED } from '../src/console/console-routes.ts';
import { SettableClock, pacificWallTime } from '../src/console/settable-clock.ts';
import { jsonLogger } from '../src/log.ts';
import { createLine, type Line } from '../src/server.ts';
import { MemoryStore } from '../src/store/index.ts';
import { listenLocally } from '../scripts/listen-locally.ts';
import { TestBrowser, type WatchedPage } from './support/browser.ts';
import { testRedisUrl } from './support/redis.ts';

const PUBLIC_URL = 'https://ivr.example.test';
const TOKEN = 'console-token-for-tests-4f1c9a';

type Running = { line: Line; base: string; logs: string[]; close(): Promise<void> };

/** A line on a loopback port; its public URL is not that address, as behind a proxy. */
async function startLine(env: Record<string, string>, clock: SettableClock | (() => Date)): Promise<Running> {
  const logs: string[] = [];
  const line = await createLine({ config: loadConfig({ PUBLIC_URL, ...env }), clock, store: new MemoryStore(), logger: jsonLogger((entry) => logs.push(entry)) });
  const { baseUrl, close } = await listenLocally(line);
  return { line, base: baseUrl, logs, close };
}

/** What a production line needs to start, with or without the console token. */
async function productionEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    NODE_ENV: 'production',
    REDIS_URL: await testRedisUrl(),
    TWILIO_AUTH_TOKEN: 'production-auth-token-0d9e',
    SSN_HASH_KEY: 'production-ssn-hash-key-for-tests',
    PIN_LETTER_KEY: 'production-pin-letter-key-for-tests-0123456789',
    AGENT_NUMBER: '+19165550199',
    METRICS_TOKEN: 'metrics-token-for-tests-7a2b',
    ...extra,
  };
}

const TUESDAY_MORNING = new Date('2026-11-24T10:00:00-08:00');

describe('the browser phone (/console)', function () {
  this.timeout(60_000);

  describe('in a browser, on a development line with a settable clock', () => {
    let browser: TestBrowser;
    let running: Running;
    let watched: WatchedPage;
    let page: Page;

    before(async () => {
      [running, browser] = await Promise.all([startLine({ NODE_ENV: 'development' }, new SettableClock()), TestBrowser.launch()]);
      watched = await browser.newPage();
      page = watched.page;
      await page.goto(`${running.base}/console`);
    });
    after(async () => {
      await browser?.close();
      await running?.close();
    });

    const transcript = () => page.getByRole('log', { name: 'Transcript' });
    const button = (name: string) => page.getByRole('button', { name, exact: true });
    const heard = (text: string) => transcript().getByText(text).last().waitFor();
    async function lit(state: string): Promise<void> {
      await page.locator(`#map-frame g[id="state-${state}"].current`).waitFor();
      expect(await page.locator('#map-frame g.current').count(), 'one state lit at a time').to.equal(1);
      expect(await page.getByRole('status').filter({ hasText: 'Where the caller is' }).textContent()).to.include(state);
    }
    async function setClock(at: string, shown: RegExp): Promise<void> {
      await page.getByLabel("Set the line's clock (Pacific time)").fill(at);
      await button('Set clock').click();
      await page.locator('#clock-now', { hasText: shown }).waitFor();
    }

    it('opens with its controls named and labelled, and the menu map drawn', async () => {
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Customer Connect: browser phone');
      for (const key of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) expect(await button(key).count(), key).to.equal(1);
      for (const name of ['Call', 'Hang up', 'Silence', 'Say', 'Set clock', 'Real time', 'Run script', 'Run pasted script']) expect(await button(name).count(), name).to.equal(1);
      for (const label of ['What the caller says', "Set the line's clock (Pacific time)", 'Shipped script', 'Or paste a script (YAML)']) {
        expect(await page.getByLabel(label).count(), label).to.equal(1);
      }
      expect(await page.locator('#map-frame svg g[id^="state-"]').count()).to.be.above(30);
      expect(await button('1').isDisabled(), 'no keys before a call').to.equal(true);
    });

    it('calls after hours: the greeting, 1, 5 for office hours, "representative" said, hang up', async () => {
      await setClock('2026-11-28T10:00', /^Sat, Nov 28, 2026, 10:0\d AM PST \(set here\)$/);
      expect(await page.locator('#office').textContent()).to.include('not available');

      await button('Call').click();
      await heard('Thank you for calling California Child Support Customer Connect.');
      await lit('language');
      await button('1').click();
      await heard('Main menu.');
      await lit('mainMenu');
      await button('5').click();
      await heard('Representatives are available Monday through Friday, from 7:00 AM to 8:00 PM Pacific time');
      await lit('hours');

      // Focus goes through the phone in the order it is laid out: the keypad row by row, then Silence and speech.
      await button('Hang up').focus();
      const order: string[] = [];
      for (let i = 0; i < 15; i++) {
        await page.keyboard.press('Tab');
        order.push(await page.evaluate(() => {
          const focused = document.activeElement as HTMLElement | null;
          return focused?.dataset.key ?? (focused instanceof HTMLInputElement ? `#${focused.id}` : focused?.textContent?.trim() ?? '');
        }));
      }
      expect(order).to.deep.equal(['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#', 'Silence', '#speech', 'Say']);

      await page.getByLabel('What the caller says').fill('representative');
      await button('Say').click();
      await heard('say "representative"');
      await page.getByRole('status').filter({ hasText: 'The line is waiting for a key' }).waitFor();
      await button('Hang up').click();
      await heard('call ended: the caller hung up');
      await page.getByRole('status').filter({ hasText: 'The call has ended' }).waitFor();

      const lines = await transcript().locator('p').allTextContents();
      const said = (text: string) => lines.findIndex((line) => line.includes(text));
      expect(lines[0]).to.match(/^Twilio: calling \+18669013212 from \+19165550143/);
      expect(lines).to.include('Line (English): Thank you for calling California Child Support Customer Connect.');
      expect(lines).to.include('Line (Spanish): Para español, oprima 2.');
      expect(said('Caller: press 1')).to.be.below(said('Line (English): Main menu.'));
      expect(said('Caller: press 5')).to.be.below(said('Caller: say "representative"'));
      expect(said('Caller: say "representative"')).to.be.below(said('Caller: (hangs up)'));
      expect(lines.some((line) => line.includes('transferring')), 'no transfer on a Saturday').to.equal(false);
      // After hours the line answers "representative" with the hours, not a transfer.
      expect(lines.slice(said('Caller: say "representative"')).join('\n')).to.include('Representatives are available Monday through Friday');
      expect(await button('Call').isEnabled()).to.equal(true);
      expect(await button('1').isDisabled()).to.equal(true);
    });

    it('in office hours, 0 transfers to a representative; a PIN entry goes as one entry at #', async () => {
      await setClock('2026-11-24T10:00', /^Tue, Nov 24, 2026, 10:0\d AM PST \(set here\)$/);
      expect(await page.locator('#office').textContent()).to.include('Representatives are available');

      await button('Call').click();
      await heard('A new call');
      await lit('language');
      await button('1').click();
      await lit('mainMenu');
      await button('1').click();
      await lit('login.enterId');
      for (const key of '4821930576') await button(key).click();
      await page.getByRole('status').filter({ hasText: 'Keys typed so far: 4821930576' }).waitFor();
      await button('#').click();
      await heard('Now enter your PIN, then press pound.');
      await lit('login.enterPin');
      // * cancels an entry, but at an entry Twilio sends keys at # or a pause, as it does here: Silence is the pause.
      await button('*').click();
      await page.getByRole('status').filter({ hasText: 'Keys typed so far: *' }).waitFor();
      await button('Silence').click();
      await heard('Main menu.');
      await lit('mainMenu');
      await button('0').click();
      await heard('Please stay on the line while we connect you with a representative.');
      await heard('[transferring to +19165550100]');
      await page.getByRole('status').filter({ hasText: 'The call has ended' }).waitFor();
      expect(await page.getByRole('status').filter({ hasText: 'Where the caller is' }).textContent()).to.include('when the call ended');
      const lines = await transcript().locator('p').allTextContents();
      expect(lines).to.include('Caller: press 4821930576#');
    });

    it('runs a shipped call script and shows it pass, then a pasted one that fails', async () => {
      await page.getByLabel('Shipped script').selectOption('en-office-hours.yaml');
      await button('Run script').click();
      const results = page.getByRole('log', { name: 'Script results' });
      await results.getByText('PASS English caller hears office hours').waitFor();
      const lines = await results.locator('p').allTextContents();
      expect(lines.filter((line) => line.startsWith('✓ step'))).to.have.length.above(3);
      expect(lines.some((line) => line.startsWith('✗'))).to.equal(false);
      // The script's at: is borrowed: the clock is back where staff set it.
      await page.locator('#clock-now', { hasText: /^Tue, Nov 24, 2026, 10:0\d AM PST/ }).waitFor();

      await page.getByLabel('Or paste a script (YAML)').fill('name: never said\nsteps:\n  - press: "1"\n  - expect: words the line never says\n');
      await button('Run pasted script').click();
      await results.getByText('FAIL never said').waitFor();
      expect(await results.locator('p').allTextContents()).to.include('✗ step 2: the line did not say what was expected');
    });

    it('shows no page errors and no console errors', () => {
      expect(watched.pageErrors, 'page errors').to.deep.equal([]);
      expect(watched.consoleErrors, 'console errors').to.deep.equal([]);
    });

    it('never writes what the caller typed to a log line', async () => {
      const body = '{"keys": "4821930576735194"';
      const res = await request(running.base).post('/console/api/calls/x/keys').set('Content-Type', 'application/json').send(body);
      expect(res.status).to.equal(400);
      expect(res.body).to.deep.equal({ error: 'The request is not valid JSON.' });
      expect(running.logs.filter((line) => /4821930576|735194/.test(line))).to.deep.equal([]);
      expect(running.logs.some((line) => line.includes('browser phone call'))).to.equal(true);
    });
  });

  describe('who may open it', () => {
    it('takes CONSOLE_TOKEN of 16 characters or more, without spaces', () => {
      expect(loadConfig({ NODE_ENV: 'development' }).consoleToken).to.equal(null);
      expect(loadConfig({ CONSOLE_TOKEN: TOKEN }).consoleToken).to.equal(TOKEN);
      expect(() => loadConfig({ CONSOLE_TOKEN: 'too-short' })).to.throw(ConfigError, /CONSOLE_TOKEN must be at least 16 characters/);
      expect(() => loadConfig({ CONSOLE_TOKEN: 'sixteen chars and a space' })).to.throw(ConfigError, /without spaces/);
    });

    it('answers 404 on a production line without CONSOLE_TOKEN', async () => {
      const running = await startLine(await productionEnv(), () => TUESDAY_MORNING);
      try {
        for (const path of ['/console', '/console/', '/console/console.js', '/console/api/clock', '/console?token=anything']) {
          expect((await request(running.base).get(path)).status, path).to.equal(404);
        }
        expect((await request(running.base).post('/console/api/calls').set('Content-Type', 'application/json').send('{}')).status).to.equal(404);
      } finally {
        await running.close();
      }
    });

    describe('on a production line with CONSOLE_TOKEN', () => {
      let running: Running;
      before(async () => {
        running = await startLine(await productionEnv({ CONSOLE_TOKEN: TOKEN }), () => TUESDAY_MORNING);
      });
      after(() => running?.close());

      it('asks for the token, and takes it as a bearer token or once in the address for a cookie', async () => {
        const agent = request(running.base);
        const without = await agent.get('/console');
        expect(without.status).to.equal(401);
        expect(without.text).to.include('CONSOLE_TOKEN');
        expect((await agent.get('/console/api/clock')).status).to.equal(401);
        expect((await agent.get('/console/api/clock').set('Authorization', 'Bearer not-the-token-at-all')).status).to.equal(401);
        expect((await agent.get('/console?token=not-the-token-at-all')).status).to.equal(401);
        expect((await agent.get('/console/api/clock').set('Authorization', `Bearer ${TOKEN}`)).status).to.equal(200);

        const exchanged = await agent.get(`/console?token=${TOKEN}`);
        expect(exchanged.status).to.equal(303);
        expect(exchanged.headers.location).to.equal('console');
        const cookie = String(exchanged.headers['set-cookie']?.[0]);
        expect(cookie).to.match(/^console_session=[\w-]+; Path=\/console; Max-Age=\d+; HttpOnly; SameSite=Strict/);
        expect(cookie, 'the cookie does not carry the token itself').not.to.include(TOKEN);
        const session = cookie.split(';')[0] ?? '';
        const pageRes = await agent.get('/console').set('Cookie', session);
        expect(pageRes.status).to.equal(200);
        expect(pageRes.text).to.include('This is the <strong>production</strong> line');
        expect(pageRes.headers['content-security-policy']).to.include("script-src 'self'");
        expect((await agent.get('/console/api/scripts').set('Cookie', session)).status).to.equal(200);
        expect((await agent.get('/console/api/scripts').set('Cookie', 'console_session=forged')).status).to.equal(401);
      });

      it('refuses to set a clock that is the real one', async () => {
        const res = await request(running.base).put('/console/api/clock').set('Authorization', `Bearer ${TOKEN}`).send({ at: '2026-11-28T10:00' });
        expect(res.status).to.equal(409);
        expect(res.body.error).to.equal(CLOCK_REFUSED);
        expect(res.body.clock.settable).to.equal(false);
      });

      it('enters no card details, by hand or in a script', async () => {
        const api = (path: string, body: object = {}) => request(running.base).post(`/console/api/${path}`).set('Authorization', `Bearer ${TOKEN}`).send(body);
        const script = await api('scripts/run', { file: 'en-pay-main-menu-past-due.yaml' });
        expect(script.status).to.equal(409);
        expect(script.body.error).to.equal(SCRIPT_PAYMENT_REFUSED);

        const call = await api('calls');
        expect(call.status).to.equal(201);
        const id = String(call.body.id);
        for (const keys of ['1', '2', '1586049327#', '987654328#', '50000#', '1']) {
          expect((await api(`calls/${id}/keys`, { keys })).status, keys).to.equal(200);
        }
        const card = await api(`calls/${id}/keys`, { keys: '4' });
        expect(card.status).to.equal(409);
        expect(card.body.error).to.equal(CARD_ENTRY_REFUSED);
        expect(card.body.status.waiting).to.match(/^Twilio <Pay> asks for the card number/);
        expect((await api(`calls/${id}/keys`, { keys: '*' })).status, '* leaves the payment').to.equal(200);
        expect((await api(`calls/${id}/hangup`)).body.status.ended).to.equal(true);
        expect(running.logs.filter((line) => /1586049327|987654328/.test(line))).to.deep.equal([]);
      });
    });
  });

  describe('the settable clock', () => {
    it('reads a Pacific wall-clock time as the instant it names, and none for a time the clocks skip', () => {
      expect(pacificWallTime('2026-11-24T10:00')?.toISOString()).to.equal('2026-11-24T18:00:00.000Z');
      expect(pacificWallTime('2026-07-04T09:30')?.toISOString()).to.equal('2026-07-04T16:30:00.000Z');
      expect(pacificWallTime('2026-03-08T02:30'), 'skipped when the clocks go forward').to.equal(null);
      expect(pacificWallTime('2026-02-30T10:00')).to.equal(null);
      expect(pacificWallTime('tomorrow')).to.equal(null);
    });

    it('runs on from the time set, lends itself to a script and comes back', async () => {
      let real = Date.parse('2026-12-01T12:00:00Z');
      const clock = new SettableClock(() => real);
      clock.set(TUESDAY_MORNING);
      real += 60_000;
      expect(clock.now().toISOString()).to.equal('2026-11-24T18:01:00.000Z');
      const during = await clock.borrow(new Date('2026-11-28T18:00:00Z'), async () => clock.now().toISOString());
      expect(during).to.equal('2026-11-28T18:00:00.000Z');
      expect(clock.now().toISOString()).to.equal('2026-11-24T18:01:00.000Z');
      clock.set(null);
      expect(clock.isSet).to.equal(false);
      expect(clock.now().getTime()).to.equal(real);
    });
  });
});
