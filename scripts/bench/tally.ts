// Measured slices added up, for the comparison (bench.ts) and the login mix (login-mix.ts) alike:
// the callers' runs, and the CPU the servers, Redis and the rest of the machine used meanwhile.
import type { Phase } from './fleet.ts';
import type { RunResult } from './load-generator.ts';

/** What callers did, as reported. */
export type Traffic = {
  calls: number;
  webhooks: number;
  errors: number;
  failures: string[];
  /** Measured wall time, summed over the rounds. */
  seconds: number;
};

/** Callers' runs added up: calls started, webhooks answered and their latencies, errors (the first five described). */
export class RunTally {
  calls = 0;
  requests = 0;
  errors = 0;
  failures: string[] = [];
  latencies: number[] = [];
  wallMs = 0;

  /** `wallMs`: the time the run counts for (by default its own clock, first webhook to last reply). */
  add(run: RunResult, wallMs = run.wallMs): void {
    this.calls += run.calls;
    this.requests += run.requests;
    this.errors += run.errors;
    for (const failure of run.failures) if (this.failures.length < 5) this.failures.push(failure);
    for (const ms of run.latencies) this.latencies.push(ms);
    this.wallMs += wallMs;
  }

  traffic(): Traffic {
    return { calls: this.calls, webhooks: this.requests, errors: this.errors, failures: this.failures, seconds: this.wallMs / 1000 };
  }

  get webhooksPerSecond(): number {
    return this.requests / (this.wallMs / 1000);
  }
}

/** The servers' CPU and event loop, their webhooks' handling times, Redis's CPU and the rest of the machine's, over slices. */
export class CpuTally {
  serverCpuMs = 0;
  serverBusyMs = 0;
  handled: number[] = [];
  /** null once a slice did not know Redis's CPU time. */
  redisCpuMs: number | null = 0;
  /** CPU the rest of the machine used (not the servers, the load generators or Redis); null as Redis's. */
  otherMs: number | null = 0;
  /** The most of the rest of the machine one slice saw, in cores. */
  otherWorst: number | null = 0;

  add(slice: Phase<unknown>): void {
    const { server, wallMs, clientCpuMs, redisCpuMs, machineMs } = slice;
    const serverCpu = server.cpuUserMs + server.cpuSystemMs;
    // With --inline the load generators' CPU time is already in the server's process.
    const ours = redisCpuMs === null ? null : serverCpu + (Number.isNaN(clientCpuMs) ? 0 : clientCpuMs) + redisCpuMs;
    const other = ours === null ? null : Math.max(0, machineMs - ours);
    this.serverCpuMs += serverCpu;
    this.serverBusyMs += server.eventLoopUtilization * wallMs;
    for (const ms of server.handled) this.handled.push(ms);
    this.redisCpuMs = this.redisCpuMs === null || redisCpuMs === null ? null : this.redisCpuMs + redisCpuMs;
    this.otherMs = this.otherMs === null || other === null ? null : this.otherMs + other;
    this.otherWorst = this.otherWorst === null || other === null ? null : Math.max(this.otherWorst, other / wallMs);
  }
}
