// Configuration (spec section 10): defaults for trying it out, refusals for production, every
// refusal of a start named in one message.
import { expect } from 'chai';
import { ConfigError, DEV_AUTH_TOKEN, DEV_SSN_HASH_KEY, PLACEHOLDER_AGENT_NUMBER, loadConfig } from '../src/config.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://ivr.example.gov',
  REDIS_URL: 'redis://10.0.0.5:6379',
  TWILIO_AUTH_TOKEN: 'a-real-token',
  SSN_HASH_KEY: 'a-real-key',
  PIN_LETTER_KEY: 'a-real-pin-letter-key-of-32-chars-or-more',
  AGENT_NUMBER: '+19165551234',
  METRICS_TOKEN: 'a-real-metrics-token',
};

/** What production cannot start without, each named when it is missing. */
const REQUIRED_IN_PRODUCTION = ['TWILIO_AUTH_TOKEN', 'SSN_HASH_KEY', 'PIN_LETTER_KEY', 'AGENT_NUMBER', 'METRICS_TOKEN'] as const;

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (thrown) {
    expect(thrown).to.be.instanceOf(ConfigError);
    return thrown as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

function refused(env: Record<string, string>, variable: string): ConfigError {
  const error = refusal(env);
  expect(error.message, `${variable} refused`).to.include(variable);
  return error;
}

function without(name: keyof typeof PRODUCTION): Record<string, string> {
  const { [name]: _, ...env } = PRODUCTION;
  return env;
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
    const config = loadConfig(PRODUCTION);
    expect(config.env).to.equal('production');
    expect(config.twilioAuthToken).to.equal('a-real-token');
    expect(config.ssnHashKey).to.equal('a-real-key');
    expect(config.agentNumber).to.equal('+19165551234');
    expect(config.metricsToken).to.equal('a-real-metrics-token');
    expect(config.redis).to.deep.equal({ kind: 'single', url: 'redis://10.0.0.5:6379' });
    expect(config.warnings).to.deep.equal([]);
  });

  for (const name of REQUIRED_IN_PRODUCTION) {
    it(`production without ${name} is refused, naming it alone`, () => {
      expect(refused(without(name), name).problems).to.deep.equal([`${name} is required when NODE_ENV=production`]);
      expect(refused({ ...PRODUCTION, [name]: '' }, name).problems).to.have.length(1);
    });
  }

  it('production without a Redis is refused: the demo caseload is for development only', () => {
    const error = refused(without('REDIS_URL'), 'REDIS_URL');
    expect(error.problems).to.have.length(1);
    expect(error.message).to.include('REDIS_CLUSTER_NODES').and.include('REDIS_SENTINELS').and.include('development only');
  });

  it('production takes a Redis Cluster or Sentinels instead of REDIS_URL', () => {
    expect(loadConfig({ ...without('REDIS_URL'), REDIS_CLUSTER_NODES: '10.0.0.5:6379' }).redis).to.deep.include({ kind: 'cluster' });
    expect(loadConfig({ ...without('REDIS_URL'), REDIS_SENTINELS: '10.0.0.5:26379', REDIS_SENTINEL_NAME: 'cc' }).redis).to.deep.include({ kind: 'sentinel' });
  });

  it('production refuses a PUBLIC_URL that is not https (Twilio <Pay> posts card results only to https), and none at all', () => {
    const plain = refused({ ...PRODUCTION, PUBLIC_URL: 'http://ivr.example.gov' }, 'PUBLIC_URL');
    expect(plain.problems).to.deep.equal(['PUBLIC_URL must be https:// when NODE_ENV=production, got "http://ivr.example.gov"']);
    expect(refused(without('PUBLIC_URL'), 'PUBLIC_URL').problems).to.have.length(1);
  });

  it('production with nothing set names every missing setting in one message', () => {
    const error = refusal({ NODE_ENV: 'production' });
    for (const name of ['PUBLIC_URL', 'REDIS_URL', ...REQUIRED_IN_PRODUCTION]) expect(error.message).to.include(name);
    expect(error.problems).to.have.length(7);
    expect(error.message).to.equal(error.problems.join('; '));
    expect(error.message).not.to.include('\n');
  });

  it('names the invalid values and the missing ones together', () => {
    const error = refusal({ NODE_ENV: 'production', PORT: 'eighty', BCRYPT_COST: '3', AGENT_NUMBER: '9165551234', REDIS_URL: 'cache:6379', PIN_LETTER_KEY: 'short' });
    for (const name of ['PORT', 'BCRYPT_COST', 'AGENT_NUMBER must be E.164', 'REDIS_URL must start with', 'PIN_LETTER_KEY must be at least', 'PUBLIC_URL', 'TWILIO_AUTH_TOKEN', 'SSN_HASH_KEY', 'METRICS_TOKEN']) {
      expect(error.message).to.include(name);
    }
    // A REDIS_URL that is set but wrong is named as wrong, not as missing; a short key as short, not missing.
    expect(error.message).not.to.include('REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS is required');
    expect(error.message).not.to.include('PIN_LETTER_KEY is required');
    expect(error.problems).to.have.length(9);
  });

  it('invalid values are refused in development too, all of them at once', () => {
    const error = refusal({ PORT: '70000', PAYMENT_MAX: 'lots', PAYMENT_FEE_PERCENT: 'two', SESSION_TTL_SECONDS: '5', AUDIT_RETENTION_DAYS: '1' });
    expect(error.problems).to.have.length(5);
    for (const name of ['PORT', 'PAYMENT_MAX', 'PAYMENT_FEE_PERCENT', 'SESSION_TTL_SECONDS', 'AUDIT_RETENTION_DAYS']) expect(error.message).to.include(name);
  });

  it('names every problem with the Redis settings at once', () => {
    const error = refusal({ REDIS_SENTINELS: 'a:6379;b', REDIS_USERNAME: 'line' });
    expect(error.problems).to.have.length(3);
    for (const name of ['REDIS_USERNAME is set but REDIS_PASSWORD is not', 'REDIS_SENTINEL_NAME', 'REDIS_SENTINELS must be host:port']) expect(error.message).to.include(name);
  });

  it('development without the production settings starts, with a warning for each stand-in', () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    expect(config.redis).to.equal(null);
    expect(config.metricsToken).to.equal(null);
    for (const name of ['TWILIO_AUTH_TOKEN', 'SSN_HASH_KEY', 'PIN_LETTER_KEY', 'AGENT_NUMBER']) {
      expect(config.warnings.filter((warning) => warning.startsWith(name)), name).to.have.length(1);
    }
    expect(loadConfig({ PUBLIC_URL: 'http://ivr.example.gov' }).publicUrl).to.equal('http://ivr.example.gov');
  });

  it('PAYMENT_REPLICA_WAIT_MS: 500 by default, 0 (no waiting) up to 1000 (under the Redis command timeout)', () => {
    expect(loadConfig({}).paymentReplicaWaitMs).to.equal(500);
    expect(loadConfig({ PAYMENT_REPLICA_WAIT_MS: '0' }).paymentReplicaWaitMs).to.equal(0);
    expect(loadConfig({ PAYMENT_REPLICA_WAIT_MS: '1000' }).paymentReplicaWaitMs).to.equal(1000);
    refused({ PAYMENT_REPLICA_WAIT_MS: '1001' }, 'PAYMENT_REPLICA_WAIT_MS');
    refused({ PAYMENT_REPLICA_WAIT_MS: '0.5' }, 'PAYMENT_REPLICA_WAIT_MS');
  });

  it('production without PIN_LETTER_KEY is refused, and a short one anywhere', () => {
    refused(without('PIN_LETTER_KEY'), 'PIN_LETTER_KEY');
    refused({ PIN_LETTER_KEY: 'short' }, 'PIN_LETTER_KEY');
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
