// Configuration (spec section 10): defaults for trying it out, refusals for production.
import { expect } from 'chai';
import { ConfigError, DEV_AUTH_TOKEN, DEV_SSN_HASH_KEY, PLACEHOLDER_AGENT_NUMBER, loadConfig } from '../src/config.ts';

const PRODUCTION = { NODE_ENV: 'production', TWILIO_AUTH_TOKEN: 'a-real-token', SSN_HASH_KEY: 'a-real-key', PIN_LETTER_KEY: 'a-real-pin-letter-key-of-32-chars-or-more', PUBLIC_URL: 'https://ivr.example.gov' };

function refused(env: Record<string, string>, variable: string): void {
  let error: unknown;
  try {
    loadConfig(env);
  } catch (thrown) {
    error = thrown;
  }
  expect(error, `${variable} refused`).to.be.instanceOf(ConfigError);
  expect((error as Error).message).to.include(variable);
}

describe('config', () => {
  it('defaults, for trying it out', () => {
    const config = loadConfig({});
    expect(config.env).to.equal('development');
    expect(config.port).to.equal(3000);
    expect(config.publicUrl).to.equal('http://localhost:3000');
    expect(config.redis).to.equal(null);
    expect(config.bcryptCost).to.equal(10);
    expect(config.paymentConnector).to.equal('Default');
    expect(config.twilioAuthToken).to.equal(DEV_AUTH_TOKEN);
    expect(config.ssnHashKey).to.equal(DEV_SSN_HASH_KEY);
    expect(config.agentNumber).to.equal(PLACEHOLDER_AGENT_NUMBER);
  });

  it('warns about the development token and the placeholder agent number', () => {
    const { warnings } = loadConfig({});
    expect(warnings.some((warning) => warning.includes('TWILIO_AUTH_TOKEN'))).to.equal(true);
    expect(warnings.some((warning) => warning.includes('AGENT_NUMBER') && warning.includes(PLACEHOLDER_AGENT_NUMBER))).to.equal(true);
  });

  it('does not warn about what is set', () => {
    const config = loadConfig({ TWILIO_AUTH_TOKEN: 'token', AGENT_NUMBER: '+19165551234', SSN_HASH_KEY: 'key', PIN_LETTER_KEY: 'a-pin-letter-key-of-32-characters-long' });
    expect(config.warnings).to.deep.equal([]);
    expect(config.twilioAuthToken).to.equal('token');
    expect(config.agentNumber).to.equal('+19165551234');
  });

  it('the default public URL follows PORT', () => {
    expect(loadConfig({ PORT: '8080' }).publicUrl).to.equal('http://localhost:8080');
  });

  it('takes what is set', () => {
    const config = loadConfig({ PORT: '4000', BCRYPT_COST: '12', PAYMENT_CONNECTOR: 'Stripe_Connector', REDIS_URL: 'rediss://cache.example.gov:6380' });
    expect(config.port).to.equal(4000);
    expect(config.bcryptCost).to.equal(12);
    expect(config.paymentConnector).to.equal('Stripe_Connector');
    expect(config.redis).to.deep.equal({ kind: 'single', url: 'rediss://cache.example.gov:6380' });
  });

  it('strips trailing slashes from PUBLIC_URL (signatures are checked against PUBLIC_URL + path)', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://ivr.example.gov/' }).publicUrl).to.equal('https://ivr.example.gov');
    expect(loadConfig({ PUBLIC_URL: 'https://ivr.example.gov/line//' }).publicUrl).to.equal('https://ivr.example.gov/line');
  });

  it('production with everything set starts, without development warnings', () => {
    const config = loadConfig({ ...PRODUCTION, AGENT_NUMBER: '+19165551234' });
    expect(config.env).to.equal('production');
    expect(config.twilioAuthToken).to.equal('a-real-token');
    expect(config.ssnHashKey).to.equal('a-real-key');
    expect(config.warnings).to.deep.equal([]);
  });

  it('production without TWILIO_AUTH_TOKEN is refused', () => {
    const { TWILIO_AUTH_TOKEN: _, ...env } = PRODUCTION;
    refused(env, 'TWILIO_AUTH_TOKEN');
    refused({ ...env, TWILIO_AUTH_TOKEN: '' }, 'TWILIO_AUTH_TOKEN');
  });

  it('production without PIN_LETTER_KEY is refused, and a short one anywhere', () => {
    const { PIN_LETTER_KEY: _, ...env } = PRODUCTION;
    refused(env, 'PIN_LETTER_KEY');
    refused({ PIN_LETTER_KEY: 'short' }, 'PIN_LETTER_KEY');
  });

  it('production without SSN_HASH_KEY is refused', () => {
    const { SSN_HASH_KEY: _, ...env } = PRODUCTION;
    refused(env, 'SSN_HASH_KEY');
    refused({ ...env, SSN_HASH_KEY: '' }, 'SSN_HASH_KEY');
  });

  for (const value of ['abc', '-1', '3000.5', '70000', ' 80']) {
    it(`PORT=${JSON.stringify(value)} is refused`, () => refused({ PORT: value }, 'PORT'));
  }

  for (const value of ['ten', '3', '16', '10.5']) {
    it(`BCRYPT_COST=${JSON.stringify(value)} is refused`, () => refused({ BCRYPT_COST: value }, 'BCRYPT_COST'));
  }

  for (const value of ['9165551234', '+0123456789', '+1 916 555 1234', 'tel:+19165551234', '+1']) {
    it(`AGENT_NUMBER=${JSON.stringify(value)} is refused`, () => refused({ AGENT_NUMBER: value }, 'AGENT_NUMBER'));
  }

  for (const value of ['localhost:6379', 'http://cache:6379', 'cache.example.gov']) {
    it(`REDIS_URL=${JSON.stringify(value)} is refused`, () => refused({ REDIS_URL: value }, 'REDIS_URL'));
  }

  describe('Redis topologies', () => {
    it('a Redis Cluster from its nodes', () => {
      expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.5:6379, redis-2.example.gov:6380,[fd00::7]:7000' }).redis).to.deep.equal({
        kind: 'cluster',
        nodes: [{ host: '10.0.0.5', port: 6379 }, { host: 'redis-2.example.gov', port: 6380 }, { host: 'fd00::7', port: 7000 }],
        auth: null,
      });
    });

    it('a Sentinel-managed primary from the Sentinels and its name', () => {
      expect(loadConfig({ REDIS_SENTINELS: '10.0.0.5:26379,10.0.0.6:26379', REDIS_SENTINEL_NAME: 'cc-primary' }).redis).to.deep.equal({
        kind: 'sentinel',
        sentinels: [{ host: '10.0.0.5', port: 26379 }, { host: '10.0.0.6', port: 26379 }],
        name: 'cc-primary',
        auth: null,
      });
    });

    it('credentials for Cluster nodes or a Sentinel-managed primary', () => {
      const cluster = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.5:6379', REDIS_PASSWORD: 'pw' }).redis;
      expect(cluster).to.deep.include({ auth: { username: null, password: 'pw' } });
      const sentinel = loadConfig({ REDIS_SENTINELS: '10.0.0.5:26379', REDIS_SENTINEL_NAME: 'cc', REDIS_USERNAME: 'line', REDIS_PASSWORD: 'pw' }).redis;
      expect(sentinel).to.deep.include({ auth: { username: 'line', password: 'pw' } });
    });

    it('refuses more than one topology, naming them', () => {
      refused({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:6379' }, 'not REDIS_URL and REDIS_CLUSTER_NODES');
      refused({ REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 'b:26379', REDIS_SENTINEL_NAME: 'cc' }, 'not REDIS_URL and REDIS_SENTINELS');
      refused({ REDIS_CLUSTER_NODES: 'a:6379', REDIS_SENTINELS: 'b:26379', REDIS_SENTINEL_NAME: 'cc' }, 'not REDIS_CLUSTER_NODES and REDIS_SENTINELS');
    });

    it('refuses Sentinels without a name, and a name without Sentinels', () => {
      refused({ REDIS_SENTINELS: 'a:26379' }, 'REDIS_SENTINEL_NAME');
      refused({ REDIS_SENTINEL_NAME: 'cc' }, 'REDIS_SENTINELS');
      refused({ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'two words' }, 'REDIS_SENTINEL_NAME');
    });

    it('refuses a password beside REDIS_URL (the URL carries it), and a user without a password', () => {
      refused({ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'pw' }, 'REDIS_PASSWORD');
      refused({ REDIS_CLUSTER_NODES: 'a:6379', REDIS_USERNAME: 'line' }, 'REDIS_USERNAME');
    });

    for (const value of ['a', 'a:', ':6379', 'a:0', 'a:65536', 'a:6379,', 'a:6379;b:6379', 'redis://a:6379', 'fd00::7:7000']) {
      it(`REDIS_CLUSTER_NODES=${JSON.stringify(value)} is refused`, () => refused({ REDIS_CLUSTER_NODES: value }, 'REDIS_CLUSTER_NODES'));
      it(`REDIS_SENTINELS=${JSON.stringify(value)} is refused`, () => refused({ REDIS_SENTINELS: value, REDIS_SENTINEL_NAME: 'cc' }, 'REDIS_SENTINELS'));
    }
  });

  it('PUBLIC_URL that is not http(s) is refused', () => {
    refused({ PUBLIC_URL: 'ivr.example.gov' }, 'PUBLIC_URL');
  });

  it('reads METRICS_TOKEN, CALL_RECORD_DAYS and LOG_LEVEL, with their defaults', () => {
    const defaults = loadConfig({});
    expect(defaults.metricsToken).to.equal(null);
    expect(defaults.callRecordDays).to.equal(90);
    expect(defaults.logLevel).to.equal('info');
    const set = loadConfig({ METRICS_TOKEN: 'scrape-token-of-some-length', CALL_RECORD_DAYS: '30', LOG_LEVEL: 'debug' });
    expect(set).to.include({ metricsToken: 'scrape-token-of-some-length', callRecordDays: 30, logLevel: 'debug' });
    refused({ CALL_RECORD_DAYS: '0' }, 'CALL_RECORD_DAYS');
    refused({ CALL_RECORD_DAYS: 'ninety' }, 'CALL_RECORD_DAYS');
    refused({ LOG_LEVEL: 'trace' }, 'LOG_LEVEL');
  });
});
