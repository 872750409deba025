// The processes of one bench run and how a measured phase is taken from them: the line, the bare
// app, and the load generators (or, with --inline, each server with a load generator of its own).
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { BareInfo } from './bare-app.ts';
import { BenchProcess } from './bench-process.ts';
import { machineBusyMs, redisCpuMs } from './figures.ts';
import type { LineInfo, LineServerOptions } from './line-server.ts';
import type { RunResult, RunSpec } from './load-generator.ts';
import type { ServerPhaseStats, Target } from './phase-meter.ts';

export type FleetOptions = {
  line: LineServerOptions;
  profileDir: string | null;
  /** Load generator processes (they share the calls in flight). */
  clients: number;
  /** Each server drives itself from its own event loop (comparison only). */
  inline: boolean;
  /** What-if: extra Node flags for the servers' processes. */
  serverFlags: string[];
};

/** What a run asks for, before it is shared out among the load generators. */
export type Load = Omit<RunSpec, 'run' | 'url' | 'authToken'>;

/** A measured phase: what the calls saw, what the server saw, and the CPU time of everyone. */
export type Phase<T> = {
  value: T;
  server: ServerPhaseStats;
  wallMs: number;
  /** The load generators' CPU time (NaN with --inline, where it is inside the server's). */
  clientCpuMs: number;
  /** Redis's CPU time (INFO cpu), all its clients together; null when Redis does not say. */
  redisCpuMs: number | null;
  /** CPU time the whole machine spent busy meanwhile. */
  machineMs: number;
};

/** One process's share: `total` spread as evenly as whole numbers allow. */
function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

export class Fleet {
  private nextRun = 1;

  private constructor(
    readonly line: BenchProcess,
    readonly bare: BenchProcess,
    private readonly loads: BenchProcess[],
    private readonly options: FleetOptions,
  ) {}

  static async start(options: FleetOptions): Promise<Fleet> {
    const started: BenchProcess[] = [];
    const launch = async (...args: Parameters<typeof BenchProcess.start>): Promise<BenchProcess> => {
      const child = await BenchProcess.start(...args);
      started.push(child);
      return child;
    };
    try {
      const serverRoles = options.inline ? (['load'] as const) : ([] as const);
      const [line, bare] = await Promise.all([
        launch({ roles: ['line', ...serverRoles], line: options.line }, options.serverFlags),
        launch({ roles: ['bare', ...serverRoles], bare: { profileDir: options.profileDir } }, options.serverFlags),
      ]);
      const loads = options.inline ? [] : await Promise.all(Array.from({ length: options.clients }, () => launch({ roles: ['load'] })));
      return new Fleet(line, bare, loads, options);
    } catch (error) {
      await Promise.all(started.map((child) => child.close()));
      throw error;
    }
  }

  get lineInfo(): LineInfo {
    const info = this.line.info.line;
    if (!info) throw new Error('the line process did not say where it listens');
    return info;
  }

  get bareInfo(): BareInfo {
    const info = this.bare.info.bare;
    if (!info) throw new Error('the bare app process did not say where it listens');
    return info;
  }

  get loadPids(): number[] {
    return this.loadsFor('line').map((load) => load.info.pid);
  }

  /** How many load generators drive `target`. */
  loadCount(target: Target): number {
    return this.loadsFor(target).length;
  }

  urlOf(target: Target): string {
    return target === 'line' ? this.lineInfo.url : this.bareInfo.url;
  }

  server(target: Target): BenchProcess {
    return target === 'line' ? this.line : this.bare;
  }

  /** Signs about `calls` walks of `target` in advance, shared among its load generators. */
  async prepare(target: Target, calls: number): Promise<void> {
    const loads = this.loadsFor(target);
    await Promise.all(loads.map((load, i) => load.call('prepare', { target, url: this.urlOf(target), authToken: this.options.line.authToken, calls: share(calls, loads.length, i) })));
  }

  /** A number for a run that is to be stopped (`stop`) rather than limited. */
  runId(): number {
    return this.nextRun++;
  }

