// The login mix of `npm run bench` (scripts/bench.ts): how many logins a second the line checks,
// and how much their bcrypt work disturbs everyone else on the line.
//
// A login's PIN is checked with bcrypt.compare, whose async form runs on libuv's threadpool
// (UV_THREADPOOL_SIZE threads, 4 unless set), not on the event loop. That keeps the loop free to
// answer other webhooks, but the hashing still needs CPU, and this box has few cores: the loop
// and the threadpool then compete for them. This phase measures both effects.
//
// Two populations call the line at once:
//   - login callers (--login-callers in flight, --login-think between webhooks, default none):
//     answer, English, main menu 1 (account), a demo participant ID + #, the PIN + #, account
//     menu 1 (balance), hang up (status callback). One call in four first enters a wrong PIN, is
//     told so, and then enters the right one: two PIN checks in that call.
//   - menu-only callers, exactly the comparison's walk (--concurrency in flight, --mix-think
//     between webhooks, default 200 ms ± 50 %: below the line's capacity, so their latency is the
//     line's answer time rather than a queue of their own making).
// Measured in rounds: a slice of the menu-only callers alone, then a slice of the same callers
// with the login callers beside them (the logins run until the last menu call has ended), so
// their latency can be read side by side.
//
// The lockout. Six failed PINs in 24 hours lock a participant (DEFAULT_IDENTIFICATION_POLICY), and the line's clock
// is pinned, so failures would pile up. The demo caseload is loaded anew (a new generation, with
// no failures recorded) before every slice that has logins, and within a slice each participant
// gets at most lockAfter − 1 wrong PINs; a wrong entry beyond that budget uses an ID that names
// nobody instead, which the line checks against a dummy hash: the same bcrypt work, no failure
// recorded. The report says how many of each.
import bcrypt from 'bcrypt';
import type { Redis } from 'ioredis';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from '../src/domain/caseload-loader.ts';
import { parseCaseloadJson } from '../src/domain/caseload-file.ts';
import { DEFAULT_IDENTIFICATION_POLICY } from '../src/domain/identification.ts';
import { RedisCaseloadStore } from '../src/store/caseload-redis.ts';
import { readFile } from 'node:fs/promises';
import {
  clientFor, drive, exchange, failed, fmt, latency, machineBusyMs, newCall, progress, redisCpuMs,
  type Client, type Latency, type Limit, type PhaseResult, type ServerHandle, type Tally,
} from './bench-client.ts';
import type { ServerPhaseStats } from './bench-server.ts';

export type LoginMixOptions = {
  /** Menu-only callers in flight (the comparison's --concurrency). */
  concurrency: number;
  /** Pause between a menu-only caller's webhooks, ms (± 50 %). */
  othersThinkMs: number;
  loginCallers: number;
  /** Pause between a login caller's webhooks, ms (± 50 %); 0 = none, bcrypt as busy as the callers can make it. */
  loginThinkMs: number;
  /** Seconds of call starts per side (with and without logins), split over the rounds. */
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  /** Servers on the load generator's event loop (and threadpool). */
  inline: boolean;
};

export type Secrets = { ssnHashKey: string; bcryptCost: number };

/** A participant of the demo caseload who has a PIN. */
type Person = { id: string; pin: string };

/** An ID of the right length that names nobody in the demo caseload. */
const NOBODY = '2000000002';
/** Wrong PINs a participant may be given per seeding: one fewer than locks them. */
const WRONG_PIN_BUDGET = DEFAULT_IDENTIFICATION_POLICY.lockAfter - 1;
/** One login call in this many starts with a wrong PIN. */
const WRONG_EVERY = 4;

async function demoPeople(): Promise<Person[]> {
  const parsed = parseCaseloadJson(await readFile(DEMO_CASELOAD_PATH, 'utf8'));
  if (!parsed.ok) throw new Error(`${DEMO_CASELOAD_PATH}: ${parsed.error}`);
  const people = parsed.caseload.participants.flatMap(({ participant, pin }) => (pin === null ? [] : [{ id: participant.participantId, pin }]));
  if (people.length === 0) throw new Error(`${DEMO_CASELOAD_PATH}: no participant has a PIN`);
  if (people.some((p) => p.id === NOBODY)) throw new Error(`${NOBODY} is in the demo caseload: pick another ID for "nobody"`);
  return people;
}

