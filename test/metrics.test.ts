// GET /metrics after real calls over HTTP (signed webhooks, a real Redis): the counters move with
// the right labels, no label names a person or a call, the histogram has its buckets, the backlog
// gauges see a spooled payment and a letter waiting, and only the token opens it in production.
import { expect } from 'chai';
import request from 'supertest';
import { loadConfig, type Config } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { WEBHOOK_BUCKETS } from '../src/metrics.ts';
import { createLine, type Line } from '../src/server.ts';
import { RedisStore } from '../src/store/redis.ts';
import { Caller } from './support/caller.ts';
import { LineFleet, loadDemoCaseload, testLineConfig } from './support/lines.ts';
import { startRedisServer, uniquePrefix } from './support/redis.ts';
import { AUTH_TOKEN, PUBLIC_URL, callParams, newCallSid, nextPath, post } from './support/twilio.ts';
import { DEFAULT_FROM } from '../src/simulator/call-params.ts';

const NOW = new Date('2026-11-24T10:00:00-08:00'); // a Tuesday morning
const TOKEN = 'metrics-scrape-token-5be1';
const DEVIN = { id: '1586049327', ssn: '987654328', pin: '548217' }; // pays on 37004512
const TERRENCE = { id: '7719203846', ssn: '987654321', pin: '482615' };
const KEVIN = { id: '5302184967', ssn: '987654322' };

const success = (code: string) => ({ Result: 'success', PaymentConfirmationCode: code, PaymentCardNumber: 'xxxx-xxxx-xxxx-4242', PaymentCardType: 'visa' });

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The exposition's samples (comment lines left out). */
function samples(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) return [];
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    return [{ name: match[1]!, labels, value: Number(match[3]) }];
  });
}

