// The load generator's side of `npm run bench` (scripts/bench.ts, scripts/bench-login.ts):
// simulated Twilio calls over keep-alive HTTP, and the figures made of them.
//
// Every call walks the menus the way Twilio does (follows the <Gather> action and the <Redirect>
// out of each reply), every webhook is signed and carries Twilio's full parameter set and a
// fresh I-Twilio-Idempotency-Token, and every reply is checked.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import twilio from 'twilio';
import { callParams, newCallSid } from '../test/support/twilio.ts';
import { BARE_MARKER, type ServerInfo, type ServerPhaseStats, type Target } from './bench-server.ts';

export const AUTH_TOKEN = 'bench-auth-token-3c91d0e2';

export const progress = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

/** The servers, in a child process or in this one (scripts/bench.ts starts them). */
export type ServerHandle = ServerInfo & {
  sizeBareReply(bytes: number): Promise<number>;
  begin(target: Target): Promise<void>;
  end(): Promise<ServerPhaseStats>;
  close(): Promise<void>;
};

// --- One simulated call -------------------------------------------------------------------

export type Step =
  | { kind: 'answer'; expect: string[] }
  /** `pound`: an entry finished with # (Twilio strips it from Digits and says so in FinishedOnKey). */
  | { kind: 'press'; digits: string; pound?: boolean; expect: string[] }
  | { kind: 'silence'; expect: string[] }
  | { kind: 'status'; expect: string[] };

/** English; payment info; check, back, crediting, back; back to the main menu; hours; repeat; silence; hang up. */
export const WALK: readonly Step[] = [
  { kind: 'answer', expect: ['For English, press 1.', 'Para español, oprima 2.'] },
  { kind: 'press', digits: '1', expect: ['information only about your own case', 'Main menu.'] },
  { kind: 'press', digits: '4', expect: ['Payment options and mailing address.'] },
  { kind: 'press', digits: '1', expect: ['California State Disbursement Unit'] },
  { kind: 'press', digits: '*', expect: ['Payment options and mailing address.'] },
  { kind: 'press', digits: '3', expect: ['credited on the date'] },
  { kind: 'press', digits: '*', expect: ['Payment options and mailing address.'] },
  { kind: 'press', digits: '*', expect: ['Main menu.'] },
  { kind: 'press', digits: '5', expect: ['open 24 hours a day'] },
  { kind: 'press', digits: '9', expect: ['open 24 hours a day'] },
  { kind: 'silence', expect: ['hear a choice', 'open 24 hours a day'] },
  { kind: 'status', expect: ['<Response'] },
];
export const WEBHOOKS_PER_CALL = WALK.length;

export type Client = {
  target: Target;
  host: string;
  port: number;
  publicUrl: string;
  agent: Agent;
  thinkMs: number;
  expect(step: Step): string[];
};

export function clientFor(target: Target, baseUrl: string, options: { concurrency: number; thinkMs: number }): Client {
  const { concurrency, thinkMs } = options;
  const url = new URL(baseUrl);
  return {
    target,
    host: url.hostname,
    port: Number(url.port),
    publicUrl: baseUrl,
    // One socket per call in flight, kept alive: each simulated call has one request outstanding at a time.
    agent: new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency, scheduling: 'lifo' }),
    thinkMs,
    expect: (step) => (target === 'line' ? step.expect : [BARE_MARKER]),
  };
}

export type Tally = { requests: number; errors: number; bytes: number; latencies: number[]; failures: string[] };

export const newTally = (): Tally => ({ requests: 0, errors: 0, bytes: 0, latencies: [], failures: [] });

export function post(client: Client, path: string, params: Record<string, string>): Promise<{ status: number; text: string; ms: number }> {
  const body = new URLSearchParams(params).toString();
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, client.publicUrl + path, params);
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': String(Buffer.byteLength(body)),
    'x-twilio-signature': signature,
    'i-twilio-idempotency-token': randomUUID(),
    'user-agent': 'TwilioProxy/1.1',
    accept: '*/*',
  };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: client.host, port: client.port, method: 'POST', path, headers, agent: client.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function urlIn(twiml: string, pattern: RegExp, what: string, publicUrl: string): string {
  const found = pattern.exec(twiml)?.[1];
  if (!found) throw new Error(`no ${what} in the reply`);
  const url = found.replace(/&amp;/g, '&');
  if (!url.startsWith(publicUrl + '/')) throw new Error(`the ${what} ${url} is not under ${publicUrl}`);
  return url.slice(publicUrl.length);
}

/** One simulated call's identity and its last reply (whose <Gather> and <Redirect> the next webhook follows). */
export type CallState = { callSid: string; startedAt: number; previous: string; webhooks: number };

export const newCall = (): CallState => ({ callSid: newCallSid(), startedAt: Date.now(), previous: '', webhooks: 0 });

/**
 * Posts one step of a call as Twilio would, counts it in `tally`, and checks the reply: throws
 * when the status is not 200 or the reply lacks what the step expects. Returns the reply's
 * latency (ms) and its text with XML entities undone.
 */
