// The login mix of `npm run bench` (scripts/bench/bench.ts): how many logins a second the line
// checks, and how much their bcrypt work disturbs everyone else on the line.
//
// A login's PIN is checked with bcrypt.compare, whose async form runs on libuv's threadpool
// (UV_THREADPOOL_SIZE threads, 4 unless set), not on the event loop. That keeps the loop free to
// answer other webhooks, but the hashing still needs CPU, and this box has few cores: the loop
// and the threadpool then compete for them. This phase measures both effects.
//
// Two populations call the line at once:
//   - login callers (--login-callers in flight, --login-think between webhooks, default none),
//     as login-callers.ts describes them;
//   - menu-only callers, exactly the comparison's walk (--concurrency in flight, --mix-think
//     between webhooks, default 200 ms ± 50 %: below the line's capacity, so their latency is the
//     line's answer time rather than a queue of their own making).
// Measured in rounds: a slice of the menu-only callers alone, then a slice of the same callers
// with the login callers beside them (the logins run until the menu callers' slice is over), so
// their latency can be read side by side. The demo caseload is loaded anew before every slice
// with logins, with no failed PINs recorded.
import bcrypt from 'bcrypt';
import type { Redis } from 'ioredis';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from '../../src/domain/caseload-loader.ts';
import { RedisCaseloadStore } from '../../src/store/caseload-redis.ts';
import { fmt, latency, progress, type Latency } from './figures.ts';
import type { Fleet, Phase } from './fleet.ts';
import { WRONG_EVERY, demoPeople } from './login-callers.ts';
import type { RunResult } from './load-generator.ts';
import { CpuTally, RunTally, type Traffic } from './tally.ts';

export type LoginMixOptions = {
  /** Menu-only callers in flight (the comparison's --concurrency). */
  concurrency: number;
  /** Pause between a menu-only caller's webhooks, ms (± 50 %). */
  othersThinkMs: number;
  loginCallers: number;
  /** Pause between a login caller's webhooks, ms (± 50 %); 0 = none, bcrypt as busy as the callers can make it. */
  loginThinkMs: number;
  /** Seconds of menu calls per side (with and without logins), split over the rounds. */
  seconds: number;
  rounds: number;
  warmupSeconds: number;
};

export type Secrets = { ssnHashKey: string; bcryptCost: number };

