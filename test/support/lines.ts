// Instances of the line on a real Redis, sharing one key prefix (and so one caseload, one set of
// limits) the way a deployment's instances do, with the demo caseload, a clock the test moves and
// the JSON log lines they write.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.ts';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from '../../src/domain/caseload-loader.ts';
import type { CaseloadStore } from '../../src/domain/caseload-store.ts';
import { jsonLogger } from '../../src/log.ts';
import { createLine, type Line } from '../../src/server.ts';
import { RedisCaseloadStore } from '../../src/store/caseload-redis.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { flushPrefix, testRedisClient, testRedisUrl, uniquePrefix } from './redis.ts';
import { AUTH_TOKEN, PUBLIC_URL } from './twilio.ts';

/** One participant of the demo caseload, as a caller knows them. */
export type Person = { id: string; ssn: string; pin: string };
export const DANA: Person = { id: '4821930576', ssn: '987654320', pin: '735194' };
export const TERRENCE: Person = { id: '7719203846', ssn: '987654321', pin: '482615' };
export const KEVIN: Person = { id: '5302184967', ssn: '987654322', pin: '920374' };
export const GORDON: Person = { id: '3675290418', ssn: '987654326', pin: '803152' };
export const ALICIA: Person = { id: '9041736285', ssn: '987654327', pin: '369021' };
export const DEVIN: Person = { id: '1586049327', ssn: '987654328', pin: '548217' };
/** A participant ID the demo caseload does not have. */
export const NOBODY = '1234567890';

/** The line's settings in tests: signed with the test token at PUBLIC_URL, a cheap bcrypt, a payment spool of its own; `env` on top. */
export async function testLineConfig(env: Record<string, string> = {}): Promise<Config> {
  const spool = join(await mkdtemp(join(tmpdir(), 'cc-spool-')), 'payments.jsonl');
  return loadConfig({ PUBLIC_URL, TWILIO_AUTH_TOKEN: AUTH_TOKEN, BCRYPT_COST: '4', PAYMENT_SPOOL_FILE: spool, ...env });
}

/** Loads the demo caseload under `config.redisPrefix` on the Redis at `url`, as `npm run seed` would. */
export async function loadDemoCaseload(url: string, config: Config): Promise<void> {
  const client = await testRedisClient(url);
  try {
    await loadCaseloadFile(DEMO_CASELOAD_PATH, new RedisCaseloadStore(client, config.redisPrefix), config);
  } finally {
    client.disconnect();
  }
}

/** A log line as the line writes it (JSON), parsed. */
export type LogLine = { level: string; msg: string; [field: string]: unknown };

/** Several instances of the line on one prefix, a shared clock (`now`), and everything they logged. */
export class LineFleet {
  now: Date;
  readonly logs: string[] = [];
  readonly lines: Line[] = [];
  readonly prefix = uniquePrefix();
  private admin: Redis | null = null;
  private config: Config | null = null;

  constructor(now: Date, private readonly env: Record<string, string> = {}) {
    this.now = now;
  }

  /** Moves the shared clock on. */
  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  get parsedLogs(): LogLine[] {
    return this.logs.map((line) => JSON.parse(line) as LogLine);
  }

  async redis(): Promise<Redis> {
    this.admin ??= await testRedisClient(await testRedisUrl());
    return this.admin;
  }

  async lineConfig(): Promise<Config> {
    if (!this.config) {
      this.config = await testLineConfig({ AGENT_NUMBER: '+19165550199', REDIS_PREFIX: this.prefix, ...this.env });
      await loadCaseloadFile(DEMO_CASELOAD_PATH, new RedisCaseloadStore(await this.redis(), this.prefix), this.config);
    }
    return this.config;
  }

  /** Another instance of the line on the fleet's prefix (logging at LOG_LEVEL); `caseload` stands in for the one beside the store. */
  async start(options: { caseload?: (store: RedisStore) => CaseloadStore } = {}): Promise<Line> {
    const config = await this.lineConfig();
    const store = RedisStore.connect(await testRedisUrl(), this.prefix);
    const line = await createLine({
      config, store, clock: () => this.now, logger: jsonLogger((text) => this.logs.push(text), 'debug'),
      ...(options.caseload ? { caseload: options.caseload(store) } : {}),
    });
    this.lines.push(line);
    return line;
  }

  async stop(): Promise<void> {
    for (const line of this.lines.splice(0)) {
      await line.close();
      await line.store.close();
    }
    if (this.admin) {
      await flushPrefix(this.admin, this.prefix);
      this.admin.disconnect();
      this.admin = null;
    }
  }
}
