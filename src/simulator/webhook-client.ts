// How the simulated Twilio reaches the line: every webhook signed as Twilio signs it, with a fresh
// idempotency token, sent over HTTP with Twilio's read timeout.
import { randomUUID } from 'node:crypto';
import twilio from 'twilio';

export type HttpMethod = 'GET' | 'POST';

/** A webhook ready to send: `publicUrl` is what Twilio signed, `transportUrl` where it really goes. */
export type SignedRequest = { method: HttpMethod; publicUrl: string; transportUrl: string; body: string | undefined; headers: Record<string, string> };

/** What came back; `failure` says why nothing did (timeout, connection refused). */
export type Delivery = { status: number | null; contentType: string; body: string; failure: string | null };

export type WebhookClientOptions = {
  /** Where the line is reached. */
  baseUrl: string;
  /** The PUBLIC_URL the line signs against, when it differs from baseUrl. */
  publicUrl?: string;
  authToken: string;
  requestTimeoutMs?: number;
};

// Twilio's default read timeout for webhooks (twilio.com/docs/usage/webhooks/webhooks-connection-overrides).
const DEFAULT_TIMEOUT_MS = 15_000;

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export class WebhookClient {
  readonly baseUrl: string;
  readonly publicUrl: string;
  private readonly authToken: string;
  private readonly timeoutMs: number;

  constructor(options: WebhookClientOptions) {
    this.baseUrl = stripSlash(options.baseUrl);
    this.publicUrl = stripSlash(options.publicUrl ?? options.baseUrl);
    this.authToken = options.authToken;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** A URL of the line as a path, for messages. */
  pathOf(publicUrl: string): string {
    return publicUrl.startsWith(this.publicUrl) ? publicUrl.slice(this.publicUrl.length) || '/' : publicUrl;
  }

  // TwiML may name the line by its public URL or by the address we reach it at; Twilio signs
  // with the URL it requested, which is the public one.
  locate(url: string): { publicUrl: string; transportUrl: string } | null {
    const rest = this.underPrefix(url, this.publicUrl) ?? this.underPrefix(url, this.baseUrl);
    if (rest === null) return null;
    const path = rest.replace(/#.*$/, '');
    return { publicUrl: this.publicUrl + path, transportUrl: this.baseUrl + path };
  }

  sign(method: HttpMethod, publicUrl: string, transportUrl: string, params: Record<string, string>): SignedRequest {
    const query = new URLSearchParams(params).toString();
    const join = (url: string) => (query === '' ? url : url + (url.includes('?') ? '&' : '?') + query);
    // A GET carries the parameters in the query string, so they are signed as part of the URL
    // (twilio.com/docs/usage/security).
    const signedUrl = method === 'GET' ? join(publicUrl) : publicUrl;
    const signature = twilio.getExpectedTwilioSignature(this.authToken, signedUrl, method === 'GET' ? {} : params);
    const headers: Record<string, string> = {
      'X-Twilio-Signature': signature,
      'I-Twilio-Idempotency-Token': randomUUID(),
      'User-Agent': 'TwilioProxy/1.1',
      Accept: '*/*',
    };
    if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded; charset=utf-8';
    return {
      method,
      publicUrl: signedUrl,
      transportUrl: method === 'GET' ? join(transportUrl) : transportUrl,
      body: method === 'POST' ? query : undefined,
      headers,
    };
  }

  /** The same request as a new delivery: a fresh idempotency token, the same signature. */
  withFreshToken(request: SignedRequest): SignedRequest {
    return { ...request, headers: { ...request.headers, 'I-Twilio-Idempotency-Token': randomUUID() } };
  }

  async send(request: SignedRequest): Promise<Delivery> {
    try {
      const response = await fetch(request.transportUrl, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text(), failure: null };
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'no answer before the timeout' : `could not reach the line: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`;
      return { status: null, contentType: '', body: '', failure: reason };
    }
  }

  private underPrefix(url: string, prefix: string): string | null {
    if (!url.startsWith(prefix)) return null;
    const rest = url.slice(prefix.length);
    return rest === '' || /^[/?#]/.test(rest) ? rest : null;
  }
}