/** The menu-only callers: calls started, webhooks answered, their latency. */
export type Side = Traffic & {
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

/** The login callers; `seconds` from the first login call to the last one's end, in each round. */
export type Logins = Traffic & {
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

/** One side's slices, added up over the rounds: the menu-only callers over each slice's whole window. */
class SidePool {
  readonly runs = new RunTally();
  readonly cpu = new CpuTally();

  add(slice: Phase<{ others: RunResult }>): void {
    this.runs.add(slice.value.others, slice.wallMs);
    this.cpu.add(slice);
  }

  figures(): Side {
    const { runs, cpu } = this;
    return {
      ...runs.traffic(),
      webhooksPerSecond: runs.webhooksPerSecond,
      latencyMs: latency(runs.latencies),
      serverCores: cpu.serverCpuMs / runs.wallMs,
      serverEventLoopUtilization: cpu.serverBusyMs / runs.wallMs,
      serverHandledMs: latency(cpu.handled),
      redisCores: cpu.redisCpuMs === null ? null : cpu.redisCpuMs / runs.wallMs,
      otherCores: cpu.otherMs === null ? null : cpu.otherMs / runs.wallMs,
      otherCoresWorstRound: cpu.otherWorst,
    };
  }
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

export async function measureLoginMix(fleet: Fleet, redis: Redis, prefix: string, secrets: Secrets, options: LoginMixOptions): Promise<LoginMixReport> {
  const line = fleet.lineInfo;
  if (secrets.bcryptCost !== line.bcryptCost) throw new Error(`the line's bcrypt cost is ${line.bcryptCost}, the bench would seed with ${secrets.bcryptCost}`);
  const people = await demoPeople();
  const caseload = new RedisCaseloadStore(redis, prefix);
  const seed = async (): Promise<void> => {
    await loadCaseloadFile(DEMO_CASELOAD_PATH, caseload, secrets);
    // A load keeps what the line recorded; failed PINs and locks are cleared by hand for the next slice.
    for (const kind of ['fail', 'lock', 'caller', 'failures-minute']) {
      const keys = await redis.keys(`${prefix}{caseload}:line:${kind}*`);
      if (keys.length) await redis.del(...keys);
    }
    await fleet.reseeded();
  };
  const bcryptCompareMs = await timeCompare(secrets.bcryptCost);
  progress(`login mix: bcrypt cost ${secrets.bcryptCost} (one bcrypt.compare ≈ ${bcryptCompareMs.toFixed(1)} ms here), UV_THREADPOOL_SIZE ${line.uvThreadpoolSize ?? 'unset (4)'}; seeding the demo caseload under ${prefix}…`);

  /** The menu-only callers for `seconds`, with the login callers beside them until the menu callers are done. */
  const run = async (seconds: number, withLogins: boolean): Promise<{ others: RunResult; logins: RunResult | null }> => {
    const loginRun = fleet.runId();
    const logins = withLogins
      ? fleet.run({ target: 'line', population: 'login', concurrency: options.loginCallers, thinkMs: options.loginThinkMs, calls: null, seconds: null }, { first: true, id: loginRun })
      : null;
    const others = await fleet.run({ target: 'line', population: 'menus', concurrency: options.concurrency, thinkMs: options.othersThinkMs, calls: null, seconds });
    if (!logins) return { others, logins: null };
    await fleet.stop('line', loginRun);
    return { others, logins: await logins };
  };

  if (options.warmupSeconds > 0) {
    await seed();
    progress(`login mix: warming up for ${options.warmupSeconds} s (login and menu callers)…`);
    const warm = await run(options.warmupSeconds, true);
    const errors = warm.others.errors + (warm.logins?.errors ?? 0);
    if (errors > 0) progress(`  ${errors} errors while warming up, e.g. ${[...warm.others.failures, ...(warm.logins?.failures ?? [])][0]}`);
  }

  const pools = { without: new SidePool(), with: new SidePool() };
  const logins = { pinChecks: 0, successes: 0, wrongPin: 0, unknownId: 0, pinMs: [] as number[], restMs: [] as number[] };
  const loginRuns = new RunTally();
  const profiles: string[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    const seconds = options.seconds / options.rounds;
    for (const withLogins of [false, true]) {
      if (withLogins) await seed();
      progress(`login mix round ${round}/${options.rounds}: ${options.concurrency} menu callers${withLogins ? ` + ${options.loginCallers} login callers` : ' alone'} (${seconds.toFixed(1)} s)…`);
      const slice = await fleet.measure('line', redis, () => run(seconds, withLogins));
      if (slice.server.profile) profiles.push(slice.server.profile);
      (withLogins ? pools.with : pools.without).add(slice);
      const done = slice.value.logins;
      if (done) {
        loginRuns.add(done);
        if (done.login) {
          logins.pinChecks += done.login.pinChecks;
          logins.successes += done.login.successes;
          logins.wrongPin += done.login.wrongPin;
          logins.unknownId += done.login.unknownId;
          for (const ms of done.login.pinMs) logins.pinMs.push(ms);
          for (const ms of done.login.restMs) logins.restMs.push(ms);
        }
      }
    }
  }

  const { seconds } = loginRuns.traffic();
  return {
    bcryptCost: line.bcryptCost,
    uvThreadpoolSize: line.uvThreadpoolSize,
    bcryptCompareMs,
    participantsWithPin: people.length,
    loginCallers: options.loginCallers,
    loginThinkMs: options.loginThinkMs,
    concurrency: options.concurrency,
    othersThinkMs: options.othersThinkMs,
    rounds: options.rounds,
    warmupSeconds: options.warmupSeconds,
    withoutLogins: pools.without.figures(),
    withLogins: {
      ...pools.with.figures(),
      logins: {
        ...loginRuns.traffic(),
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
  out(`               beside them ${mix.loginCallers} login callers (${pause(mix.loginThinkMs)}): ID + #, PIN + # (1 in ${WRONG_EVERY} a wrong PIN first, then 1 to try again), balance, hang up;`);
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
