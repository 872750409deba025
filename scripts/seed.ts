// npm run seed -- FILE — loads a caseload file (docs/caseload.md) into the Redis the configuration
// names (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS), replacing the agency's side of the
// caseload there. A bad file changes nothing.
import { performance } from 'node:perf_hooks';
import { DEV_SSN_HASH_KEY, loadConfig, type Config } from '../src/config.ts';
import { loadCaseloadFile } from '../src/domain/caseload-loader.ts';
import { RedisCaseloadStore } from '../src/store/caseload-redis.ts';
import { RedisStore, openStore } from '../src/store/index.ts';

const USAGE = `Usage: npm run seed -- FILE

Loads a caseload file (docs/caseload.md: .json, or .jsonl for any size) into the Redis named by
REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS, under REDIS_PREFIX, replacing the agency's
side of the caseload there; what callers did on the line is kept. A bad file changes nothing.
The line and the seed must share SSN_HASH_KEY, or no SSN will match.

  npm run seed -- src/domain/demo-caseload.json     # the demo caseload
  -h, --help                                        this text`;

const NO_REDIS =
  'REDIS_URL is not set (nor REDIS_CLUSTER_NODES or REDIS_SENTINELS), so there is nothing to seed: without it the line uses its in-process store, ' +
  'which loads the demo caseload (src/domain/demo-caseload.json) by itself at start. ' +
  'Set REDIS_URL=redis://host:port to load FILE into that Redis.';

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

async function seed(path: string | undefined, config: Config): Promise<string> {
  if (!path) throw new Error(USAGE);
  if (!config.redis) throw new Error(NO_REDIS);
  // The SSN hash must be keyed as the line that reads the caseload keys it, or no SSN will match.
  if (config.ssnHashKey === DEV_SSN_HASH_KEY) process.stderr.write('warning: SSN_HASH_KEY is unset: SSNs are hashed with the fixed development key\n');

  const started = performance.now();
  // Connect (and fail) before hashing: with a large file bcrypt alone can take minutes.
  const store = await openStore(config);
  try {
    if (!(store instanceof RedisStore)) throw new Error('expected a Redis store');
    const counts = await loadCaseloadFile(path, new RedisCaseloadStore(store.redis, config.redisPrefix), config);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    return `Loaded ${count(counts.participants, 'participant')} and ${count(counts.cases, 'case')} from ${path} (prefix ${config.redisPrefix}) in ${seconds} s`;
  } finally {
    await store.close();
  }
}

const [file] = process.argv.slice(2);
if (file === '--help' || file === '-h') {
  process.stdout.write(`${USAGE}\n`);
} else {
  try {
    process.stdout.write(`${await seed(file, loadConfig())}\n`);
  } catch (error) {
    // The message alone: loader errors name the file and the bad field, never an SSN or PIN.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
