// The simulated Twilio of `npm run bench`, in a process of its own: calls that walk the menus
// the way Twilio does (each webhook follows the <Gather> action or the <Redirect> of the reply
// before it), every webhook signed and carrying Twilio's full parameter set and a fresh
// I-Twilio-Idempotency-Token, every reply checked.
//
// It is built to cost the machine as little as it can, because the machine is also the server's:
// one raw keep-alive connection per call in flight (keep-alive-connection.ts), request bodies
// from per-step templates, and signatures computed before the measured run (`prepare`) for the
// path each step took in the last complete walk. A webhook whose path differs is signed on the
// spot, and the run says how many were.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import twilio from 'twilio';
import { callParams, newCallSid } from '../../src/simulator/call-params.ts';
import { BARE_MARKER } from './bare-app.ts';
import type { Handlers } from './bench-process.ts';
import { KeepAliveConnection } from './keep-alive-connection.ts';
import { LoginPlan, demoPeople, loginCall, newLoginTally, type LoginTally } from './login-callers.ts';
import type { Target } from './phase-meter.ts';
import { WALK, stepParams, type Step } from './walk.ts';

export type Population = 'menus' | 'login';

export type RunSpec = {
  /** Names the run, for `stop`. */
  run: number;
  target: Target;
  /** Where the target listens, which is also the public URL it checks signatures against. */
  url: string;
  authToken: string;
  /** menus: the walk (WALK); login: the login mix's callers (login-callers.ts). */
  population: Population;
  /** Calls in flight, each on a keep-alive connection of its own. */
  concurrency: number;
  /** Pause between a call's webhooks, ms ± 50 % (0: the next webhook as soon as the reply is in). */
  thinkMs: number;
  /** Start no more calls after this many (null: no limit). */
  calls: number | null;
  /** Post no more webhooks after this many seconds, leaving calls where they are (null: no limit). */
  seconds: number | null;
  /** Walk only the first N steps of each call (menus) and leave it live. */
  steps?: number;
};

export type PrepareSpec = { target: Target; url: string; authToken: string; calls: number };

export type RunResult = {
  calls: number;
  requests: number;
  errors: number;
  failures: string[];
  bytes: number;
  latencies: Float64Array;
  wallMs: number;
  /** Webhooks signed during the run rather than beforehand. */
  signedInRun: number;
  /** With `steps`: the calls left live. */
  liveCallSids: string[];
  login: LoginTally | null;
};

type Presigned = { sid: string; paths: string[]; signatures: string[] };
type CallState = { sid: string; previous: string; webhooks: number; presigned: Presigned | null };

const ENTITIES: Readonly<Record<string, string>> = { '&apos;': "'", '&quot;': '"', '&amp;': '&', '&lt;': '<', '&gt;': '>' };
const unescapeXml = (text: string): string => text.replace(/&(?:apos|quot|amp|lt|gt);/g, (entity) => ENTITIES[entity] ?? entity);

function urlIn(twiml: string, pattern: RegExp, what: string, publicUrl: string): string {
  const found = pattern.exec(twiml)?.[1];
  if (!found) throw new Error(`no ${what} in the reply`);
  const url = found.replace(/&amp;/g, '&');
  if (!url.startsWith(publicUrl + '/')) throw new Error(`the ${what} ${url} is not under ${publicUrl}`);
  return url.slice(publicUrl.length);
}

function pathFor(step: Step, previous: string, publicUrl: string): string {
  switch (step.kind) {
    case 'answer':
      return '/voice';
    case 'press':
      return urlIn(previous, /<Gather[^>]*\saction="([^"]+)"/, '<Gather> action', publicUrl);
    case 'silence':
      return urlIn(previous, /<Redirect[^>]*>([^<]+)<\/Redirect>/, '<Redirect>', publicUrl);
    case 'status':
      return '/voice/status';
  }
}