export async function exchange(client: Client, tally: Tally, call: CallState, step: Step): Promise<{ ms: number; text: string }> {
  // Callers are not in step: each pause is thinkMs ± 50 %.
  if (call.webhooks > 0 && client.thinkMs > 0) await sleep(client.thinkMs * (0.5 + Math.random()));
  call.webhooks += 1;
  let path: string;
  let params: Record<string, string>;
  if (step.kind === 'answer') {
    path = '/voice';
    params = callParams(call.callSid, { CallStatus: 'ringing' });
  } else if (step.kind === 'press') {
    path = urlIn(call.previous, /<Gather[^>]*\saction="([^"]+)"/, '<Gather> action', client.publicUrl);
    params = callParams(call.callSid, { Digits: step.digits, FinishedOnKey: step.pound ? '#' : '', msg: 'Gather End' });
  } else if (step.kind === 'silence') {
    path = urlIn(call.previous, /<Redirect[^>]*>([^<]+)<\/Redirect>/, '<Redirect>', client.publicUrl);
    params = callParams(call.callSid);
  } else {
    path = '/voice/status';
    params = callParams(call.callSid, {
      CallStatus: 'completed',
      CallDuration: String(Math.max(1, Math.round((Date.now() - call.startedAt) / 1000))),
      Duration: '1',
      Timestamp: new Date().toUTCString(),
      CallbackSource: 'call-progress-events',
      SequenceNumber: '0',
    });
  }
  const reply = await post(client, path, params);
  tally.requests += 1;
  tally.bytes += Buffer.byteLength(reply.text);
  tally.latencies.push(reply.ms);
  if (reply.status !== 200) throw new Error(`HTTP ${reply.status} from ${path}: ${reply.text.slice(0, 120)}`);
  const text = reply.text.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  const missing = client.expect(step).filter((wanted) => !text.includes(wanted));
  if (missing.length > 0) {
    throw new Error(`webhook ${call.webhooks} (${step.kind}${'digits' in step ? ` ${step.digits}${step.pound ? '#' : ''}` : ''}, ${path}): reply lacks ${JSON.stringify(missing)}: ${reply.text.slice(0, 200)}`);
  }
  call.previous = reply.text;
  return { ms: reply.ms, text };
}

/** Counts a call that went wrong: it cannot follow its menus any further. */
export function failed(tally: Tally, error: unknown): void {
  tally.errors += 1;
  if (tally.failures.length < 5) tally.failures.push(error instanceof Error ? error.message : String(error));
}

/** The menu walk (WALK): the calls the comparison makes, and the "other" callers of the login mix. */
export async function oneCall(client: Client, tally: Tally): Promise<void> {
  const call = newCall();
  try {
    for (const step of WALK) await exchange(client, tally, call, step);
  } catch (error) {
    failed(tally, error);
  }
}

/** Start calls until `calls` have started, `seconds` have passed, or `until()` says so, whichever comes first. */
export type Limit = { calls: number | null; seconds: number | null; until?: () => boolean };
export type PhaseResult = Tally & { calls: number; wallMs: number; clientCpuMs: number };

/**
 * Keeps `concurrency` calls in flight until `calls` have started or `seconds` have passed;
 * each call is `call` (the menu walk unless told otherwise).
 */
export async function drive(
  client: Client,
  concurrency: number,
  limit: Limit,
  call: (client: Client, tally: Tally) => Promise<void> = oneCall,
): Promise<PhaseResult> {
  const tally = newTally();
  let started = 0;
  const began = performance.now();
  const deadline = limit.seconds === null ? Infinity : began + limit.seconds * 1000;
  const cpu = process.cpuUsage();
  const more = (): boolean => (limit.calls === null || started < limit.calls) && performance.now() < deadline && !limit.until?.();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      // With think time, calls start spread over one pause rather than all at once.
      if (client.thinkMs > 0) await sleep(Math.random() * client.thinkMs);
      while (more()) {
        started += 1;
        await call(client, tally);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { ...tally, calls: started, wallMs: performance.now() - began, clientCpuMs: (used.user + used.system) / 1000 };
}

// --- Figures ------------------------------------------------------------------------------

export type Latency = { p50: number; p90: number; p99: number; max: number; mean: number };

export function latency(samples: number[]): Latency {
  if (samples.length === 0) return { p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  let sum = 0;
  for (const value of sorted) sum += value;
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}

/** CPU time the whole machine spent busy so far (all cores, all processes), in ms. */
export function machineBusyMs(): number {
  let busy = 0;
  for (const cpu of cpus()) busy += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return busy;
}

export async function redisCpuMs(redis: Redis): Promise<number | null> {
  try {
    const info = await redis.info('cpu');
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
    const seconds = field('used_cpu_user') + field('used_cpu_sys');
    return Number.isFinite(seconds) ? seconds * 1000 : null;
  } catch {
    return null;
  }
}

export const fmt = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