/** The one sample of `name` with exactly these labels. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = samples(text).filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]!.value;
}

async function scrape(line: Line): Promise<string> {
  const res = await request(line.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
  expect(res.status).to.equal(200);
  expect(res.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
  return res.text;
}

describe('metrics (real Redis)', function () {
  this.timeout(30_000);
  let fleet: LineFleet;
  let line: Line;

  beforeEach(async () => {
    fleet = new LineFleet(NOW, { METRICS_TOKEN: TOKEN });
    line = await fleet.start();
  });
  afterEach(() => fleet.stop());

  it('counts webhooks, menus, calls, identification, payments and signatures by their labels, after real calls', async () => {
    const before = await scrape(line);
    expect(value(before, 'ivr_webhooks_total', { route: '/voice/input', outcome: 'applied' })).to.equal(0);
    expect(value(before, 'ivr_calls_total', { outcome: 'gave_up', language: 'es' })).to.equal(0);

    // A wrong PIN, then the right one, the balance, and goodbye.
    const terrence = await new Caller(line.app).login(TERRENCE.id, '999999');
    await terrence.press('1');
    await terrence.press(TERRENCE.id);
    await terrence.press(TERRENCE.pin);
    await terrence.press('1');
    await terrence.hangUp();
    // A card payment, recorded; its URL tried again by another call.
    const devin = await new Caller(line.app).toPay(DEVIN, '10000');
    const payUrl = nextPath(devin.twiml);
    await devin.pay(success('ch_METRICS'));
    await post(line.app, payUrl, callParams(newCallSid(), success('ch_OTHER')));
    await devin.hangUp();
    // Office hours in Spanish, then 0; a Twilio retry of the last post answered again.
    const ana = await new Caller(line.app).toMainMenu('es');
    await ana.press('5');
    const retried = callParams(ana.callSid, { Digits: '0' });
    const path = nextPath(ana.twiml);
    await post(line.app, path, retried, { idempotencyToken: 'retry-1' });
    await post(line.app, path, retried, { idempotencyToken: 'retry-1' });
    await ana.hangUp();
    // Two posts that are not Twilio's.
    await post(line.app, '/voice', callParams(newCallSid()), { signature: null });
    await post(line.app, '/voice', callParams(newCallSid()), { signature: 'not-the-signature' });

    const text = await scrape(line);
    expect(value(text, 'ivr_webhooks_total', { route: '/voice', outcome: 'answered' })).to.equal(3);
    expect(value(text, 'ivr_webhooks_total', { route: '/voice/input', outcome: 'replayed' })).to.equal(1);
    expect(value(text, 'ivr_webhooks_total', { route: '/voice/status', outcome: 'applied' })).to.equal(3);
    expect(value(text, 'ivr_webhooks_total', { route: '/voice/pay', outcome: 'applied' })).to.equal(1);
    expect(value(text, 'ivr_webhooks_total', { route: '/voice/input', outcome: 'failed' })).to.equal(0);
    expect(value(text, 'ivr_calls_total', { outcome: 'self_served', language: 'en' })).to.equal(2);
    expect(value(text, 'ivr_calls_total', { outcome: 'transferred', language: 'es' })).to.equal(1);
    // The post on another call's <Pay> URL records nothing and starts that call at the main menu.
    expect(value(text, 'ivr_webhooks_total', { route: '/voice/pay', outcome: 'resumed' })).to.equal(1);
    expect(value(text, 'ivr_menu_visits_total', { menu: 'main' })).to.equal(4);
    expect(value(text, 'ivr_menu_visits_total', { menu: 'balance' })).to.equal(1);
    expect(value(text, 'ivr_menu_visits_total', { menu: 'hours' })).to.equal(1);
    expect(value(text, 'ivr_identification_failures_total', { method: 'pin', reason: 'mismatch' })).to.equal(1);
    expect(value(text, 'ivr_identification_failures_total', { method: 'ssn', reason: 'mismatch' })).to.equal(0);
    expect(value(text, 'ivr_payments_total', { result: 'recorded' })).to.equal(1);
    expect(value(text, 'ivr_payments_amount_cents_total')).to.equal(10_000);
    expect(value(text, 'ivr_payment_replays_total', { reason: 'other-call' })).to.equal(1);
    expect(value(text, 'ivr_signature_rejections_total', { status: '400' })).to.equal(1);
    expect(value(text, 'ivr_signature_rejections_total', { status: '403' })).to.equal(1);
    expect(value(text, 'ivr_identification_alarms_total')).to.equal(0);
    expect(value(text, 'ivr_identification_throttled_total', { scope: 'number' })).to.equal(0);

    // The histogram: every bucket for every route, and one observation per webhook counted.
    const route = '/voice/input';
    const les = samples(text).filter((s) => s.name === 'ivr_webhook_duration_seconds_bucket' && s.labels.route === route).map((s) => s.labels.le);
    expect(les).to.deep.equal([...WEBHOOK_BUCKETS.map(String), '+Inf']);
    const counted = samples(text).filter((s) => s.name === 'ivr_webhooks_total' && s.labels.route === route).reduce((sum, s) => sum + s.value, 0);
    expect(value(text, 'ivr_webhook_duration_seconds_count', { route })).to.equal(counted);
    expect(value(text, 'ivr_webhook_duration_seconds_bucket', { route, le: '15' })).to.equal(counted);
    // The process's own metrics.
    expect(text).to.match(/^process_cpu_user_seconds_total \d/m);
    expect(text).to.match(/^nodejs_eventloop_lag_seconds \d/m);

    // Nothing in a label looks like an ID, a phone number or a CallSid; no call, person or number appears at all.
    for (const sample of samples(text)) {
      for (const label of Object.values(sample.labels)) expect(label, `${sample.name} ${label}`).not.to.match(/\d{5,}|^\+\d|CA[0-9a-f]{32}/i);
    }
    for (const text_ of [terrence.callSid, devin.callSid, ana.callSid, TERRENCE.id, DEVIN.id, DEFAULT_FROM, '37004512', 'ch_METRICS']) {
      expect(text, text_).not.to.include(text_);
    }
  });

  it('shows a letter waiting in the mail outbox', async () => {
    expect(value(await scrape(line), 'ivr_mail_outbox_pending')).to.equal(0);
    const c = await new Caller(line.app).toMainMenu();
    await c.press('3');
    await c.press('1');
    await c.press(KEVIN.id);
    await c.press(KEVIN.ssn);
    expect(c.heard).to.include('will be mailed');
    expect(value(await scrape(line), 'ivr_mail_outbox_pending')).to.equal(1);
    expect(value(await scrape(line), 'ivr_payment_spool_pending')).to.equal(0);
  });

  it('answers 401 without the token, and with a wrong one', async () => {
    expect((await request(line.app).get('/metrics')).status).to.equal(401);
    const wrong = await request(line.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}x`);
    expect(wrong.status).to.equal(401);
    expect(wrong.headers['www-authenticate']).to.equal('Bearer realm="metrics"');
    expect(wrong.text).not.to.include('ivr_');
    expect((await request(line.app).get('/metrics').set('Authorization', `Basic ${TOKEN}`)).status).to.equal(401);
  });
});

describe('metrics access', function () {
  async function lineWith(config: Config): Promise<Line> {
    return createLine({ config, clock: () => NOW, logger: silentLogger });
  }

  it('in production: only with the token; with no token configured, never', async () => {
    const base = loadConfig({ PUBLIC_URL, TWILIO_AUTH_TOKEN: AUTH_TOKEN });
    const guarded = await lineWith({ ...base, env: 'production', metricsToken: TOKEN });
    const closed = await lineWith({ ...base, env: 'production', metricsToken: null });
    try {
      expect((await request(guarded.app).get('/metrics')).status).to.equal(401);
      expect((await request(guarded.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).status).to.equal(200);
      expect((await request(guarded.app).get('/metrics').set('Authorization', `bearer ${TOKEN}`)).status).to.equal(200);
      expect((await request(closed.app).get('/metrics')).status).to.equal(401);
      expect((await request(closed.app).get('/metrics').set('Authorization', 'Bearer ')).status).to.equal(401);
    } finally {
      await guarded.close();
      await closed.close();
    }
  });

  it('in development with no token: open', async () => {
    const open = await lineWith(loadConfig({ PUBLIC_URL, TWILIO_AUTH_TOKEN: AUTH_TOKEN }));
    try {
      const res = await request(open.app).get('/metrics');
      expect(res.status).to.equal(200);
      expect(res.text).to.include('# TYPE ivr_webhooks_total counter');
    } finally {
      await open.close();
    }
  });
});

describe('metrics when Redis is away', function () {
  this.timeout(30_000);

  it('a spooled payment shows in the spool gauge, and the outbox gauge says NaN without holding up the scrape', async () => {
    const server = await startRedisServer();
    const config = await testLineConfig({ REDIS_PREFIX: uniquePrefix(), METRICS_TOKEN: TOKEN });
    await loadDemoCaseload(server.url, config);
    const line = await createLine({ config, store: RedisStore.connect(server.url, config.redisPrefix), clock: () => NOW, logger: silentLogger });
    try {
      const c = await new Caller(line.app).toPay(DEVIN, '10000');
      expect(value(await scrape(line), 'ivr_payment_spool_pending')).to.equal(0);
      server.stop();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await c.pay(success('ch_SPOOLED'));
      expect(c.heard).to.include('could not confirm it in our records yet');
      const started = Date.now();
      const text = await scrape(line);
      expect(Date.now() - started).to.be.lessThan(1_500);
      expect(value(text, 'ivr_payment_spool_pending')).to.equal(1);
      expect(value(text, 'ivr_mail_outbox_pending')).to.be.NaN;
      expect(value(text, 'ivr_payments_total', { result: 'spooled' })).to.equal(1);
      expect(value(text, 'ivr_webhooks_total', { route: '/voice/pay', outcome: 'failed' })).to.equal(1);
    } finally {
      server.stop();
      await line.close();
      await line.store.close();
    }
  });
});
