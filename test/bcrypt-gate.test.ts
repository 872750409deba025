import { expect } from 'chai';
import { BcryptGate } from '../src/domain/bcrypt-gate.ts';

describe('BcryptGate', () => {
  it('runs at most its limit of bcrypt operations at once, and all of them', async () => {
    const gate = new BcryptGate(2);
    const hash = await gate.hash('1234', 4);
    let running = 0;
    let most = 0;
    const track = gate as unknown as { run<T>(work: () => Promise<T>): Promise<T> };
    const original = track.run.bind(gate);
    track.run = (work) => original(async () => {
      running++;
      most = Math.max(most, running);
      try {
        return await work();
      } finally {
        running--;
      }
    });
    const results = await Promise.all(Array.from({ length: 7 }, (_, i) => gate.compare(i % 2 ? '1234' : '9999', hash)));
    expect(most).to.equal(2);
    expect(results).to.deep.equal([false, true, false, true, false, true, false]);
  });

  it('defaults to one fewer than the cores, and at least one', () => {
    expect(new BcryptGate().limit).to.be.at.least(1);
  });
});