/** The work of this process: connections kept per target, signatures made ahead, runs in progress. */
export class LoadGenerator {
  private readonly idle = new Map<string, KeepAliveConnection[]>();
  /** The path each step of the walk took in the last complete call, per target. */
  private readonly routes = new Map<string, string[]>();
  private readonly presigned = new Map<string, { calls: Presigned[]; next: number }>();
  /** Runs told to start no more calls (perhaps before they began). */
  private readonly stopped = new Set<number>();
  private plan: LoginPlan | null = null;
  // A status callback's duration and timestamp are fixed per process, so it can be signed ahead.
  private readonly status = { callDuration: '11', timestamp: new Date().toUTCString() };
  private readonly bodies = new Map<string, string>();

  handlers(): Handlers {
    return {
      prepare: (spec) => {
        this.prepare(spec);
        return null;
      },
      run: (spec) => this.run(spec),
      stop: ({ run }) => {
        this.stopped.add(run);
        return null;
      },
      reseeded: () => {
        this.plan?.reseeded();
        return null;
      },
    };
  }

  close(): void {
    for (const connections of this.idle.values()) for (const connection of connections) connection.close();
    this.idle.clear();
  }

  /** Signs `calls` walks of `target` ahead, along the paths its last complete walk took. */
  prepare(spec: PrepareSpec): void {
    const paths = this.routes.get(spec.url);
    if (!paths || spec.calls <= 0) {
      this.presigned.delete(spec.url);
      return;
    }
    const calls: Presigned[] = [];
    for (let n = 0; n < spec.calls; n += 1) {
      const sid = newCallSid();
      const signatures = paths.map((path, i) => twilio.getExpectedTwilioSignature(spec.authToken, spec.url + path, callParams(sid, stepParams(WALK[i]!, this.status))));
      calls.push({ sid, paths, signatures });
    }
    this.presigned.set(spec.url, { calls, next: 0 });
  }

