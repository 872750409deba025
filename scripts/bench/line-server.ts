// The line as `npm run bench` measures it: createLine on a RedisStore over real Redis, as in
// production, logging as in production (to /dev/null) and with a pinned clock, in a process of its own.
import { openSync } from 'node:fs';
import { loadConfig, type Config } from '../../src/config.ts';
import { asyncLineWriter, jsonLogger, type Logger } from '../../src/log.ts';
import { createLine } from '../../src/server.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { PhaseMeter, closeServer, type MeteredServer } from './phase-meter.ts';

export type LineServerOptions = {
  redisUrl: string;
  /** Every key the line writes starts with this; the bench deletes them at the end. */
  prefix: string;
  authToken: string;
  /** The line's clock, pinned (ISO instant). */
  at: string;
  /** When set, each measured phase (not the warm-ups) is CPU-profiled into DIR/line-<n>.cpuprofile. */
  profileDir: string | null;
  /**
   * BCRYPT_COST and SSN_HASH_KEY for the line's configuration, as the environment spells them
   * (unset: the line's own defaults). The login mix seeds the demo caseload with lineConfig() of
   * the same options, so its hashes are the ones the line checks.
   */
  bcryptCost?: string;
  ssnHashKey?: string;
};

export type LineInfo = {
  url: string;
  /** The line's configured bcrypt cost (PIN hashes and bcrypt.compare at login). */
  bcryptCost: number;
  /** UV_THREADPOOL_SIZE as the line's process saw it (null: unset, libuv's default of 4 threads). */
  uvThreadpoolSize: string | null;
};

/** The line's configuration as the bench builds it; `publicUrl` is where it listens. */
export function lineConfig(options: LineServerOptions, publicUrl: string): Config {
  return loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: publicUrl,
    TWILIO_AUTH_TOKEN: options.authToken,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.prefix,
    AGENT_NUMBER: '+19165550100',
    // Every simulated call comes from one number: the per-number limit on failed identifications
    // would soon refuse the login mix's deliberate wrong PINs, which is not what it measures.
    IDENTIFICATION_FAILURES_PER_NUMBER: '100000',
    ...(options.bcryptCost !== undefined ? { BCRYPT_COST: options.bcryptCost } : {}),
    ...(options.ssnHashKey !== undefined ? { SSN_HASH_KEY: options.ssnHashKey } : {}),
  });
}

/**
 * The line logs as in production (a JSON line per webhook, written asynchronously), to /dev/null:
 * the cost of logging is part of a webhook's, what reads the log is not.
 */
function discardedLog(): Logger {
  const writer = asyncLineWriter(openSync('/dev/null', 'w'));
  return jsonLogger((line) => writer.write(line));
}

export async function startLineServer(options: LineServerOptions): Promise<MeteredServer<LineInfo>> {
  const meter = await PhaseMeter.create('line', options.profileDir);
  // Listening first (on port 0) tells us the address before the line is built, so PUBLIC_URL is
  // the real one and the signatures the load generator computes are the ones the line checks.
  const http = await meter.listen();
  const config = lineConfig(options, http.url);
  let redisTrouble: string | null = null;
  const store = RedisStore.connect(options.redisUrl, options.prefix, {
    onError: (message) => {
      if (message !== redisTrouble) process.stderr.write(`bench line: ${message}\n`);
      redisTrouble = message;
    },
  });
  await store.ping();
  const pinned = new Date(options.at).getTime();
  const line = await createLine({ config, store, logger: jsonLogger(asyncLineWriter(openSync('/dev/null', 'w')).write), clock: () => new Date(pinned) }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  http.serve(line.app);
  return {
    info: {
      url: http.url,
      bcryptCost: line.config.bcryptCost,
      uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE || null,
    },
    begin: () => meter.begin(),
    end: () => meter.end(),
    close: async () => {
      await closeServer(http.server);
      await line.close();
      await store.close();
      meter.close();
    },
  };
}
