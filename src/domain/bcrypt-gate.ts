// bcrypt runs on libuv's thread pool, off the event loop, but on a small machine its threads
// still take the cores the event loop needs: npm run bench showed the other callers' p99 going
// from ~20 ms to ~150 ms with 4 bcrypt threads on 2 cores, and to ~45 ms with one. So the line
// runs at most (cores - 1) bcrypt operations at once; the rest wait their turn.
import bcrypt from 'bcrypt';
import { availableParallelism } from 'node:os';

export class BcryptGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit = Math.max(1, availableParallelism() - 1)) {}

  private async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  hash(secret: string, cost: number): Promise<string> {
    return this.run(() => bcrypt.hash(secret, cost));
  }

  compare(secret: string, hash: string): Promise<boolean> {
    return this.run(() => bcrypt.compare(secret, hash));
  }
}