  /**
   * Runs `load` on the target's load generators (calls in flight and calls shared out) and adds
   * up what they saw; `first`: on the first load generator only.
   */
  async run(load: Load, options: { first?: boolean; id?: number; url?: string } = {}): Promise<RunResult> {
    const run = options.id ?? this.runId();
    const all = this.loadsFor(load.target);
    const loads = options.first ? all.slice(0, 1) : all;
    const specs: RunSpec[] = loads
      .map((_, i) => ({
        ...load,
        run,
        url: options.url ?? this.urlOf(load.target),
        authToken: this.options.line.authToken,
        concurrency: share(load.concurrency, loads.length, i),
        calls: load.calls === null ? null : share(load.calls, loads.length, i),
      }))
      .filter((spec) => spec.concurrency > 0 && spec.calls !== 0);
    const results = await Promise.all(specs.map((spec, i) => loads[i]!.call('run', spec)));
    return merge(results);
  }

  /** Tells a run to start no more calls. */
  async stop(target: Target, run: number): Promise<void> {
    await Promise.all(this.loadsFor(target).map((load) => load.call('stop', { run })));
  }

  async reseeded(): Promise<void> {
    await Promise.all(this.loadsFor('line').map((load) => load.call('reseeded', null)));
  }

  /** Measures `work` on `target`: its server's view, everyone's CPU time, the wall time. */
  async measure<T>(target: Target, redis: Redis, work: () => Promise<T>): Promise<Phase<T>> {
    const loads = this.loadsFor(target);
    const redisBefore = await redisCpuMs(redis);
    const clientBefore = await this.clientCpuMs(loads);
    await this.server(target).call('begin', null);
    const machineBefore = machineBusyMs();
    const began = performance.now();
    const value = await work();
    const wallMs = performance.now() - began;
    const machineMs = machineBusyMs() - machineBefore;
    const server = await this.server(target).call('end', null);
    const clientAfter = await this.clientCpuMs(loads);
    const redisAfter = await redisCpuMs(redis);
    return {
      value,
      server,
      wallMs,
      clientCpuMs: this.options.inline ? NaN : clientAfter - clientBefore,
      redisCpuMs: redisBefore !== null && redisAfter !== null ? redisAfter - redisBefore : null,
      machineMs,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.loads, this.line, this.bare].map((child) => child.close()));
  }

  private loadsFor(target: Target): BenchProcess[] {
    return this.options.inline ? [this.server(target)] : this.loads;
  }

  private async clientCpuMs(loads: BenchProcess[]): Promise<number> {
    const used = await Promise.all(loads.map((load) => load.call('usage', null)));
    return used.reduce((sum, u) => sum + u.cpuMs, 0);
  }
}

function merge(results: RunResult[]): RunResult {
  const failures: string[] = [];
  for (const r of results) for (const failure of r.failures) if (failures.length < 5) failures.push(failure);
  const latencies = new Float64Array(results.reduce((n, r) => n + r.latencies.length, 0));
  let at = 0;
  for (const r of results) {
    latencies.set(r.latencies, at);
    at += r.latencies.length;
  }
  const logins = results.flatMap((r) => (r.login ? [r.login] : []));
  return {
    calls: results.reduce((n, r) => n + r.calls, 0),
    requests: results.reduce((n, r) => n + r.requests, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    failures,
    bytes: results.reduce((n, r) => n + r.bytes, 0),
    latencies,
    // The load generators run side by side: the phase lasts as long as the slowest.
    wallMs: Math.max(0, ...results.map((r) => r.wallMs)),
    signedInRun: results.reduce((n, r) => n + r.signedInRun, 0),
    liveCallSids: results.flatMap((r) => r.liveCallSids),
    login: logins.length === 0 ? null : {
      pinChecks: logins.reduce((n, l) => n + l.pinChecks, 0),
      successes: logins.reduce((n, l) => n + l.successes, 0),
      wrongPin: logins.reduce((n, l) => n + l.wrongPin, 0),
      unknownId: logins.reduce((n, l) => n + l.unknownId, 0),
      pinMs: logins.flatMap((l) => l.pinMs),
      restMs: logins.flatMap((l) => l.restMs),
    },
  };
}
