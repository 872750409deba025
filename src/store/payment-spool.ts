// Card payments that succeeded at Twilio while the store could not take them. Each is appended,
// fsync'd, to a local journal before the caller is told, and replayed into the store (which
// records a confirmation code once, so a replay is always safe) until it is in.
import { open, readFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export type SpooledPayment = { caseNumber: string; amountCents: number; confirmationCode: string; receivedAt: string; callSid: string; ticket?: string };

export class PaymentSpool {
  private replaying: Promise<number> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {}

  /** File work one at a time in this process, so an append never lands in a file being rewritten. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  append(payment: SpooledPayment): Promise<void> {
    return this.serial(() => this.appendNow(payment));
  }

  private async appendNow(payment: SpooledPayment): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const handle = await open(this.file, 'a', 0o600);
    try {
      await handle.write(`${JSON.stringify(payment)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async pending(): Promise<SpooledPayment[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const payments: SpooledPayment[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        payments.push(JSON.parse(line) as SpooledPayment);
      } catch {
        // A torn line is an append that never finished its fsync, so its caller was never told the
        // payment was kept; it must not block the ones after it (rewrite() sets it aside).
      }
    }
    return payments;
  }

  /** Lines that are not whole JSON go to `<file>.torn` for a person to look at, not into the void. */
  private async setAsideTornLines(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return;
    }
    const torn = text.split('\n').filter((line) => {
      if (line.trim() === '') return false;
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    if (torn.length === 0) return;
    const handle = await open(`${this.file}.torn`, 'a', 0o600);
    try {
      await handle.write(torn.map((line) => `${line}\n`).join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Records what it can; keeps the rest for the next replay. Returns how many were recorded. */
  replay(record: (payment: SpooledPayment) => Promise<void>, onFailure: (payment: SpooledPayment, error: unknown) => void = () => {}): Promise<number> {
    this.replaying ??= this.replayOnce(record, onFailure).finally(() => {
      this.replaying = null;
    });
    return this.replaying;
  }

  private async replayOnce(record: (payment: SpooledPayment) => Promise<void>, onFailure: (payment: SpooledPayment, error: unknown) => void): Promise<number> {
    const pending = await this.pending();
    if (pending.length === 0) return 0;
    const left: SpooledPayment[] = [];
    for (const payment of pending) {
      try {
        await record(payment);
      } catch (error) {
        left.push(payment);
        onFailure(payment, error);
      }
    }
    // Payments appended while we replayed are kept: read again and drop only what was recorded.
    const recorded = new Set(pending.filter((p) => !left.includes(p)).map((p) => p.confirmationCode));
    await this.serial(() => this.rewrite(recorded));
    return recorded.size;
  }

  private async rewrite(recorded: Set<string>): Promise<void> {
    const now = await this.pending();
    await this.setAsideTornLines();
    const keep = now.filter((p) => !recorded.has(p.confirmationCode));
    const temporary = `${this.file}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.write(keep.map((p) => `${JSON.stringify(p)}\n`).join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.file);
  }
}
