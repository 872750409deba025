// The bench's processes. The line, the bare app and each load generator run in a child process
// of `npm run bench` (scripts/bench/child.ts), so each has an event loop, a V8 heap and a garbage
// collector of its own, the OS can put them on different cores, and a server's CPU time and CPU
// profile are its own. The bench asks them for work over IPC, one request at a time per op.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BareInfo, BareServerOptions } from './bare-app.ts';
import type { LineInfo, LineServerOptions } from './line-server.ts';
import type { PrepareSpec, RunResult, RunSpec } from './load-generator.ts';
import type { ServerPhaseStats } from './phase-meter.ts';

export type Role = 'line' | 'bare' | 'load';

/** What a child process is to be: a server, a load generator, or (--inline) a server with its own load generator. */
export type ChildSpec = { roles: Role[]; line?: LineServerOptions; bare?: BareServerOptions };

export type ChildInfo = { pid: number; line?: LineInfo; bare?: BareInfo };

/** Each op: what it takes, what it answers. */
export type Ops = {
  /** A server: start measuring a phase. */
  begin: [null, null];
  /** A server: stop measuring; what it saw. */
  end: [null, ServerPhaseStats];
  /** A load generator: sign the next run's webhooks in advance. */
  prepare: [PrepareSpec, null];
  run: [RunSpec, RunResult];
  /** A load generator: start no more calls in run `run` (which then answers once its calls have ended). */
  stop: [{ run: number }, null];
  /** A load generator: the demo caseload was loaded anew, so every participant's wrong-PIN budget is whole again. */
  reseeded: [null, null];
  /** Any: the CPU time the process has used so far (all its threads), ms. */
  usage: [null, { cpuMs: number }];
};
export type Op = keyof Ops;
export type Handlers = { [K in Op]?: (args: Ops[K][0]) => Promise<Ops[K][1]> | Ops[K][1] };

type Request = { id: number; op: Op | 'close'; args: unknown };
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
type Hello = { hello: 'ready'; info: ChildInfo } | { hello: 'failed'; error: string };

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export class BenchProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private exited: string | null = null;

  private constructor(private readonly child: ChildProcess, readonly info: ChildInfo) {
    child.on('message', (message: Reply) => {
      const pending = this.waiting.get(message.id);
      if (!pending) return;
      this.waiting.delete(message.id);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(message.error));
    });
    child.once('exit', (code, signal) => {
      this.exited = `the bench process ${child.pid} exited (${signal ?? code})`;
      for (const pending of this.waiting.values()) pending.reject(new Error(this.exited));
      this.waiting.clear();
    });
  }

  /** Forks a child for `spec` (with the parent's tsx loader, plus `nodeFlags`) and waits until it is ready. */
  static async start(spec: ChildSpec, nodeFlags: string[] = []): Promise<BenchProcess> {
    const child = fork(CHILD, [], {
      execArgv: [...process.execArgv, ...nodeFlags],
      env: { ...process.env, BENCH_CHILD: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Latencies travel as Float64Arrays.
      serialization: 'advanced',
    });
    const hello = await new Promise<Hello>((resolve, reject) => {
      child.once('message', (message: Hello) => resolve(message));
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`a bench process (${spec.roles.join('+')}) exited (${signal ?? code}) before it was ready`)));
    });
    if (hello.hello === 'failed') {
      child.kill();
      throw new Error(`a bench process (${spec.roles.join('+')}) could not start: ${hello.error}`);
    }
    return new BenchProcess(child, hello.info);
  }

  call<K extends Op>(op: K, args: Ops[K][0]): Promise<Ops[K][1]> {
    return this.request(op, args) as Promise<Ops[K][1]>;
  }

  /** Closes its servers and connections and waits for it to exit (a normal exit lets --cpu-prof write). */
  async close(): Promise<void> {
    if (this.exited || !this.child.connected) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timeout = (): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
    await Promise.race([this.request('close', null).catch(() => {}), gone, timeout()]);
    await Promise.race([gone, timeout()]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }

  private request(op: Op | 'close', args: unknown): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, op, args } satisfies Request);
    });
  }
}

/** The child's side: says it is ready, then answers requests until told to close (or the parent goes away). */
export function serveParent(info: ChildInfo, handlers: Handlers, close: () => Promise<void>): void {
  let closing: Promise<void> | null = null;
  const closeOnce = (): Promise<void> => (closing ??= close());
  process.on('message', (message: Request) => {
    const answer = (reply: Reply): void => {
      if (process.connected) process.send?.(reply);
    };
    if (message.op === 'close') {
      void closeOnce().then(() => {
        answer({ id: message.id, ok: true, value: null });
        process.disconnect?.();
      });
      return;
    }
    const handler = handlers[message.op] as ((args: unknown) => unknown) | undefined;
    if (!handler) {
      answer({ id: message.id, ok: false, error: `this bench process does not do "${message.op}"` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (value) => answer({ id: message.id, ok: true, value: value ?? null }),
        (error: unknown) => answer({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  // The parent went away (crashed, Ctrl-C): close and let the process end.
  process.on('disconnect', () => void closeOnce());
  process.send?.({ hello: 'ready', info } satisfies Hello);
}

export function failToStart(error: unknown): void {
  process.send?.({ hello: 'failed', error: error instanceof Error ? error.message : String(error) } satisfies Hello);
  process.exitCode = 1;
  process.disconnect?.();
}
