// One keep-alive HTTP/1.1 connection carrying one request at a time, as each of Twilio's
// connections to a webhook does. It writes a request the caller built whole and reads just
// enough of the answer (status, length, body), because on a machine with few cores every
// microsecond the load generator spends is one the server under test does not get: node:http's
// client costs about as much CPU per request as the bare Express app it would measure.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export type HttpReply = { status: number; body: Buffer; ms: number };

const HEAD_END = Buffer.from('\r\n\r\n');
// Twilio gives up on a webhook after 15 s; the bench waits twice that before calling it lost.
const TIMEOUT_MS = 30_000;

type Pending = { resolve(reply: HttpReply): void; reject(error: Error): void; started: number };

export class KeepAliveConnection {
  private socket: Socket | null = null;
  private pending: Pending | null = null;
  private received: Buffer[] = [];
  private receivedBytes = 0;

  constructor(private readonly host: string, private readonly port: number) {}

  /**
   * Sends `request` (the request line, headers and body, ASCII) and resolves with the reply.
   * `ms` runs from just before the write to the reply's last byte.
   */
  send(request: string): Promise<HttpReply> {
    if (this.pending) return Promise.reject(new Error('one request at a time on a connection'));
    const socket = this.socket ?? this.open();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, started: performance.now() };
      socket.setTimeout(TIMEOUT_MS);
      socket.write(request, 'latin1');
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    // Events of a socket given up on (after an error) must not touch the request on its successor.
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.receive(chunk);
    });
    socket.on('timeout', () => socket.destroy(new Error(`no reply within ${TIMEOUT_MS / 1000} s`)));
    socket.on('error', (error) => {
      if (this.socket === socket) this.fail(error);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.fail(new Error('the server closed the connection'));
    });
    this.socket = socket;
    return socket;
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    this.received = [];
    this.receivedBytes = 0;
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    pending?.reject(error);
  }

  private receive(chunk: Buffer): void {
    this.received.push(chunk);
    this.receivedBytes += chunk.length;
    const data = this.received.length === 1 ? chunk : Buffer.concat(this.received, this.receivedBytes);
    this.received = [data];
    const headEnd = data.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = data.toString('latin1', 0, headEnd);
    const bodyStart = headEnd + HEAD_END.length;
    let body: Buffer | null;
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    if (length) {
      const end = bodyStart + Number(length[1]);
      body = data.length >= end ? data.subarray(bodyStart, end) : null;
    } else if (/\r\ntransfer-encoding:[ \t]*chunked/i.test(head)) {
      try {
        body = dechunk(data, bodyStart);
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
    } else {
      this.fail(new Error('a reply with neither Content-Length nor chunked encoding'));
      return;
    }
    if (body === null) return;
    const pending = this.pending;
    this.pending = null;
    this.received = [];
    this.receivedBytes = 0;
    this.socket?.setTimeout(0);
    if (/\r\nconnection:[ \t]*close/i.test(head)) this.close();
    if (!pending) return;
    const status = Number(head.slice(9, 12));
    pending.resolve({ status, body, ms: performance.now() - pending.started });
  }
}

/** The body of a chunked reply, or null while it is still incomplete. */
function dechunk(data: Buffer, from: number): Buffer | null {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at, 'latin1');
    if (lineEnd < 0) return null;
    const size = parseInt(data.toString('latin1', at, lineEnd), 16);
    if (!Number.isFinite(size)) throw new Error('a malformed chunk in a chunked reply');
    const start = lineEnd + 2;
    if (size === 0) return data.indexOf('\r\n', start, 'latin1') < 0 ? null : Buffer.concat(parts);
    if (data.length < start + size + 2) return null;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}
