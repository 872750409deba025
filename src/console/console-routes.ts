// The browser phone (/console, docs/staff.md): the page, and the small JSON API its buttons post
// to. Each call is the simulated Twilio phone posting signed webhooks to this very line, over
// the loopback address the page's request came in on, signed with the line's auth token here on
// the server (the browser never sees it). What happens reaches the page on an event feed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import type { Config } from '../config.ts';
import { holidayOn, representativesAvailable } from '../domain/hours.ts';
import { stateName } from '../engine/turn.ts';
import { describeError, type Logger } from '../log.ts';
import { menuMapSvg } from '../map/menu-map-svg.ts';
import { menuMap } from '../map/menu-map.ts';
import { formatInstant, formatSortableMinute } from '../reports/pacific.ts';
import { CallScriptError, findCallScripts, loadCallScript, parseCallScript, runCallScript, type CallScript } from '../simulator/call-script.ts';
import { PhoneError } from '../simulator/phone.ts';
import type { CallStore } from '../store/store.ts';
import { ConsoleCall } from './console-call.ts';
import { consoleAccess, pageLocation, requireConsoleToken } from './console-access.ts';
import { consolePage } from './console-page.ts';
import { pacificWallTime, type SettableClock } from './settable-clock.ts';

export type ConsoleOptions = {
  config: Config;
  store: CallStore;
  /** The line's clock. */
  now: () => Date;
  /** The same clock when the browser phone may set it; null when the line runs on real time. */
  settableClock: SettableClock | null;
  logger: Logger;
};

/** The call scripts shipped with the line, offered by name in the page. */
export const SHIPPED_SCRIPTS = fileURLToPath(new URL('../../test/calls/', import.meta.url));
const ASSETS = new URL('./public/', import.meta.url);

const MAX_LIVE_CALLS = 20;
const KEEP_ENDED_MS = 10 * 60_000;
const IDLE_HANGUP_MS = 60 * 60_000;
const FEED_MS = 15_000;
const MAX_WORDS = 200;

export const CLOCK_REFUSED =
  "This line runs on the real clock, so the browser phone cannot set it. Start the browser phone with `npm run console` to try other days and times.";

export const SCRIPT_PAYMENT_REFUSED =
  'This script pays by card, and the browser phone does not enter card details on a production line: the simulated card would be recorded as a real payment.';

class BadInput extends Error {}

function text(body: unknown, field: string): string | null {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'string' ? value : null;
}

