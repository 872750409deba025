// Who may use the browser phone. It places calls on the line it is served by, so on a production
// line it is off unless CONSOLE_TOKEN is set, and then only for whoever presents the token: as a
// bearer token, or once in the page's address (/console?token=...), which trades it for a cookie.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Config } from '../config.ts';

export type ConsoleAccess = { kind: 'off' } | { kind: 'open' } | { kind: 'token'; token: string };

export function consoleAccess(config: Pick<Config, 'env' | 'consoleToken'>): ConsoleAccess {
  if (config.consoleToken !== null) return { kind: 'token', token: config.consoleToken };
  return config.env === 'production' ? { kind: 'off' } : { kind: 'open' };
}

export const SESSION_COOKIE = 'console_session';
const SESSION_HOURS = 12;

/** What the cookie carries: derived from the token, so the token itself never sits in the browser. */
function sessionValue(token: string): string {
  return createHmac('sha256', token).update('browser-phone-session').digest('base64url');
}

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieOf(req: Request, name: string): string | null {
  for (const part of (req.header('cookie') ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return null;
}

function refuse(req: Request, res: Response, status: 401, message: string): void {
  res.status(status).set('WWW-Authenticate', 'Bearer realm="browser phone"').set('Cache-Control', 'no-store');
  if (req.path.startsWith('/api/')) {
    res.json({ error: message });
    return;
  }
  res.type('text/plain').send(`${message}\n`);
}

/** The page's own address relative to this request's (relative, so a proxy's path prefix is kept), without any query. */
export function pageLocation(req: Request): string {
  const name = req.baseUrl.split('/').pop() || '.';
  return (req.originalUrl.split('?')[0] ?? '').endsWith('/') ? `../${name}` : name;
}

const NEEDS_TOKEN = 'The browser phone on this line needs its token (CONSOLE_TOKEN): open /console?token=YOUR_TOKEN, or send it as a bearer token.';

/**
 * Lets through a request that carries the token (Authorization: Bearer) or the session cookie; the
 * page's address with ?token= sets the cookie and sends the browser to the page without it.
 */
export function requireConsoleToken(token: string): RequestHandler {
  const session = sessionValue(token);
  return (req, res, next) => {
    const bearer = /^Bearer (.+)$/i.exec(req.header('authorization') ?? '')?.[1];
    if (bearer !== undefined) {
      if (same(bearer, token)) next();
      else refuse(req, res, 401, 'That is not the browser phone token.');
      return;
    }
    const offered = req.query.token;
    if (req.method === 'GET' && req.path === '/' && typeof offered === 'string') {
      if (!same(offered, token)) {
        refuse(req, res, 401, 'That is not the browser phone token.');
        return;
      }
      const secure = req.secure || req.header('x-forwarded-proto') === 'https' ? '; Secure' : '';
      res.set('Set-Cookie', `${SESSION_COOKIE}=${session}; Path=${req.baseUrl || '/'}; Max-Age=${SESSION_HOURS * 3600}; HttpOnly; SameSite=Strict${secure}`);
      // The page again without the token in its address, so it stays out of history and bookmarks.
      res.status(303).set('Location', pageLocation(req)).set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer').end();
      return;
    }
    const cookie = cookieOf(req, SESSION_COOKIE);
    if (cookie !== null && same(cookie, session)) {
      next();
      return;
    }
    refuse(req, res, 401, NEEDS_TOKEN);
  };
}
