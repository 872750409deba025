// The webhook contract over HTTP, with real signatures and a real Redis behind the line.
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import sinon from 'sinon';
import twilio from 'twilio';
import type { Redis } from 'ioredis';
import { loadConfig } from '../src/config.ts';
import { MACHINE_VERSION } from '../src/engine/engine.ts';
import { createLine, type Line } from '../src/server.ts';
import { RedisStore } from '../src/store/redis.ts';
import { requireTwilioSignature } from '../src/telephony/signature.ts';
import { recordingLogger, type LoggedLine } from './support/recording-logger.ts';
import { flushPrefix, startRedisServer, testRedisClient, testRedisUrl, uniquePrefix, watchCommands } from './support/redis.ts';
import { AUTH_TOKEN, PUBLIC_URL, callParams, newCallSid, nextPath, noInputPath, post, saidIn } from './support/twilio.ts';

const OPEN = new Date('2026-11-24T10:00:00-08:00'); // a Tuesday morning
const CLOSED = new Date('2026-11-24T21:00:00-08:00'); // the same day, after 8 PM

describe('Twilio signature check', () => {
  // Twilio's published test vector (twilio-node spec/validation.spec.js).
  const vectorApp = express();
  vectorApp.use(express.urlencoded({ extended: false }), requireTwilioSignature('12345', 'https://mycompany.com'));
  vectorApp.post('/myapp.php', (_req, res) => {
    res.send('ok');
  });
  const vector = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };

  it("accepts Twilio's published test vector", async () => {
    const res = await request(vectorApp).post('/myapp.php?foo=1&bar=2').type('form').set('X-Twilio-Signature', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=').send(vector);
    expect(res.status).to.equal(200);
  });

  it('accepts the second published vector and refuses the first signature for it', async () => {
    const second = { ...vector, Caller: '+12349013030', From: '+12349013030' };
    const good = await request(vectorApp).post('/myapp.php?foo=1&bar=2').type('form').set('X-Twilio-Signature', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=').send(second);
    expect(good.status).to.equal(200);
    const bad = await request(vectorApp).post('/myapp.php?foo=1&bar=2').type('form').set('X-Twilio-Signature', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=').send(second);
    expect(bad.status).to.equal(403);
  });

  it('computes one HMAC for a good signature over a URL with a port, and accepts either form of a default port', async () => {
    const app = express();
    app.use(express.urlencoded({ extended: false }), requireTwilioSignature('12345', 'https://mycompany.com:8443'));
    app.post('/myapp.php', (_req, res) => {
      res.send('ok');
    });
    const hmac = sinon.spy(twilio, 'getExpectedTwilioSignature');
    try {
      const signature = twilio.getExpectedTwilioSignature('12345', 'https://mycompany.com:8443/myapp.php', vector);
      hmac.resetHistory();
      expect((await request(app).post('/myapp.php').type('form').set('X-Twilio-Signature', signature).send(vector)).status).to.equal(200);
      expect(hmac.callCount).to.equal(1);
    } finally {
      hmac.restore();
    }
    const defaultPort = express();
    defaultPort.use(express.urlencoded({ extended: false }), requireTwilioSignature('12345', 'https://mycompany.com'));
    defaultPort.post('/myapp.php', (_req, res) => {
      res.send('ok');
    });
    for (const signedUrl of ['https://mycompany.com/myapp.php', 'https://mycompany.com:443/myapp.php']) {
      const signature = twilio.getExpectedTwilioSignature('12345', signedUrl, vector);
      expect((await request(defaultPort).post('/myapp.php').type('form').set('X-Twilio-Signature', signature).send(vector)).status, signedUrl).to.equal(200);
    }
  });

  it('refuses the vector when the query string differs (the URL is signed)', async () => {
    const res = await request(vectorApp).post('/myapp.php?foo=1&bar=3').type('form').set('X-Twilio-Signature', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=').send(vector);
    expect(res.status).to.equal(403);
  });
});

describe('webhooks (real Redis)', function () {
  let redis: Redis;
  let prefix: string;
  let line: Line;
  let now: Date;
  let logs: LoggedLine[];

  before(async () => {
    redis = await testRedisClient(await testRedisUrl());
  });
  after(async () => {
    redis.disconnect();
  });

  beforeEach(async () => {
    prefix = uniquePrefix();
    now = OPEN;
    const logger = recordingLogger();
    logs = logger.lines;
    const config = loadConfig({ PUBLIC_URL, TWILIO_AUTH_TOKEN: AUTH_TOKEN, AGENT_NUMBER: '+19165550199' });
    const store = RedisStore.connect(await testRedisUrl(), prefix);
    line = await createLine({ config, store, clock: () => now, logger });
  });
  afterEach(async () => {
    await line.store.close();
    await flushPrefix(redis, prefix);
  });

  const answer = (callSid: string, options = {}) => post(line.app, '/voice', callParams(callSid, { CallStatus: 'ringing' }), options);
  const press = (path: string, callSid: string, digits: string, options = {}) => post(line.app, path, callParams(callSid, { Digits: digits, FinishedOnKey: '', msg: 'Gather End' }), options);

  describe('signatures on the line', () => {
    it('answers 400 without X-Twilio-Signature', async () => {
      const res = await answer(newCallSid(), { signature: null });
      expect(res.status).to.equal(400);
    });
    it('answers 403 for a signature made with another token', async () => {
      const res = await answer(newCallSid(), { token: 'not-the-token' });
      expect(res.status).to.equal(403);
    });
    it('answers 403 for a signature over another URL (http instead of https)', async () => {
      const res = await answer(newCallSid(), { publicUrl: 'http://ivr.example.test' });
      expect(res.status).to.equal(403);
    });
    it('answers 403 when a parameter was changed after signing', async () => {
      const callSid = newCallSid();
      const first = await answer(callSid);
      const params = callParams(callSid, { Digits: '4' });
      const path = nextPath(first.text);
      const signed = await post(line.app, path, params);
      expect(signed.status).to.equal(200);
      const twilio = (await import('twilio')).default;
      const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, PUBLIC_URL + path, params);
      const tampered = await post(line.app, path, { ...params, Digits: '5' }, { signature });
      expect(tampered.status).to.equal(403);
    });
    it('checks status callbacks too', async () => {
      const res = await post(line.app, '/voice/status', callParams(newCallSid(), { CallStatus: 'completed' }), { signature: 'bogus' });
      expect(res.status).to.equal(403);
    });
    it('refuses a body over 64 KB with 413, and reads form encoding as Twilio writes it (+ and %XX)', async () => {
      const huge = await request(line.app).post('/voice').type('form').set('X-Twilio-Signature', 'x').send({ CallSid: newCallSid(), Padding: 'x'.repeat(70 * 1024) });
      expect(huge.status).to.equal(413);
      // The signature is over the decoded values: a wrong decoding would be refused with 403.
      const callSid = newCallSid();
      const menu = await press(nextPath((await answer(callSid)).text), callSid, '1');
      const speech = await post(line.app, nextPath(menu.text), callParams(callSid, { SpeechResult: 'office hours & más + 100%', Confidence: '0.9' }));
      expect(speech.status).to.equal(200);
    });
    it('logs every rejection at warn with the path and the reason, never the parameters or the caller\'s number', async () => {
      await answer(newCallSid(), { signature: null });
      await answer(newCallSid(), { publicUrl: 'http://ivr.example.test' });
      const rejected = logs.filter((l) => l.msg === 'security' && l.fields.event === 'signature-rejected');
      expect(rejected.map((l) => l.fields)).to.deep.equal([
        { event: 'signature-rejected', status: 400, path: '/voice', reason: 'missing' },
        { event: 'signature-rejected', status: 403, path: '/voice', reason: 'mismatch' },
      ]);
      expect(JSON.stringify(rejected)).not.to.include('9165550143');
    });
  });

  describe('a call', () => {
    it('greets, offers both languages, and never ends a reply with a bare <Gather>', async () => {
      const res = await answer(newCallSid());
      expect(res.status).to.equal(200);
      expect(res.text).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Gather /);
      expect(saidIn(res.text)).to.include('Thank you for calling California Child Support Customer Connect.');
      expect(res.text).to.include('<Say voice="Polly.Lupe-Neural" language="es-US">Para español, oprima 2.</Say>');
      expect(res.text).to.match(/<\/Gather><Redirect method="POST">https:\/\/ivr\.example\.test\/voice\/no-input\?turn=1&amp;lang=en<\/Redirect><\/Response>$/);
    });

    it('walks to the check mailing address in Spanish, with Spanish voice and language attributes', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '2');
      expect(saidIn(res.text)).to.include('Menú principal');
      res = await press(nextPath(res.text), callSid, '4');
      res = await press(nextPath(res.text), callSid, '1');
      expect(saidIn(res.text)).to.include('P.O. Box 9 8 9 0 6 7, West Sacramento');
      expect(res.text).not.to.include('language="en-US"');
      expect(res.text).to.include('lang=es');
    });

    it('silence at the language menu means English', async () => {
      const callSid = newCallSid();
      const first = await answer(callSid);
      const res = await post(line.app, noInputPath(first.text), callParams(callSid));
      expect(saidIn(res.text)).to.include('Main menu.');
      expect(res.text).to.include('language="en-US"');
    });

    it('0 transfers in office hours with <Dial> to AGENT_NUMBER, and returns to the menu when nobody answers', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      res = await press(nextPath(res.text), callSid, '0');
      expect(res.text).to.match(/<Dial action="https:\/\/ivr\.example\.test\/voice\/dial-ended\?turn=3&amp;lang=en" method="POST" timeout="30">\+19165550199<\/Dial>/);
      const dialPath = nextPath(res.text);
      res = await post(line.app, dialPath, callParams(callSid, { DialCallStatus: 'no-answer', DialCallSid: newCallSid() }));
      expect(saidIn(res.text)).to.include('We could not reach a representative');
      expect(saidIn(res.text)).to.include('Main menu.');
    });

    it('0 outside office hours says the hours and stays at the menu', async () => {
      now = CLOSED;
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      res = await press(nextPath(res.text), callSid, '0');
      expect(res.text).not.to.include('<Dial');
      expect(saidIn(res.text)).to.include('Representatives are available Monday through Friday, from 7:00 AM to 8:00 PM Pacific time');
      expect(saidIn(res.text)).to.include('Main menu.');
    });

    it('three silences outside office hours: hours, goodbye, <Hangup/>', async () => {
      now = CLOSED;
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      for (let i = 0; i < 3; i++) res = await post(line.app, noInputPath(res.text), callParams(callSid));
      expect(saidIn(res.text)).to.include("We're having trouble understanding your choice");
      expect(saidIn(res.text)).not.to.include('something went wrong');
      expect(saidIn(res.text)).to.include('Goodbye');
      expect(res.text).to.match(/<Hangup\/><\/Response>$/);
    });
  });

  describe('retries and concurrency', () => {
    it('a retry with the same I-Twilio-Idempotency-Token gets the same TwiML and is applied once', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      const path = nextPath(res.text);
      const first = await press(path, callSid, '7', { idempotencyToken: 'retry-token-1' });
      const retry = await press(path, callSid, '7', { idempotencyToken: 'retry-token-1' });
      expect(retry.text).to.equal(first.text);
      expect(saidIn(first.text)).to.include("isn't one of the choices");
      // Applied once: the next wrong key is the second strike, not the third.
      const second = await press(nextPath(first.text), callSid, '7');
      expect(saidIn(second.text)).to.include('still');
      expect(second.text).not.to.include('<Dial');
      const session = await line.store.getSession(callSid);
      expect(session?.turn).to.equal(4);
    });

    it('a repeated post for an old turn (no token remembered) replays the last reply', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      const path = nextPath(res.text);
      const first = await press(path, callSid, '5');
      const again = await press(path, callSid, '5');
      expect(again.text).to.equal(first.text);
      expect((await line.store.getSession(callSid))?.turn).to.equal(3);
    });

    it('two concurrent webhooks of one call do not interleave: one applies, the other replays', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      const path = nextPath(res.text);
      const [a, b] = await Promise.all([press(path, callSid, '7'), press(path, callSid, '7')]);
      expect(a.text).to.equal(b.text);
      const session = await line.store.getSession(callSid);
      expect(session?.turn).to.equal(3);
      const outcomes = logs.filter((l) => l.msg === 'webhook' && l.fields.turn === 2).map((l) => l.fields.outcome).sort();
      expect(outcomes).to.deep.equal(['applied', 'stale']);
    });

    it('two concurrent different keys: exactly one is applied', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      const path = nextPath(res.text);
      const [a, b] = await Promise.all([press(path, callSid, '4'), press(path, callSid, '5')]);
      expect(a.text).to.equal(b.text);
      expect((await line.store.getSession(callSid))?.turn).to.equal(3);
    });
  });

  describe('sessions', () => {
    it('an action URL with no session behind it starts cleanly at the main menu, in the URL language', async () => {
      const callSid = newCallSid();
      const res = await press('/voice/input?turn=7&lang=es', callSid, '3');
      expect(res.status).to.equal(200);
      expect(saidIn(res.text)).to.include('Menú principal');
      expect(saidIn(res.text)).not.to.include('Perdón');
      expect(res.text).to.include('turn=1&amp;lang=es');
    });

    it('a snapshot saved by another version of the menus is not restored', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      const session = await line.store.getSession(callSid);
      expect(session?.machineVersion).to.equal(MACHINE_VERSION);
      await line.store.saveSession(callSid, { ...session!, machineVersion: 'older' }, 60);
      res = await press(nextPath(res.text), callSid, '4');
      expect(saidIn(res.text)).to.include('Main menu.');
    });

    it('a saved snapshot is live (not stopped), so the next webhook can move it on', async () => {
      const callSid = newCallSid();
      await answer(callSid);
      const session = await line.store.getSession(callSid);
      expect((session?.snapshot as { status: string }).status).to.equal('active');
    });

    it('three wrong keys in office hours transfer to a representative', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      for (let i = 0; i < 3; i++) res = await press(nextPath(res.text), callSid, '8');
      expect(saidIn(res.text)).to.include("We're having trouble understanding your choice");
      expect(res.text).to.include('<Dial action=');
    });

    it('sessions are saved with a TTL under the prefix, in the call hash tag', async () => {
      const callSid = newCallSid();
      await answer(callSid);
      const key = `${prefix}call:{${callSid}}:session`;
      const ttl = await redis.ttl(key);
      expect(ttl).to.be.greaterThan(3600);
    });

    it('the final status callback removes the session and records the call, once', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      await press(nextPath(res.text), callSid, '5');
      const status = await post(line.app, '/voice/status', callParams(callSid, { CallStatus: 'completed', CallDuration: '37' }));
      expect(status.status).to.equal(200);
      expect(status.text).to.include('<Response/>');
      expect(await line.store.getSession(callSid)).to.equal(null);
      // Twilio repeating the callback records nothing more.
      await post(line.app, '/voice/status', callParams(callSid, { CallStatus: 'completed', CallDuration: '37' }));
      const records = [];
      for await (const record of line.store.callRecords(new Date(now.getTime() - 60_000), new Date(now.getTime() + 60_000))) records.push(record);
      expect(records).to.deep.equal([{
        callSid, startedAt: now.toISOString(), endedAt: now.toISOString(), durationSeconds: 37, language: 'en', menus: ['language', 'main', 'hours'],
        outcome: 'self_served', transferReason: null, identification: 'none', identificationFailures: 0, payment: 'none', twilioStatus: 'completed',
      }]);
    });

    it('the final status callback leaves nothing of the call behind (no session, no retry replies, no lock)', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '2');
      res = await press(nextPath(res.text), callSid, '4');
      await press(nextPath(res.text), callSid, '1');
      expect(await redis.keys(`${prefix}call:{${callSid}}:*`)).to.have.length.greaterThan(0);
      await post(line.app, '/voice/status', callParams(callSid, { CallStatus: 'completed', CallDuration: '52' }));
      expect(await redis.keys(`${prefix}call:{${callSid}}:*`)).to.deep.equal([]);
    });

    it('keeps retry replies for minutes, not for the session\'s hours', async () => {
      const callSid = newCallSid();
      await answer(callSid);
      const ttl = await redis.ttl(`${prefix}call:{${callSid}}:replies`);
      expect(ttl).to.be.within(1, 300);
    });

    it('a menu webhook costs two Redis round trips: take the lock and read, then save and release (counted with MONITOR)', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1'); // scripts loaded, connection warm
      const seen: string[][] = [];
      // Commands a script runs show up too, from the source "lua"; only the client's own count. A
      // turn slower than a third of the lock's lease (a loaded machine) also renews the lease: a
      // one-key script on the lock, not part of the turn's two round trips.
      const renewal = (args: string[]) => args[2] === '1' && (args[3] ?? '').endsWith(':lock');
      const watch = await watchCommands(redis, (args, source) => {
        if (source !== 'lua' && args.some((arg) => arg.includes(callSid)) && !renewal(args)) seen.push(args);
      });
      try {
        await new Promise((resolve) => setTimeout(resolve, 50));
        res = await press(nextPath(res.text), callSid, '4');
        res = await press(nextPath(res.text), callSid, '3');
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        watch.stop();
      }
      expect(saidIn(res.text)).to.include('credited');
      expect(seen.map((args) => args[0]?.toLowerCase())).to.deep.equal(['evalsha', 'evalsha', 'evalsha', 'evalsha']);
    });

    it('a non-final status callback keeps the session', async () => {
      const callSid = newCallSid();
      await answer(callSid);
      await post(line.app, '/voice/status', callParams(callSid, { CallStatus: 'ringing' }));
      expect(await line.store.getSession(callSid)).not.to.equal(null);
    });
  });

  describe('logs', () => {
    it('one structured line per webhook, with the call, state, event, duration and outcome and nothing the caller typed', async () => {
      const callSid = newCallSid();
      let res = await answer(callSid);
      res = await press(nextPath(res.text), callSid, '1');
      await press(nextPath(res.text), callSid, '4');
      const lines = logs.filter((l) => l.msg === 'webhook');
      expect(lines).to.have.length(3);
      for (const l of lines) {
        expect(Object.keys(l.fields).sort()).to.deep.equal(['call', 'event', 'ms', 'outcome', 'path', 'state', 'turn']);
        expect(JSON.stringify(l)).not.to.match(/Digits/);
      }
      expect(lines[2]?.fields).to.include({ call: callSid, event: 'digits', state: 'paymentInfo.menu', outcome: 'applied' });
    });
  });

  it('a webhook that fails past the engine still gets HTTP 200 and the apology in TwiML, and one error line', async () => {
    const take = sinon.stub(line.engine, 'take').rejects(new Error('the engine fell over for 4821930576'));
    try {
      const res = await answer(newCallSid());
      expect(res.status).to.equal(200);
      expect(saidIn(res.text)).to.include("something went wrong on our side. Please stay on the line while we connect you with a representative.");
      expect(res.text).to.include('<Dial');
      const failed = logs.filter((l) => l.msg === 'request failed');
      expect(failed.map((l) => l.fields.path)).to.deep.equal(['/voice']);
      expect(JSON.stringify(failed)).not.to.include('4821930576');
    } finally {
      take.restore();
    }
  });

  it('GET /healthz and /readyz answer', async () => {
    expect((await request(line.app).get('/healthz')).status).to.equal(200);
    const ready = await request(line.app).get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({ ok: true, store: 'redis' });
  });
});