const wrongPinFor = (pin: string): string => (pin === '246802' ? '135791' : '246802');

/** Who calls next, and whether they mistype their PIN first; the wrong-PIN budget lasts until the next seeding. */
class LoginPlan {
  private n = 0;
  private wrongSoFar = new Map<string, number>();
  constructor(private readonly people: Person[]) {}

  reseeded(): void {
    this.wrongSoFar.clear();
  }

  next(): { person: Person; wrong: null | { id: string; pin: string; kind: 'wrongPin' | 'unknownId' } } {
    const k = this.n++;
    const count = this.people.length;
    const person = this.people[k % count]!;
    // Every WRONG_EVERY-th call, shifted by one each pass over the people, so the wrong PINs
    // fall on each of them in turn rather than always on the same few.
    if ((k + Math.floor(k / count)) % WRONG_EVERY !== WRONG_EVERY - 1) return { person, wrong: null };
    const used = this.wrongSoFar.get(person.id) ?? 0;
    if (used >= WRONG_PIN_BUDGET) return { person, wrong: { id: NOBODY, pin: person.pin, kind: 'unknownId' } };
    this.wrongSoFar.set(person.id, used + 1);
    return { person, wrong: { id: person.id, pin: wrongPinFor(person.pin), kind: 'wrongPin' } };
  }
}

type LoginTally = {
  pinChecks: number;
  successes: number;
  wrongPin: number;
  unknownId: number;
  /** The PIN webhook: the request whose handler awaits bcrypt.compare. */
  pinMs: number[];
  /** The login callers' other webhooks (menus, ID entry, balance, status). */
  restMs: number[];
};

const newLoginTally = (): LoginTally => ({ pinChecks: 0, successes: 0, wrongPin: 0, unknownId: 0, pinMs: [], restMs: [] });

const EXPECT = {
  answer: ['For English, press 1.'],
  english: ['Main menu.'],
  login: ['enter your 10-digit participant ID'],
  id: ['Now enter your PIN'],
  verified: ['Your identity is verified.', 'Account menu.'],
  mismatch: ['does not match our records', 'Please try again.', 'enter your 10-digit participant ID'],
  balance: ['To hear this again, press 9.'],
  status: ['<Response'],
};

function loginCall(plan: LoginPlan, logins: LoginTally) {
  return async (client: Client, tally: Tally): Promise<void> => {
    const call = newCall();
    const { person, wrong } = plan.next();
    const step = async (s: Parameters<typeof exchange>[3], pin = false): Promise<string> => {
      const { ms, text } = await exchange(client, tally, call, s);
      (pin ? logins.pinMs : logins.restMs).push(ms);
      return text;
    };
    try {
      await step({ kind: 'answer', expect: EXPECT.answer });
      await step({ kind: 'press', digits: '1', expect: EXPECT.english });
      await step({ kind: 'press', digits: '1', expect: EXPECT.login });
      if (wrong) {
        await step({ kind: 'press', digits: wrong.id, pound: true, expect: EXPECT.id });
        await step({ kind: 'press', digits: wrong.pin, pound: true, expect: EXPECT.mismatch }, true);
        logins.pinChecks += 1;
        logins[wrong.kind] += 1;
      }
      await step({ kind: 'press', digits: person.id, pound: true, expect: EXPECT.id });
      await step({ kind: 'press', digits: person.pin, pound: true, expect: EXPECT.verified }, true);
      logins.pinChecks += 1;
      logins.successes += 1;
      const balance = await step({ kind: 'press', digits: '1', expect: EXPECT.balance });
      if (!/total balance|no open cases/i.test(balance)) throw new Error(`the balance for ${person.id} says neither a total nor "no open cases": ${balance.slice(0, 200)}`);
      await step({ kind: 'status', expect: EXPECT.status });
    } catch (error) {
      failed(tally, error);
    }
  };
}