/** Where this line answers on this machine: the address and port the page's own request reached. */
function loopbackOf(req: Request): string {
  const address = req.socket.localAddress ?? '127.0.0.1';
  const host = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${req.socket.localPort}`;
}

/** The browser phone's routes, to mount at /console; null when it is off (production without CONSOLE_TOKEN). */
export function consoleRoutes(options: ConsoleOptions): Router | null {
  const { config, store, now, settableClock, logger } = options;
  const access = consoleAccess(config);
  if (access.kind === 'off') return null;
  const production = config.env === 'production';
  const calls = new Map<string, ConsoleCall>();
  let page: ReturnType<typeof consolePage> | null = null;
  let scriptRunning = false;
  const assets = {
    'console.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('console.js', ASSETS), 'utf8') },
    'console.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('console.css', ASSETS), 'utf8') },
  };

  const target = (req: Request) => ({ baseUrl: loopbackOf(req), publicUrl: config.publicUrl, authToken: config.twilioAuthToken });
  const stateOf = async (callSid: string): Promise<string | null> => {
    try {
      const session = await store.getSession(callSid);
      return session ? stateName(session.snapshot as { value: unknown }) : null;
    } catch {
      return null;
    }
  };
  const clockView = () => {
    const at = now();
    return {
      now: at.toISOString(),
      shown: formatInstant(at),
      input: formatSortableMinute(at).replace(' ', 'T'),
      settable: settableClock !== null,
      isSet: settableClock?.isSet ?? false,
      officeOpen: representativesAvailable(at),
      holiday: holidayOn(at),
    };
  };
  const sweep = () => {
    const time = Date.now();
    for (const [id, call] of calls) {
      if (call.ended && time - call.lastActive > KEEP_ENDED_MS) calls.delete(id);
      else if (!call.ended && time - call.lastActive > IDLE_HANGUP_MS) void call.hangup().catch(() => undefined);
    }
  };
  const shippedScripts = async (): Promise<string[]> => {
    try {
      return (await findCallScripts([SHIPPED_SCRIPTS])).map((file) => file.slice(SHIPPED_SCRIPTS.length));
    } catch (error) {
      if (error instanceof CallScriptError) return [];
      throw error;
    }
  };

  const router = express.Router();
  router.use((_req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });
  if (access.kind === 'token') router.use(requireConsoleToken(access.token));

  router.get('/', (req, res) => {
    if ((req.originalUrl.split('?')[0] ?? '').endsWith('/')) {
      res.redirect(301, pageLocation(req));
      return;
    }
    page ??= consolePage({ mapSvg: menuMapSvg(menuMap()), production });
    res.status(200)
      .set({ 'Content-Security-Policy': page.contentSecurityPolicy, 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' })
      .type('text/html; charset=utf-8')
      .send(page.html);
  });
  for (const [name, asset] of Object.entries(assets)) {
    router.get(`/${name}`, (_req, res) => {
      res.status(200).set('Cache-Control', 'no-cache').type(asset.type).send(asset.body);
    });
  }

  const api = express.Router();
  api.use((req, res, next) => {
    res.set('Cache-Control', 'no-store');
    // JSON only: a form or text/plain post from another site cannot drive the phone.
    if ((req.method === 'POST' || req.method === 'PUT') && !req.is('application/json')) {
      res.status(415).json({ error: 'Send JSON (Content-Type: application/json).' });
      return;
    }
    next();
  });
  api.use(express.json({ limit: '100kb' }));

  const withCall = (act: (call: ConsoleCall, body: unknown) => Promise<void>) => async (req: Request, res: Response) => {
    const call = calls.get(String(req.params.id));
    if (!call) {
      res.status(404).json({ error: 'No such call: it ended a while ago, or the line restarted.' });
      return;
    }
    try {
      await act(call, req.body);
    } catch (error) {
      if (error instanceof BadInput) {
        res.status(400).json({ error: error.message });
        return;
      }
      if (!(error instanceof PhoneError)) throw error;
      res.status(409).json({ error: error.message, status: call.status() });
      return;
    }
    res.json({ status: call.status() });
  };

  api.post('/calls', async (req, res) => {
    sweep();
    if ([...calls.values()].filter((call) => !call.ended).length >= MAX_LIVE_CALLS) {
      res.status(429).json({ error: `${MAX_LIVE_CALLS} browser phone calls are already in progress; hang one up first.` });
      return;
    }
    const call = new ConsoleCall({ phone: target(req), stateOf, cardEntry: !production });
    calls.set(call.id, call);
    logger.info('browser phone call', { call: call.callSid });
    await call.dial();
    res.status(201).json({ id: call.id, status: call.status() });
  });
  api.post('/calls/:id/keys', withCall(async (call, body) => {
    const keys = (text(body, 'keys') ?? '').replace(/\s+/g, '');
    if (!/^[0-9*#]{1,32}$/.test(keys)) throw new BadInput('keys are 0-9, * and #');
    await call.press(keys);
  }));
  api.post('/calls/:id/speech', withCall(async (call, body) => {
    const words = (text(body, 'words') ?? '').trim();
    if (words === '' || words.length > MAX_WORDS) throw new BadInput(`say some words (at most ${MAX_WORDS} characters)`);
    await call.say(words);
  }));
  api.post('/calls/:id/silence', withCall((call) => call.silence()));
  api.post('/calls/:id/hangup', withCall((call) => call.hangup()));

  // Server-Sent Events: every event of the call from the one after Last-Event-ID, then each as it
  // happens, until the call has ended.
  api.get('/calls/:id/events', (req, res) => {
    const call = calls.get(req.params.id);
    if (!call) {
      res.status(404).json({ error: 'No such call: it ended a while ago, or the line restarted.' });
      return;
    }
    const last = req.header('last-event-id');
    let next = last !== undefined && /^\d{1,9}$/.test(last) ? Number(last) + 1 : 0;
    if (call.ended && next >= call.events.length) {
      // Everything was sent: 204 tells an EventSource not to connect again.
      res.status(204).end();
      return;
    }
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write('retry: 1000\n\n');
    const send = () => {
      while (next < call.events.length) {
        const event = call.events[next];
        res.write(`id: ${next}\ndata: ${JSON.stringify(event)}\n\n`);
        next += 1;
        if (event?.kind === 'status' && event.ended) {
          stop();
          res.end();
          return;
        }
      }
    };
    // Each feed ends after a while and the EventSource connects again from its Last-Event-ID, so
    // an open page never holds up a line that is shutting down (server.close waits for responses).
    const renew = setTimeout(() => {
      stop();
      res.end();
    }, FEED_MS);
    const unsubscribe = call.subscribe(send);
    const stop = () => {
      clearTimeout(renew);
      unsubscribe();
    };
    req.on('close', stop);
    send();
  });

  api.get('/clock', (_req, res) => {
    res.json(clockView());
  });
  api.put('/clock', (req, res) => {
    if (!settableClock) {
      res.status(409).json({ error: CLOCK_REFUSED, clock: clockView() });
      return;
    }
    const body = req.body as Record<string, unknown> | undefined;
    if (body?.at === null) {
      settableClock.set(null);
      res.json(clockView());
      return;
    }
    const wanted = text(body, 'at') ?? '';
    const at = pacificWallTime(wanted);
    if (!at) {
      res.status(400).json({ error: `"${wanted}" is no time on the Pacific clock: give a date and time like 2026-11-24T10:00.`, clock: clockView() });
      return;
    }
    settableClock.set(at);
    res.json(clockView());
  });

  api.get('/scripts', async (_req, res) => {
    res.json({ scripts: await shippedScripts() });
  });
  api.post('/scripts/run', async (req, res) => {
    const file = text(req.body, 'file');
    const yaml = text(req.body, 'yaml');
    let script: CallScript;
    try {
      if (file !== null) {
        if (!(await shippedScripts()).includes(file)) {
          res.status(404).json({ error: `No shipped call script "${file}".` });
          return;
        }
        script = await loadCallScript(SHIPPED_SCRIPTS + file);
      } else if (yaml !== null && yaml.trim() !== '') {
        script = parseCallScript(yaml, 'pasted script');
      } else {
        res.status(400).json({ error: 'Choose a shipped script, or paste one.' });
        return;
      }
    } catch (error) {
      if (!(error instanceof CallScriptError)) throw error;
      res.status(422).json({ error: error.message });
      return;
    }
    if (production && script.steps.some((step) => step.kind === 'pay')) {
      res.status(409).json({ error: SCRIPT_PAYMENT_REFUSED });
      return;
    }
    if (scriptRunning) {
      res.status(409).json({ error: 'Another call script is running on this line; try again when it has finished.' });
      return;
    }
    scriptRunning = true;
    try {
      const notes: string[] = [];
      const play = () => runCallScript(script, target(req));
      let result;
      if (script.at && settableClock) {
        notes.push(`The line's clock read ${script.atText} when the call started, and was put back afterwards.`);
        result = await settableClock.borrow(script.at, play);
      } else {
        if (script.at) notes.push(`at: ${script.atText} is ignored: this line runs on the real clock.`);
        result = await play();
      }
      logger.info('browser phone script', { script: file ?? 'pasted', passed: result.passed });
      res.json({ name: script.name, passed: result.passed, notes, events: result.events });
    } finally {
      scriptRunning = false;
    }
  });

  // Nothing the caller typed goes to a log: a body that is not JSON is answered, never echoed or logged.
  const failed: ErrorRequestHandler = (error, req, res, _next) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: status === 413 ? 'The request is too large.' : 'The request is not valid JSON.' });
      return;
    }
    logger.error('browser phone failed', { path: req.path, error: describeError(error) });
    if (!res.headersSent) res.status(500).json({ error: 'The browser phone failed; the line has logged why.' });
  };
  api.use(failed);
  router.use('/api', api);
  return router;
}