async function untilRefused(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (!open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on ${port} did not stop`);
}

describe('webhooks when Redis goes away mid-call', function () {
  this.timeout(30_000);

  for (const [label, at, expectDial] of [['in office hours', OPEN, true], ['outside office hours', CLOSED, false]] as const) {
    it(`answers 200 with an apology ${expectDial ? 'and a transfer' : 'and a goodbye'} ${label}, and /readyz says 503`, async () => {
      const server = await startRedisServer();
      const config = loadConfig({ PUBLIC_URL, TWILIO_AUTH_TOKEN: AUTH_TOKEN });
      const logger = recordingLogger();
      const store = RedisStore.connect(server.url, uniquePrefix());
      const line = await createLine({ config, store, clock: () => at, logger });
      try {
        const callSid = newCallSid();
        let res = await post(line.app, '/voice', callParams(callSid));
        res = await post(line.app, nextPath(res.text), callParams(callSid, { Digits: '1' }));
        expect(saidIn(res.text)).to.include('Main menu.');
        server.stop();
        await untilRefused(server.port);
        const started = Date.now();
        res = await post(line.app, nextPath(res.text), callParams(callSid, { Digits: '4' }));
        expect(Date.now() - started).to.be.lessThan(5000);
        expect(res.status).to.equal(200);
        expect(saidIn(res.text)).to.include('something went wrong on our side');
        if (expectDial) expect(res.text).to.include('<Dial');
        else expect(res.text).to.match(/<Hangup\/><\/Response>$/);
        expect(res.text).not.to.match(/Error|stack|at .*\.ts/);
        expect(logger.lines.some((l) => l.msg === 'webhook failed')).to.equal(true);
        const ready = await request(line.app).get('/readyz');
        expect(ready.status).to.equal(503);
      } finally {
        server.stop();
        await store.close();
      }
    });
  }
});
