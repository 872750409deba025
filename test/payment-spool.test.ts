import { expect } from 'chai';
import { appendFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaymentSpool, type SpooledPayment } from '../src/store/payment-spool.ts';

const payment = (code: string): SpooledPayment => ({ caseNumber: '37004512', amountCents: 5000, confirmationCode: code, receivedAt: '2026-11-24T18:00:00.000Z', callSid: `CA${'0'.repeat(32)}` });

describe('the payment spool', () => {
  let file: string;
  beforeEach(async () => {
    file = join(await mkdtemp(join(tmpdir(), 'spool-')), 'payments.jsonl');
  });

  it('keeps what could not be recorded, reports each failure, and drops what was', async () => {
    const spool = new PaymentSpool(file);
    await spool.append(payment('ch_A'));
    await spool.append(payment('ch_B'));
    const failures: string[] = [];
    const recorded = await spool.replay(async (p) => {
      if (p.confirmationCode === 'ch_B') throw new Error('store away');
    }, (p) => failures.push(p.confirmationCode));
    expect(recorded).to.equal(1);
    expect(failures).to.deep.equal(['ch_B']);
    expect((await spool.pending()).map((p) => p.confirmationCode)).to.deep.equal(['ch_B']);
  });

  it('a torn line does not block the payments after it, and is set aside for a person', async () => {
    const spool = new PaymentSpool(file);
    await spool.append(payment('ch_A'));
    await appendFile(file, '{"caseNumber":"370045');
    await appendFile(file, '\n');
    await spool.append(payment('ch_C'));
    const seen: string[] = [];
    expect(await spool.replay(async (p) => { seen.push(p.confirmationCode); })).to.equal(2);
    expect(seen).to.deep.equal(['ch_A', 'ch_C']);
    expect(await spool.pending()).to.deep.equal([]);
    expect(await readFile(`${file}.torn`, 'utf8')).to.equal('{"caseNumber":"370045\n');
  });

  it('a payment appended while a replay runs is kept', async () => {
    const spool = new PaymentSpool(file);
    await spool.append(payment('ch_A'));
    await spool.replay(async () => {
      await spool.append(payment('ch_LATE'));
    });
    expect((await spool.pending()).map((p) => p.confirmationCode)).to.deep.equal(['ch_LATE']);
  });
});
