// The line's Lua scripts, one file each in ./lua, headed by what their KEYS and ARGV mean; loaded
// once per client through ioredis defineCommand (EVALSHA, falling back to EVAL after a restart or
// failover) and called by name. A line `-- @include NAME.lua` pulls in a shared piece of Lua.
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

const LUA_DIR = new URL('./lua/', import.meta.url);

function source(file: string, seen: readonly string[] = []): string {
  if (seen.includes(file)) throw new Error(`lua: ${file} includes itself`);
  const text = readFileSync(new URL(file, LUA_DIR), 'utf8');
  return text.replace(/^-- @include (\S+\.lua)$/gm, (_, included: string) => source(included, [...seen, file]));
}

/** How many KEYS each script takes; the rest of its arguments are ARGV. `any`: as many as the caller gives. */
const SCRIPTS = {
  'begin-turn': 3,
  'renew-lock': 1,
  'finish-turn': 3,
  'release-lock': 1,
  'end-call': 3,
  'identification-state': 2,
  'record-identification-failure': 4,
  'record-payment': 6,
  'update-phone': 4,
  'queue-letter': 6,
  'request-pin-reset': 10,
  'change-pin': 3,
  'use-pending-pin': 3,
  'mark-letter-sent': 4,
  'release-consumer': 1,
  'commit-load': 3,
  'begin-export': 3,
  'finish-export': 3,
  'load-entries': 'any',
} satisfies Record<string, number | 'any'>;

export type ScriptName = keyof typeof SCRIPTS;

type Arg = string | number | Buffer;
type Command = (...args: Arg[]) => Promise<unknown>;

const defined = new WeakSet<object>();

/** Defines every script on `redis` (once per client). */
function define(redis: RedisClient): void {
  if (defined.has(redis)) return;
  for (const [name, numberOfKeys] of Object.entries(SCRIPTS) as [ScriptName, number | 'any'][]) {
    // Without numberOfKeys ioredis takes the count as the first argument (runScript passes it).
    redis.defineCommand(commandName(name), { lua: source(`${name}.lua`), ...(numberOfKeys === 'any' ? {} : { numberOfKeys }) });
  }
  defined.add(redis);
}

function commandName(name: ScriptName): string {
  return `cc_${name.replace(/-/g, '_')}`;
}

/**
 * Runs a script by name with its keys and arguments. The number of keys is checked here, so a
 * caller cannot shift an argument into the keys (or lose a key into ARGV) by miscounting.
 */
export function runScript<T>(redis: RedisClient, name: ScriptName, keys: readonly string[], args: readonly Arg[]): Promise<T> {
  const expected: number | 'any' = SCRIPTS[name];
  if (expected === 'any' ? keys.length === 0 : keys.length !== expected) throw new Error(`lua ${name} takes ${expected === 'any' ? 'at least one' : expected} keys, got ${keys.length}`);
  define(redis);
  const command = (redis as unknown as Record<string, Command>)[commandName(name)];
  if (!command) throw new Error(`lua ${name} is not defined`);
  return (expected === 'any' ? command.call(redis, keys.length, ...keys, ...args) : command.call(redis, ...keys, ...args)) as Promise<T>;
}
