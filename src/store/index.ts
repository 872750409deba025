import { MemoryStore } from './memory.ts';
import { RedisStore } from './redis.ts';
import type { CallStore } from './store.ts';

export * from './store.ts';
export { MemoryStore, type MemoryStoreOptions } from './memory.ts';
export { RedisStore, type RedisStoreOptions } from './redis.ts';

/** The URL with any password blanked, for messages. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparseable REDIS_URL)';
  }
}

/** Redis when a URL is configured (and it answers), the in-process store otherwise. */
export async function openStore(
  config: { redisUrl: string | null; redisPrefix: string },
  onError?: (msg: string) => void,
): Promise<CallStore> {
  if (!config.redisUrl) return new MemoryStore();
  let lastError: string | null = null;
  const store = RedisStore.connect(config.redisUrl, config.redisPrefix, {
    onError: (message) => {
      lastError = message;
      onError?.(message);
    },
  });
  try {
    await store.ping();
  } catch (error) {
    await store.close();
    // The PING's own error is often just "max retries reached"; the connection error says why.
    const reasons = [error instanceof Error ? error.message : String(error), lastError].filter((r) => r !== null);
    throw new Error(`Redis at ${displayUrl(config.redisUrl)} did not answer (${reasons.join('; ')}); check REDIS_URL and that Redis is running`);
  }
  return store;
}