// --- Measuring ----------------------------------------------------------------------------

export type Side = {
  /** The menu-only callers: calls started, webhooks answered, their latency. */
  calls: number;
  webhooks: number;
  errors: number;
  failures: string[];
  seconds: number;
  webhooksPerSecond: number;
  latencyMs: Latency;
  /** The servers' process: CPU used in cores (event loop, threadpool, GC and all), and its event loop's utilisation. */
  serverCores: number;
  serverEventLoopUtilization: number;
  /** Arrival → reply written, every webhook to the line (menu and login callers), 1 in 8 sampled. */
  serverHandledMs: Latency;
  redisCores: number | null;
  /** CPU other processes used meanwhile, in cores; the worst slice too. */
  otherCores: number | null;
  otherCoresWorstRound: number | null;
};

export type Logins = {
  calls: number;
  webhooks: number;
  errors: number;
  failures: string[];
  /** From the first login call to the last one's end. */
  seconds: number;
  pinChecks: number;
  pinChecksPerSecond: number;
  successfulLogins: number;
  successfulLoginsPerSecond: number;
  /** Wrong entries: a real ID with a wrong PIN (failure recorded), and an ID naming nobody (dummy hash, nothing recorded). */
  wrongPin: number;
  unknownId: number;
  /** The PIN webhook, whose handler awaits bcrypt.compare. */
  loginWebhookMs: Latency;
  /** The login callers' other webhooks. */
  otherWebhooksMs: Latency;
};

export type LoginMixReport = {
  bcryptCost: number;
  /** As the servers' process saw it; null: unset (libuv's default, 4 threads). */
  uvThreadpoolSize: string | null;
  /** One bcrypt.compare at this cost in the load generator's process, servers idle (median of 5), ms. */
  bcryptCompareMs: number;
  participantsWithPin: number;
  loginCallers: number;
  loginThinkMs: number;
  concurrency: number;
  othersThinkMs: number;
  rounds: number;
  warmupSeconds: number;
  withoutLogins: Side;
  withLogins: Side & { logins: Logins };
  /** With --profile: the servers' CPU profile of each measured slice, alone and with logins in turn. */
  profiles: string[];
};

type SidePool = {
  result: { calls: number; requests: number; errors: number; failures: string[]; latencies: number[]; wallMs: number };
  serverCpuMs: number;
  serverBusyMs: number;
  handled: number[];
  redisCpuMs: number | null;
  otherMs: number | null;
  otherWorst: number | null;
};

const newSidePool = (): SidePool => ({
  result: { calls: 0, requests: 0, errors: 0, failures: [], latencies: [], wallMs: 0 },
  serverCpuMs: 0, serverBusyMs: 0, handled: [], redisCpuMs: 0, otherMs: 0, otherWorst: 0,
});

function addSlice(pool: SidePool, others: PhaseResult, clientCpuMs: number, wallMs: number, server: ServerPhaseStats, redisCpu: number | null, machineMs: number, inline: boolean): void {
  const serverCpu = server.cpuUserMs + server.cpuSystemMs;
  // In --inline mode the client's CPU time is already in the (shared) process's.
  const ours = redisCpu === null ? null : serverCpu + (inline ? 0 : clientCpuMs) + redisCpu;
  const other = ours === null ? null : Math.max(0, machineMs - ours);
  const r = pool.result;
  r.calls += others.calls;
  r.requests += others.requests;
  r.errors += others.errors;
  for (const failure of others.failures) if (r.failures.length < 5) r.failures.push(failure);
  for (const ms of others.latencies) r.latencies.push(ms);
  r.wallMs += wallMs;
  pool.serverCpuMs += serverCpu;
  pool.serverBusyMs += server.eventLoopUtilization * wallMs;
  for (const ms of server.handled) pool.handled.push(ms);
  pool.redisCpuMs = pool.redisCpuMs === null || redisCpu === null ? null : pool.redisCpuMs + redisCpu;
  pool.otherMs = pool.otherMs === null || other === null ? null : pool.otherMs + other;
  pool.otherWorst = pool.otherWorst === null || other === null ? null : Math.max(pool.otherWorst, other / wallMs);
}

