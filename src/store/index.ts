import type { RedisTopology } from '../config.ts';
import { connectRedis, describeTopology, topologySetting, untilReady } from './connect.ts';
import { MemoryStore } from './memory.ts';
import { RedisStore } from './redis.ts';
import type { CallStore } from './store.ts';

export * from './store.ts';
export { MemoryStore, type MemoryStoreOptions } from './memory.ts';
export { RedisStore, type RedisStoreOptions } from './redis.ts';
export { connectRedis, describeTopology, untilReady, type RedisClient } from './connect.ts';

/** How long a start waits for Redis before it refuses. */
const READY_WITHIN_MS = 5_000;

/** Redis when one is configured (and it answers), the in-process store otherwise. */
export async function openStore(
  config: { redis: RedisTopology | null; redisPrefix: string; callRecordDays?: number },
  onError?: (msg: string) => void,
): Promise<CallStore> {
  const records = config.callRecordDays === undefined ? {} : { callRecordDays: config.callRecordDays };
  if (!config.redis) return new MemoryStore(records);
  let lastError: string | null = null;
  const report = (message: string) => {
    lastError = message;
    onError?.(message);
  };
  const client = connectRedis(config.redis, { onError: report });
  const store = new RedisStore(client, config.redisPrefix, { onError: report, ...records });
  try {
    // A Cluster refuses commands until it knows its slots; a single server queues them (and fails them in a second).
    if (config.redis.kind === 'cluster') await untilReady(client, READY_WITHIN_MS);
    await store.ping();
  } catch (error) {
    // Not QUIT: it would wait in the queue behind the PING that just timed out.
    client.disconnect();
    // The PING's own error is often just "max retries reached"; the connection error says why.
    const reasons = [error instanceof Error ? error.message : String(error), lastError].filter((r) => r !== null);
    throw new Error(`${describeTopology(config.redis)} did not answer (${reasons.join('; ')}); check ${topologySetting(config.redis)} and that Redis is running`);
  }
  return store;
}
