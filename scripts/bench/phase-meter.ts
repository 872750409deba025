// What a server process sees of a measured phase: its CPU time, its event loop's utilisation,
// how long requests take inside it, and (--profile) a CPU profile. Both the line and the bare
// app are served through this, so whatever it costs, it costs both the same.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export type Target = 'line' | 'bare';

/** What the server side saw during one measured phase. */
export type ServerPhaseStats = {
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Event-loop utilisation of the server's thread, 0..1: near 1 means the server was the bottleneck. */
  eventLoopUtilization: number;
  /** Time from the request's arrival at the HTTP server to the last byte of the reply handed to the socket (one request in SAMPLE_EVERY). */
  handled: number[];
  /** Where the phase's CPU profile was written, with --profile. */
  profile: string | null;
};

/** A server the bench measures (the line, the bare app): what the load generators need to know of it, and its phases. */
export type MeteredServer<Info> = { info: Info; begin(): void; end(): Promise<ServerPhaseStats>; close(): Promise<void> };

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

// Timing every request would cost the bare app several percent of its throughput (a listener
// and a closure per response); one in SAMPLE_EVERY still gives thousands of samples.
export const SAMPLE_EVERY = 8;

export class PhaseMeter {
  private measuring = false;
  private seen = 0;
  private slices = 0;
  private handled: number[] = [];
  private cpuAtBegin = process.cpuUsage();
  private eluAtBegin: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly profiler: Session | null;

  private constructor(private readonly target: Target, private readonly profileDir: string | null) {
    this.profiler = profileDir ? new Session() : null;
  }

  static async create(target: Target, profileDir: string | null): Promise<PhaseMeter> {
    const meter = new PhaseMeter(target, profileDir);
    if (meter.profiler && profileDir) {
      meter.profiler.connect();
      await meter.inspect('Profiler.enable');
      await meter.inspect('Profiler.setSamplingInterval', { interval: 200 });
      await mkdir(profileDir, { recursive: true });
    }
    return meter;
  }

  /** An HTTP server on 127.0.0.1 (port chosen by the OS) whose requests this meter samples. */
  async listen(): Promise<{ server: Server; url: string; serve(app: Handler): void }> {
    let app: Handler = (_req, res) => {
      res.statusCode = 503;
      res.end();
    };
    const server = createServer((req, res) => {
      if (this.measuring && ++this.seen % SAMPLE_EVERY === 0) {
        const started = performance.now();
        res.once('finish', () => this.handled.push(performance.now() - started));
      }
      app(req, res);
    });
    // Keep the load generator's sockets across the pauses between phases.
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return {
      server,
      url: `http://127.0.0.1:${port}`,
      serve(next) {
        app = next;
      },
    };
  }

  begin(): void {
    this.measuring = true;
    this.handled = [];
    this.cpuAtBegin = process.cpuUsage();
    this.eluAtBegin = performance.eventLoopUtilization();
    if (this.profiler) void this.inspect('Profiler.start');
  }

  async end(): Promise<ServerPhaseStats> {
    const cpu = process.cpuUsage(this.cpuAtBegin);
    const elu = performance.eventLoopUtilization(this.eluAtBegin);
    this.measuring = false;
    let profile: string | null = null;
    if (this.profiler && this.profileDir) {
      const { profile: taken } = (await this.inspect('Profiler.stop')) as { profile: unknown };
      profile = join(this.profileDir, `${this.target}-${++this.slices}.cpuprofile`);
      await writeFile(profile, JSON.stringify(taken));
    }
    return { cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, eventLoopUtilization: elu.utilization, handled: this.handled, profile };
  }

  close(): void {
    this.profiler?.disconnect();
  }

  private inspect(method: string, params: object = {}): Promise<unknown> {
    return new Promise((resolve, reject) => this.profiler?.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  }
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