function sideFigures(pool: SidePool): Side {
  const r = pool.result;
  return {
    calls: r.calls,
    webhooks: r.requests,
    errors: r.errors,
    failures: r.failures,
    seconds: r.wallMs / 1000,
    webhooksPerSecond: r.requests / (r.wallMs / 1000),
    latencyMs: latency(r.latencies),
    serverCores: pool.serverCpuMs / r.wallMs,
    serverEventLoopUtilization: pool.serverBusyMs / r.wallMs,
    serverHandledMs: latency(pool.handled),
    redisCores: pool.redisCpuMs === null ? null : pool.redisCpuMs / r.wallMs,
    otherCores: pool.otherMs === null ? null : pool.otherMs / r.wallMs,
    otherCoresWorstRound: pool.otherWorst,
  };
}

async function timeCompare(cost: number): Promise<number> {
  const hash = await bcrypt.hash('735194', cost);
  const times: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const started = performance.now();
    await bcrypt.compare('482615', hash);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[2]!;
}

export async function measureLoginMix(servers: ServerHandle, redis: Redis, prefix: string, secrets: Secrets, options: LoginMixOptions): Promise<LoginMixReport> {
  if (secrets.bcryptCost !== servers.bcryptCost) throw new Error(`the line's bcrypt cost is ${servers.bcryptCost}, the bench would seed with ${secrets.bcryptCost}`);
  const people = await demoPeople();
  const plan = new LoginPlan(people);
  const caseload = new RedisCaseloadStore(redis, prefix);
  const seed = async (): Promise<void> => {
    await loadCaseloadFile(DEMO_CASELOAD_PATH, caseload, secrets);
    plan.reseeded();
  };
  const bcryptCompareMs = await timeCompare(secrets.bcryptCost);
  progress(`login mix: bcrypt cost ${secrets.bcryptCost} (one bcrypt.compare ≈ ${bcryptCompareMs.toFixed(1)} ms here), UV_THREADPOOL_SIZE ${servers.uvThreadpoolSize ?? 'unset (4)'}; seeding the demo caseload under ${prefix}…`);

  const others = clientFor('line', servers.lineUrl, { concurrency: options.concurrency, thinkMs: options.othersThinkMs });
  const loginClient = clientFor('line', servers.lineUrl, { concurrency: options.loginCallers, thinkMs: options.loginThinkMs });
  const logins = newLoginTally();
  const loginResults = { calls: 0, requests: 0, errors: 0, failures: [] as string[], wallMs: 0 };

  /** The menu-only callers for `limit`, with the login callers beside them until the last menu call ends. */
  const run = async (limit: Limit, withLogins: boolean, into: LoginTally): Promise<{ others: PhaseResult; logins: PhaseResult | null }> => {
    let othersDone = false;
    const menu = drive(others, options.concurrency, limit).finally(() => {
      othersDone = true;
    });
    const login = withLogins ? drive(loginClient, options.loginCallers, { calls: null, seconds: null, until: () => othersDone }, loginCall(plan, into)) : Promise.resolve(null);
    const [o, l] = await Promise.all([menu, login]);
    return { others: o, logins: l };
  };

  if (options.warmupSeconds > 0) {
    await seed();
    progress(`login mix: warming up for ${options.warmupSeconds} s (login and menu callers)…`);
    const warm = await run({ calls: null, seconds: options.warmupSeconds }, true, newLoginTally());
    const errors = warm.others.errors + (warm.logins?.errors ?? 0);
    if (errors > 0) progress(`  ${errors} errors while warming up, e.g. ${[...warm.others.failures, ...(warm.logins?.failures ?? [])][0]}`);
  }

  const pools = { without: newSidePool(), with: newSidePool() };
  const profiles: string[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    const limit: Limit = { calls: null, seconds: options.seconds / options.rounds };
    for (const withLogins of [false, true]) {
      if (withLogins) await seed();
      progress(`login mix round ${round}/${options.rounds}: ${options.concurrency} menu callers${withLogins ? ` + ${options.loginCallers} login callers` : ' alone'} (${limit.seconds!.toFixed(1)} s of call starts)…`);
      const redisBefore = await redisCpuMs(redis);
      await servers.begin('line');
      const machineBefore = machineBusyMs();
      const began = performance.now();
      const cpuBefore = process.cpuUsage();
      const result = await run(limit, withLogins, logins);
      const cpu = process.cpuUsage(cpuBefore);
      const wallMs = performance.now() - began;
      const machineMs = machineBusyMs() - machineBefore;
      const server = await servers.end();
      const redisAfter = await redisCpuMs(redis);
      const redisCpu = redisBefore !== null && redisAfter !== null ? redisAfter - redisBefore : null;
      if (server.profile) profiles.push(server.profile);
      addSlice(withLogins ? pools.with : pools.without, result.others, (cpu.user + cpu.system) / 1000, wallMs, server, redisCpu, machineMs, options.inline);
      if (result.logins) {
        loginResults.calls += result.logins.calls;
        loginResults.requests += result.logins.requests;
        loginResults.errors += result.logins.errors;
        for (const failure of result.logins.failures) if (loginResults.failures.length < 5) loginResults.failures.push(failure);
        loginResults.wallMs += result.logins.wallMs;
      }
    }
  }

  const seconds = loginResults.wallMs / 1000;
  return {
    bcryptCost: servers.bcryptCost,
    uvThreadpoolSize: servers.uvThreadpoolSize,
    bcryptCompareMs,
    participantsWithPin: people.length,
    loginCallers: options.loginCallers,
    loginThinkMs: options.loginThinkMs,
    concurrency: options.concurrency,
    othersThinkMs: options.othersThinkMs,
    rounds: options.rounds,
    warmupSeconds: options.warmupSeconds,
    withoutLogins: sideFigures(pools.without),
    withLogins: {
      ...sideFigures(pools.with),
      logins: {
        calls: loginResults.calls,
        webhooks: loginResults.requests,
        errors: loginResults.errors,
        failures: loginResults.failures,
        seconds,
        pinChecks: logins.pinChecks,
        pinChecksPerSecond: logins.pinChecks / seconds,
        successfulLogins: logins.successes,
        successfulLoginsPerSecond: logins.successes / seconds,
        wrongPin: logins.wrongPin,
        unknownId: logins.unknownId,
        loginWebhookMs: latency(logins.pinMs),
        otherWebhooksMs: latency(logins.restMs),
      },
    },
    profiles,
  };
}

