import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcrypt';
import { expect } from 'chai';
import { PAYMENT_METHODS } from '../src/domain/caseload.ts';
import type { ParsedCaseload } from '../src/domain/caseload-file.ts';
import { readCaseloadLines } from '../src/domain/caseload-stream.ts';
import { generateCaseload, loginOf, type GenerateOptions, type GenerateSummary } from '../scripts/caseload-generator.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OPTIONS: GenerateOptions = { participants: 2_000, seed: 'test', pinShare: 0.6, cost: 4, asOf: '2026-11-26' };

async function generated(options: GenerateOptions = OPTIONS): Promise<{ text: string; summary: GenerateSummary }> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const summary = await generateCaseload(options, out);
  return { text: Buffer.concat(chunks).toString('utf8'), summary };
}

async function parsed(text: string): Promise<ParsedCaseload> {
  const caseload: ParsedCaseload = { participants: [], cases: [] };
  for await (const batch of readCaseloadLines(Readable.from([text]))) {
    if (batch.kind === 'participants') caseload.participants.push(...batch.items);
    else caseload.cases.push(...batch.items);
  }
  return caseload;
}

type Run = { code: number; stdout: string; stderr: string };

function caseloadCommand(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/caseload.ts', ...args], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('caseload generator', function () {
  this.timeout(30_000);
  let first: { text: string; summary: GenerateSummary };
  let caseload: ParsedCaseload;

  before(async () => {
    first = await generated();
    caseload = await parsed(first.text);
  });

  it('writes a file its own reader accepts: version 2, N participants and N/2 cases', () => {
    expect(first.text.slice(0, first.text.indexOf('\n'))).to.equal('{"version":2}');
    expect(caseload.participants).to.have.length(2_000);
    expect(caseload.cases).to.have.length(1_000);
    expect(first.summary).to.include({ participants: 2_000, cases: 1_000, bytes: Buffer.byteLength(first.text) });
  });

  it('is the same for the same options, and different for another seed', async () => {
    expect((await generated()).text).to.equal(first.text);
    const other = await generated({ ...OPTIONS, seed: 'other' });
    expect(other.text).to.not.equal(first.text);
    expect((await parsed(other.text)).participants).to.have.length(2_000);
  });

  it('gives about the asked share a PIN hash, and SSNs that start with 9', async () => {
    const withHash = caseload.participants.filter((p) => p.pinHash !== null).length / caseload.participants.length;
    expect(withHash).to.be.within(0.55, 0.65);
    expect(caseload.participants.every((p) => p.pin === null && /^9\d{8}$/.test(p.ssn))).to.equal(true);
    expect(caseload.participants.some((p) => p.resetPin)).to.equal(true);
    const none = await parsed((await generated({ ...OPTIONS, participants: 200, pinShare: 0 })).text);
    expect(none.participants.every((p) => p.pinHash === null)).to.equal(true);
  });

  it('has people a test of the line needs: both languages, phones or none, both roles, several cases', () => {
    const people = caseload.participants.map((p) => p.participant);
    expect(new Set(people.map((p) => p.language))).to.have.keys('en', 'es');
    expect(people.some((p) => p.phone === null)).to.equal(true);
    expect(people.filter((p) => p.phone !== null).every((p) => /^\+1\d{3}55501\d{2}$/.test(p.phone ?? ''))).to.equal(true);
    expect(people.every((p) => p.mailingAddress.state === 'CA' && /^9\d{4}$/.test(p.mailingAddress.zip))).to.equal(true);
    const paying = new Map<string, number>();
    for (const c of caseload.cases) paying.set(c.payingParticipantId, (paying.get(c.payingParticipantId) ?? 0) + 1);
    expect([...paying.values()].some((n) => n >= 2), 'someone pays on several cases').to.equal(true);
    expect(caseload.cases.some((c) => paying.has(c.receivingParticipantId)), 'someone pays on one case and receives on another').to.equal(true);
    expect(caseload.cases.some((c) => c.status === 'closed')).to.equal(true);
  });

  it('gives every case 3 payments by every method, some card payments with a confirmation code, and appointments for each parent', () => {
    const payments = caseload.cases.flatMap((c) => c.payments);
    expect(caseload.cases.every((c) => c.payments.length === 3)).to.equal(true);
    expect(new Set(payments.map((p) => p.method))).to.have.keys(...PAYMENT_METHODS);
    const cards = payments.filter((p) => p.method === 'card');
    expect(cards.some((p) => p.confirmationCode !== undefined) && cards.some((p) => p.confirmationCode === undefined)).to.equal(true);
    const appointments = caseload.cases.flatMap((c) => c.appointments);
    expect(new Set(appointments.map((a) => a.attendee))).to.have.keys('paying', 'receiving', 'both');
    expect(new Set(appointments.map((a) => a.kind))).to.have.keys('court-hearing', 'appointment');
    const asOf = Date.parse('2026-11-26T08:00:00Z');
    expect(appointments.some((a) => Date.parse(a.at) > asOf) && appointments.some((a) => Date.parse(a.at) < asOf)).to.equal(true);
    expect(payments.every((p) => Date.parse(p.receivedAt) < asOf + 86_400_000)).to.equal(true);
  });

  it('writes every time with the Pacific offset in force at that moment', () => {
    const offsetFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', timeZoneName: 'longOffset' });
    const written = [...first.text.matchAll(/"(?:receivedAt|at)":"([^"]+)"/g)].map((m) => m[1] as string);
    expect(written.length).to.be.above(3_000);
    for (const time of written.slice(0, 2_000)) {
      const pacific = offsetFormat.formatToParts(new Date(time)).find((part) => part.type === 'timeZoneName')?.value;
      expect(`GMT${time.slice(-6)}`, time).to.equal(pacific);
    }
  });

  it('tells any participant\'s SSN and PIN from the ID alone, as the file has them', async () => {
    for (const entry of caseload.participants.slice(0, 60)) {
      const login = loginOf(entry.participant.participantId, OPTIONS);
      expect(login?.ssn).to.equal(entry.ssn);
      expect(login?.resetPin).to.equal(entry.resetPin);
      expect(login?.pin === null).to.equal(entry.pinHash === null);
      if (login?.pin && entry.pinHash) expect(await bcrypt.compare(login.pin, entry.pinHash), entry.participant.participantId).to.equal(true);
    }
    const last = caseload.participants[1_999]?.participant.participantId ?? '';
    expect(loginOf(last, OPTIONS)?.index).to.equal(1_999);
    expect(loginOf(last, { ...OPTIONS, seed: 'other' })?.ssn).to.not.equal(caseload.participants[1_999]?.ssn);
  });

  it('samples log-ins that are in the file', () => {
    const ids = new Set<string>(caseload.participants.map((p) => p.participant.participantId));
    expect(first.summary.samples.length).to.be.at.least(4);
    for (const sample of first.summary.samples) expect(ids.has(sample.participantId), sample.shows).to.equal(true);
    expect(first.summary.samples.map((s) => s.shows)).to.include.members([
      'pays on a case', 'receives on a case', 'Spanish-speaking, with a PIN', 'pays on several cases', 'pays on one case, receives on another',
      'no PIN yet: must use Forgot my PIN',
    ]);
    const sample = (shows: string) => first.summary.samples.find((s) => s.shows === shows)?.participantId;
    const pays = (id: string | undefined) => caseload.cases.filter((c) => c.payingParticipantId === id).length;
    const receives = (id: string | undefined) => caseload.cases.filter((c) => c.receivingParticipantId === id).length;
    expect(pays(sample('pays on a case'))).to.be.at.least(1);
    expect(receives(sample('receives on a case'))).to.be.at.least(1);
    expect(pays(sample('pays on several cases'))).to.be.at.least(2);
    const both = sample('pays on one case, receives on another');
    expect([pays(both) > 0, receives(both) > 0]).to.deep.equal([true, true]);
    const spanish = caseload.participants.find((p) => p.participant.participantId === sample('Spanish-speaking, with a PIN'));
    expect([spanish?.participant.language, spanish?.pinHash !== null]).to.deep.equal(['es', true]);
    expect(caseload.participants.find((p) => p.participant.participantId === sample('no PIN yet: must use Forgot my PIN'))?.pinHash).to.equal(null);
  });
});

