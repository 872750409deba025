import type { Redis } from 'ioredis';

/** Deletes every key under `prefix` (SCAN, never KEYS, on a server others may share); how many went. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
    cursor = next;
    for (let i = 0; i < keys.length; i += 1_000) deleted += await redis.unlink(...keys.slice(i, i + 1_000));
  } while (cursor !== '0');
  return deleted;
}