  async run(spec: RunSpec): Promise<RunResult> {
    if (spec.population === 'login') this.plan ??= new LoginPlan(await demoPeople());
    const { hostname, port } = new URL(spec.url);
    const tally = { calls: 0, requests: 0, errors: 0, bytes: 0, signedInRun: 0, failures: [] as string[], latencies: [] as number[], liveCallSids: [] as string[] };
    const login = spec.population === 'login' ? newLoginTally() : null;
    const walkSteps = Math.min(spec.steps ?? WALK.length, WALK.length);
    const expectBare = [BARE_MARKER];
    const hostHeader = `${hostname}:${port}`;
    const began = performance.now();
    const deadline = spec.seconds === null ? Infinity : began + spec.seconds * 1000;

    /** Posts one step of `call`; null when the run's time was up before it could be sent. */
    const exchange = async (connection: KeepAliveConnection, call: CallState, step: Step, index: number | null): Promise<{ text: string; ms: number; path: string } | null> => {
      if (call.webhooks > 0 && spec.thinkMs > 0) {
        // Callers are not in step: each pause is thinkMs ± 50 %.
        const left = deadline - performance.now();
        if (left > 0) await sleep(Math.min(spec.thinkMs * (0.5 + Math.random()), left));
      }
      if (performance.now() >= deadline) return null;
      call.webhooks += 1;
      const path = pathFor(step, call.previous, spec.url);
      const key = index !== null ? `walk:${index}` : `${step.kind}:${'digits' in step ? step.digits : ''}:${'pound' in step && step.pound ? '#' : ''}`;
      let rest = this.bodies.get(key);
      if (rest === undefined) {
        const { CallSid: _, ...others } = callParams('', stepParams(step, this.status));
        rest = new URLSearchParams(others).toString();
        this.bodies.set(key, rest);
      }
      // The body is Twilio's parameters in Twilio's order, CallSid first.
      const body = `CallSid=${call.sid}&${rest}`;
      let signature = index !== null && call.presigned?.paths[index] === path ? call.presigned.signatures[index] : undefined;
      if (signature === undefined) {
        signature = twilio.getExpectedTwilioSignature(spec.authToken, spec.url + path, callParams(call.sid, stepParams(step, this.status)));
        tally.signedInRun += 1;
      }
      const reply = await connection.send(
        `POST ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n` +
        `X-Twilio-Signature: ${signature}\r\nI-Twilio-Idempotency-Token: ${randomUUID()}\r\nUser-Agent: TwilioProxy/1.1\r\nAccept: */*\r\n\r\n${body}`,
      );
      tally.requests += 1;
      tally.bytes += reply.body.length;
      tally.latencies.push(reply.ms);
      const text = reply.body.toString('utf8');
      if (reply.status !== 200) throw new Error(`HTTP ${reply.status} from ${path}: ${text.slice(0, 120)}`);
      const wanted = spec.target === 'line' ? step.expect : expectBare;
      let plain: string | null = null;
      const missing = wanted.filter((phrase) => !text.includes(phrase) && !(plain ??= unescapeXml(text)).includes(phrase));
      if (missing.length > 0) {
        throw new Error(`webhook ${call.webhooks} (${step.kind}${'digits' in step ? ` ${step.digits}${step.pound ? '#' : ''}` : ''}, ${path}): reply lacks ${JSON.stringify(missing)}: ${text.slice(0, 200)}`);
      }
      call.previous = text;
      return { text, ms: reply.ms, path };
    };

    const walk = async (connection: KeepAliveConnection): Promise<void> => {
      const presigned = this.takePresigned(spec.url);
      const call: CallState = { sid: presigned?.sid ?? newCallSid(), previous: '', webhooks: 0, presigned };
      const paths: string[] = [];
      for (let i = 0; i < walkSteps; i += 1) {
        const reply = await exchange(connection, call, WALK[i]!, i);
        if (reply === null) return;
        paths.push(reply.path);
      }
      if (walkSteps === WALK.length) this.routes.set(spec.url, paths);
      else tally.liveCallSids.push(call.sid);
    };

    const callOf = (connection: KeepAliveConnection): Promise<void> => {
      if (login && this.plan) {
        const call: CallState = { sid: newCallSid(), previous: '', webhooks: 0, presigned: null };
        return loginCall((step) => exchange(connection, call, step, null), this.plan, login);
      }
      return walk(connection);
    };

    const more = (): boolean => !this.stopped.has(spec.run) && (spec.calls === null || tally.calls < spec.calls) && performance.now() < deadline;
    await Promise.all(
      Array.from({ length: spec.concurrency }, async () => {
        const connection = this.acquire(spec.url, hostname, Number(port));
        try {
          // With think time, calls start spread over one pause rather than all at once.
          if (spec.thinkMs > 0) await sleep(Math.min(Math.random() * spec.thinkMs, Math.max(0, deadline - performance.now())));
          while (more()) {
            tally.calls += 1;
            try {
              await callOf(connection);
            } catch (error) {
              tally.errors += 1;
              if (tally.failures.length < 5) tally.failures.push(error instanceof Error ? error.message : String(error));
            }
          }
        } finally {
          this.release(spec.url, connection);
        }
      }),
    );
    const wallMs = performance.now() - began;
    this.stopped.delete(spec.run);
    return {
      calls: tally.calls,
      requests: tally.requests,
      errors: tally.errors,
      failures: tally.failures,
      bytes: tally.bytes,
      latencies: Float64Array.from(tally.latencies),
      wallMs,
      signedInRun: tally.signedInRun,
      liveCallSids: tally.liveCallSids,
      login,
    };
  }

  private takePresigned(url: string): Presigned | null {
    const pool = this.presigned.get(url);
    if (!pool || pool.next >= pool.calls.length) return null;
    return pool.calls[pool.next++] ?? null;
  }

  private acquire(url: string, host: string, port: number): KeepAliveConnection {
    return this.idle.get(url)?.pop() ?? new KeepAliveConnection(host, port);
  }

  private release(url: string, connection: KeepAliveConnection): void {
    const idle = this.idle.get(url);
    if (idle) idle.push(connection);
    else this.idle.set(url, [connection]);
  }
}