describe('npm run caseload', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'caseload-command-test-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates a file, says so in one line when not on a terminal, and the login command agrees with it', async () => {
    const out = join(dir, 'small.jsonl');
    const run = await caseloadCommand(['generate', '--participants', '100', '--out', out, '--seed', '7', '--cost', '4', '--as-of', '2026-11-26']);
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(new RegExp(`^Wrote 100 participants and 50 cases to ${out} \\(0\\.\\d MB\\) in \\d+\\.\\d s; seed 7, as of 2026-11-26; log-ins: npm run caseload -- login ID --seed 7\\n$`));

    const entry = (await parsed(await readFile(out, 'utf8'))).participants.find((p) => p.pinHash !== null);
    const id = entry?.participant.participantId ?? '';
    const login = await caseloadCommand(['login', id, '--seed', '7']);
    expect(login.code).to.equal(0);
    const [, ssn, pin] = /SSN (\d{9}), PIN (\d{6})/.exec(login.stdout) ?? [];
    expect(ssn).to.equal(entry?.ssn);
    expect(await bcrypt.compare(pin ?? '', entry?.pinHash ?? '')).to.equal(true);
  });

  it('prints its usage for --help, and refuses bad options with it', async () => {
    const help = await caseloadCommand(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^Usage: npm run caseload -- generate --participants N --out FILE\.jsonl/);
    for (const args of [['generate', '--participants', '10', '--out', join(dir, 'x.json')], ['generate', '--out', join(dir, 'x.jsonl')],
      ['generate', '--participants', '1.5', '--out', join(dir, 'x.jsonl')], ['generate', '--participants', '10', '--out', join(dir, 'x.jsonl'), '--cost', '3'],
      ['login', '123'], ['frobnicate']]) {
      const run = await caseloadCommand(args);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr, args.join(' ')).to.contain('Usage: npm run caseload');
    }
  });
});