export const loginMixErrors = (mix: LoginMixReport): number => mix.withoutLogins.errors + mix.withLogins.errors + mix.withLogins.logins.errors;

// --- Printing -----------------------------------------------------------------------------

export function printLoginMix(mix: LoginMixReport, cpuCount: number): void {
  const out = (text = ''): void => {
    process.stdout.write(`${text}\n`);
  };
  const f = fmt;
  const row = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(24) : cell.padStart(10))).join(' ');
  const pause = (ms: number): string => (ms > 0 ? `${ms} ms ± 50 % between webhooks` : 'no pause between webhooks');
  const { withoutLogins: alone, withLogins: beside } = mix;
  const { logins } = beside;
  out('Login mix: bcrypt beside other callers');
  out(`  bcrypt       cost ${mix.bcryptCost} (BCRYPT_COST${process.env.BCRYPT_COST ? `=${process.env.BCRYPT_COST}` : ' unset: the default'}); one bcrypt.compare ≈ ${f(mix.bcryptCompareMs, 1)} ms on this box`);
  out(`  threadpool   UV_THREADPOOL_SIZE ${mix.uvThreadpoolSize === null ? 'unset: libuv default, 4 threads' : mix.uvThreadpoolSize} in the servers' process, ${cpuCount} cores on the box`);
  out(`  load         ${mix.concurrency} menu-only callers (${pause(mix.othersThinkMs)}), the comparison's walk;`);
  out(`               beside them ${mix.loginCallers} login callers (${pause(mix.loginThinkMs)}): ID + #, PIN + # (1 in ${WRONG_EVERY} a wrong PIN first), balance, hang up;`);
  out(`               ${mix.rounds} rounds of menu callers alone, then with logins; demo caseload (${mix.participantsWithPin} with a PIN) re-seeded before each; warm-up ${mix.warmupSeconds} s excluded`);
  out();
  out('  the menu-only callers\' webhooks:');
  out(row(['', 'webhooks', 'webhooks/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors']));
  for (const [name, side] of [['alone', alone], ['while logins run', beside]] as const) {
    out(row([name, String(side.webhooks), f(side.webhooksPerSecond, 0), f(side.latencyMs.p50, 2), f(side.latencyMs.p90, 2), f(side.latencyMs.p99, 2), f(side.latencyMs.max, 2), String(side.errors)]));
  }
  out();
  out('  the servers\' process (CPU in cores: event loop, threadpool, GC), every line webhook inside it (1 in 8), Redis and other processes:');
  out(row(['', 'server cpu', 'loop busy', 'in p50 ms', 'in p99 ms', 'redis cpu', 'others']));
  for (const [name, side] of [['alone', alone], ['while logins run', beside]] as const) {
    out(row([name, f(side.serverCores, 2), `${f(side.serverEventLoopUtilization * 100, 0)}%`, f(side.serverHandledMs.p50, 2), f(side.serverHandledMs.p99, 2), side.redisCores === null ? '—' : f(side.redisCores, 2), side.otherCores === null ? '—' : `${f(side.otherCores, 2)} cpu`]));
  }
  out();
  out(`  logins       ${logins.pinChecks} PIN checks in ${f(logins.seconds, 1)} s: ${f(logins.pinChecksPerSecond, 1)} checks/s, ${f(logins.successfulLoginsPerSecond, 1)} successful logins/s`);
  out(`               (${logins.successfulLogins} verified; wrong first: ${logins.wrongPin} wrong PINs, ${logins.unknownId} IDs naming nobody once the lockout budget was spent; ${logins.calls} calls, ${logins.errors} errors)`);
  out(row(['', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms']));
  out(row(['  login webhook (PIN #)', f(logins.loginWebhookMs.p50, 2), f(logins.loginWebhookMs.p90, 2), f(logins.loginWebhookMs.p99, 2), f(logins.loginWebhookMs.max, 2)]));
  out(row(['  their other webhooks', f(logins.otherWebhooksMs.p50, 2), f(logins.otherWebhooksMs.p90, 2), f(logins.otherWebhooksMs.p99, 2), f(logins.otherWebhooksMs.max, 2)]));
  out();
  const ratio = beside.latencyMs.p99 / alone.latencyMs.p99;
  out(`  other callers' p99 ${f(alone.latencyMs.p99, 2)} ms alone → ${f(beside.latencyMs.p99, 2)} ms while logins run (× ${f(ratio, 2)}); max ${f(alone.latencyMs.max, 2)} → ${f(beside.latencyMs.max, 2)} ms`);
  for (const [name, side] of [['alone', alone], ['with logins', beside]] as const) {
    if (side.otherCoresWorstRound !== null && side.otherCoresWorstRound > 0.1) {
      out(`  warning: while the menu callers were measured ${name}, other processes used ${f(side.otherCores ?? NaN, 2)} of ${cpuCount} cores (${f(side.otherCoresWorstRound, 2)} in the worst round): figures are skewed`);
    }
  }
  if (mix.profiles.length > 0) out(`  CPU profiles (alone, with logins, in turn): ${mix.profiles.join(' ')}`);
  for (const failure of [...alone.failures, ...beside.failures]) out(`  menu caller error: ${failure}`);
  for (const failure of logins.failures) out(`  login caller error: ${failure}`);
  out();
}
