// The agency's export (spec section 12, src/jobs/export.ts): every change the line recorded in
// exactly one JSON Lines file, whatever runs stop half-way or run at once; never an SSN, a PIN,
// a hash or a card detail. Against the in-process store, a real Redis and a Redis Cluster.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Cluster, Redis } from 'ioredis';
import type { CaseNumber, Participant, ParticipantId } from '../src/domain/caseload.ts';
import { parseCaseloadFile } from '../src/domain/caseload-file.ts';
import { prepareCaseload } from '../src/domain/caseload-loader.ts';
import type { CaseloadStore, LineChanges, LoadedCaseload } from '../src/domain/caseload-store.ts';
import { DEFAULT_IDENTIFICATION_POLICY } from '../src/domain/identification.ts';
import { cents } from '../src/domain/money.ts';
import { encryptForLetter } from '../src/domain/pin.ts';
import { exportChanges, exportedChange, type ExportOptions, type ExportSummary, type ExportedChange } from '../src/jobs/export.ts';
import { MemoryCaseloadStore } from '../src/store/caseload-memory.ts';
import { RedisCaseloadStore } from '../src/store/caseload-redis.ts';
import { RedisRun, testRedisClient, testRedisUrl } from './support/redis.ts';
import { clusterAdmin, sharedCluster } from './support/redis-servers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECRETS = { ssnHashKey: 'export-test-ssn-key', bcryptCost: 4 };
const LETTER_KEY = 'export-test-pin-letter-key-0123456789abcdef';
const POLICY = DEFAULT_IDENTIFICATION_POLICY;
const DAY = 86_400_000;

const PEOPLE = [
  { participantId: '1000000001', ssn: '900000001', pin: '604281', firstName: 'Ada', phone: '+12095550101' },
  { participantId: '1000000002', ssn: '900000002', pin: '57193046', firstName: 'Ben' },
  { participantId: '1000000003', ssn: '900000003', pin: '3852', firstName: 'Cy' },
] as const;
const [ADA, BEN, CY] = PEOPLE.map((p) => p.participantId as ParticipantId) as [ParticipantId, ParticipantId, ParticipantId];
const CASE_1 = '555000001' as CaseNumber; // Ada pays, Ben receives
const CASE_2 = '555000002' as CaseNumber; // Cy pays, Ada receives

let loaded: Promise<LoadedCaseload> | null = null;
function caseload(): Promise<LoadedCaseload> {
  const address = { line1: '1 Main Street', line2: null, city: 'Stockton', state: 'CA', zip: '95202' };
  const money = { monthlyObligation: '300.00', currentMonthDue: '300.00', arrearsPrincipal: '0.00', arrearsInterest: '0.00' };
  const parsed = parseCaseloadFile({
    version: 1,
    participants: PEOPLE.map((p) => ({ ...p, lastName: 'Okafor', language: 'en', mailingAddress: address })),
    cases: [
      { caseNumber: CASE_1, county: 'San Joaquin', status: 'open', payingParticipantId: ADA, receivingParticipantId: BEN, ...money, payments: [], appointments: [] },
      { caseNumber: CASE_2, county: 'San Joaquin', status: 'open', payingParticipantId: CY, receivingParticipantId: ADA, ...money, payments: [], appointments: [] },
    ],
  });
  if (!parsed.ok) throw new Error(parsed.error);
  return (loaded ??= prepareCaseload(parsed.caseload, SECRETS));
}

const addressee = (p: Participant, at: Date) => ({
  participantId: p.participantId, language: p.language, name: `${p.firstName} ${p.lastName}`, address: p.mailingAddress, createdAt: at.toISOString(),
});

/** A store, what the job sees of it (over another connection, for Redis), and how many changes it still keeps. */
type Harness = { store: CaseloadStore & LineChanges; job(): LineChanges; kept(): Promise<number> };

/** Every line of every export file in `dir`, by file; fails on anything but finished files. */
async function exportFiles(dir: string): Promise<Map<string, string>> {
  const names = (await readdir(dir)).sort();
  expect(names.filter((n) => !/^line-changes_\d+-\d+_\d+-\d+\.jsonl$/.test(n)), 'only finished export files are left').to.deep.equal([]);
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8')] as const)));
}

const linesOf = (files: Map<string, string>): ExportedChange[] =>
  [...files.values()].flatMap((text) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as ExportedChange));

const crashAt = (n: number, step: string) => {
  let seen = 0;
  return () => {
    seen += 1;
    if (seen === n) throw new Error(`the export stopped ${step}`);
  };
};

function exportContract(name: string, open: () => Promise<Harness>): void {
  describe(`the agency's export: ${name}`, function () {
    this.timeout(30_000);
    let h: Harness;
    let dir: string;
    let clock: Date;
    let n = 0;
    const run = (options: Partial<ExportOptions> = {}, changes: LineChanges = h.job()): Promise<ExportSummary> =>
      exportChanges(changes, { outDir: dir, keepDays: 30, clock: () => clock, ...options });
    /** A PIN change for one of the three, at a time of its own, so each change can be told apart. */
    const pinChange = async () => {
      n += 1;
      const at = new Date(Date.UTC(2026, 10, 1) + n * 1000);
      await h.store.changePin(PEOPLE[n % 3]!.participantId as ParticipantId, `hash-${n}`, at);
      return at.toISOString();
    };

    beforeEach(async function () {
      h = await open();
      await h.store.replaceCaseload(await caseload());
      dir = await mkdtemp(join(tmpdir(), 'export-'));
      clock = new Date();
    });

    afterEach(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    it('writes each kind of change as one JSON line with its fields, in order, and nothing else', async function () {
      const at = new Date('2026-11-27T07:30:00Z'); // 11:30 PM on November 26 in California
      const ada = (await h.store.participant(ADA))!;
      await h.store.recordPayment(CASE_1, { receivedAt: at.toISOString(), amount: cents(5000), method: 'card', confirmationCode: 'ch_EXPORT1' }, { nonce: 'n-1', keepMs: 60_000 });
      await h.store.updatePhone(ADA, '+12095550177', { at: at.toISOString(), participantId: ADA, action: 'phone-update', oldPhone: '0101', newPhone: '0177', via: 'phone-line' }, { perDay: 3, day: '2026-11-26' });
      await h.store.changePin(BEN, 'hash-of-a-new-pin', at);
      await h.store.requestPinReset(ADA, 'hash-mailed', { ...addressee(ada, at), kind: 'pin-reset', encryptedPin: encryptForLetter('271828', LETTER_KEY) }, at, POLICY);
      await h.store.usePendingPin(ADA, 'hash-mailed', at);
      await h.store.queueLetter({ ...addressee(ada, at), kind: 'form', form: 'payment-coupons' }, 'form-1');

      const summary = await run();

      const files = await exportFiles(dir);
      expect(files.size).to.equal(1);
      expect(summary).to.deep.equal({ files: [{ file: [...files.keys()][0], changes: 6, result: 'written' }], changes: 6 });
      const lines = linesOf(files);
      const ids = lines.map((l) => l.id);
      for (const id of ids) expect(id).to.match(/^\d+-\d+$/);
      const asNumbers = ids.map((id) => id.split('-').map(Number) as [number, number]);
      for (let i = 1; i < asNumbers.length; i++) {
        const [[ms, seq], [prevMs, prevSeq]] = [asNumbers[i]!, asNumbers[i - 1]!];
        expect(ms > prevMs || (ms === prevMs && seq > prevSeq), `${ids[i]} after ${ids[i - 1]}`).to.equal(true);
      }
      const when = at.toISOString();
      expect(lines.map(({ id, ...rest }) => (void id, rest))).to.deep.equal([
        { kind: 'payment', at: when, participantId: ADA, caseNumber: CASE_1, amount: '50.00', confirmationCode: 'ch_EXPORT1', creditedOn: '2026-11-26', method: 'card' },
        { kind: 'phone', at: when, participantId: ADA, phone: '+12095550177' },
        { kind: 'pin', at: when, participantId: BEN, event: 'changed' },
        { kind: 'pin', at: when, participantId: ADA, event: 'reset-requested' },
        { kind: 'pin', at: when, participantId: ADA, event: 'first-used' },
        { kind: 'letter', at: when, participantId: ADA, form: 'payment-coupons' },
      ]);
      // The fields in the agreed order: id, kind, at, participantId first.
      for (const text of [...files.values()][0]!.split('\n').filter(Boolean)) expect(Object.keys(JSON.parse(text)).slice(0, 4)).to.deep.equal(['id', 'kind', 'at', 'participantId']);
    });

    it('exports no SSN, PIN, PIN hash, sealed PIN or card detail, ever', async function () {
      const at = new Date('2026-11-26T18:00:00Z');
      const ada = (await h.store.participant(ADA))!;
      const sealed = encryptForLetter('271828', LETTER_KEY);
      const hash = (await caseload()).participants[1]!.pinHash!;
      await h.store.changePin(BEN, hash, at);
      await h.store.requestPinReset(ADA, '$2b$04$mailedmailedmailedmailedmailedmailedmailedmailedmaile', { ...addressee(ada, at), kind: 'pin-reset', encryptedPin: sealed }, at, POLICY);
      await h.store.recordPayment(CASE_2, { receivedAt: at.toISOString(), amount: cents(424_242), method: 'card', confirmationCode: 'ch_PRIVACY' }, { nonce: 'n-2', keepMs: 60_000 });
      await run();
      const text = [...(await exportFiles(dir)).values()].join('');
      expect(text).to.contain('ch_PRIVACY').and.contain('"4242.42"');
      for (const secret of [...PEOPLE.flatMap((p) => [p.ssn, p.pin]), hash, '$2b$', '$2a$', 'mailedmailed', sealed, '271828', '1 Main Street', 'Okafor']) {
        expect(text, secret).to.not.contain(secret);
      }
      const allowed: Record<string, string[]> = {
        payment: ['id', 'kind', 'at', 'participantId', 'caseNumber', 'amount', 'confirmationCode', 'creditedOn', 'method'],
        pin: ['id', 'kind', 'at', 'participantId', 'event'],
      };
      for (const line of linesOf(await exportFiles(dir))) expect(Object.keys(line)).to.deep.equal(allowed[line.kind]);
    });

    it('writes nothing on a second run; later changes go to a new file and the first is never rewritten', async function () {
      for (let i = 0; i < 3; i++) await pinChange();
      await run();
      const first = await exportFiles(dir);
      const [firstName] = first.keys();
      const before = await stat(join(dir, firstName!));

      expect(await run()).to.deep.equal({ files: [], changes: 0 });
      const later = [await pinChange(), await pinChange()];
      expect((await run()).changes).to.equal(2);

      const files = await exportFiles(dir);
      expect(files.size).to.equal(2);
      expect(files.get(firstName!)).to.equal(first.get(firstName!));
      const after = await stat(join(dir, firstName!));
      expect([after.ino, after.mtimeMs]).to.deep.equal([before.ino, before.mtimeMs]);
      const [, second] = [...files.keys()];
      expect(linesOf(new Map([[second!, files.get(second!)!]])).map((l) => l.at)).to.deep.equal(later);
    });

    it('splits many changes into files of at most perFile, each change once, in order', async function () {
      const made: string[] = [];
      for (let i = 0; i < 23; i++) made.push(await pinChange());
      const summary = await run({ perFile: 5 });
      expect(summary.files.map((f) => f.changes)).to.deep.equal([5, 5, 5, 5, 3]);
      const files = await exportFiles(dir);
      expect(files.size).to.equal(5);
      expect(summary.files.map((f) => f.file).sort()).to.deep.equal([...files.keys()]);
      expect(summary.files.map((f) => linesOf(new Map([[f.file, files.get(f.file)!]])).length)).to.deep.equal([5, 5, 5, 5, 3]);
      const inOrder = summary.files.flatMap((f) => linesOf(new Map([[f.file, files.get(f.file)!]])));
      expect(inOrder.map((l) => l.at)).to.deep.equal(made);
    });

    it('a run that stopped after fixing a range, before its file: the next run writes exactly that range', async function () {
      const made = [await pinChange(), await pinChange()];
      const error = await run({ hooks: { afterBegin: crashAt(1, 'before writing') } }).catch((e: Error) => e);
      expect(String(error)).to.contain('stopped before writing');
      expect((await exportFiles(dir)).size).to.equal(0);
      // A change recorded meanwhile goes to the next file, not into the range already fixed.
      const meanwhile = await pinChange();
      const summary = await run();
      expect(summary.files.map((f) => [f.changes, f.result])).to.deep.equal([[2, 'written'], [1, 'written']]);
      expect(linesOf(await exportFiles(dir)).map((l) => l.at).sort()).to.deep.equal([...made, meanwhile].sort());
    });

    it('a run that stopped after writing, before moving on: the next finds the file and writes nothing twice', async function () {
      const made = [await pinChange(), await pinChange(), await pinChange()];
      await run({ hooks: { afterWrite: crashAt(1, 'after writing') } }).catch(() => {});
      const written = await exportFiles(dir);
      expect(written.size).to.equal(1);
      const meanwhile = await pinChange();
      const summary = await run();
      expect(summary.files.map((f) => [f.changes, f.result])).to.deep.equal([[3, 'found-written'], [1, 'written']]);
      expect(summary.changes).to.equal(1);
      const files = await exportFiles(dir);
      expect(files.get([...written.keys()][0]!)).to.equal([...written.values()][0]);
      expect(linesOf(written).map((l) => l.at)).to.deep.equal(made);
      expect(linesOf(files).map((l) => l.at)).to.deep.equal([...made, meanwhile]);
      expect(await run()).to.deep.equal({ files: [], changes: 0 });
    });

    it('two and three runs at once, many rounds, some stopping anywhere: every change in exactly one file, no file rewritten', async function () {
      this.timeout(120_000);
      const made: string[] = [];
      const seen = new Map<string, string>();
      for (let round = 0; round < 25; round++) {
        for (let i = 0; i < 1 + (round % 7); i++) made.push(await pinChange());
        const runners = 2 + (round % 2);
        const runs = Array.from({ length: runners }, (_, r) => {
          const stop = (round + r) % 4 === 0 ? { afterBegin: crashAt(1 + (r % 2), 'mid-run') } : (round + r) % 4 === 1 ? { afterWrite: crashAt(1, 'mid-run') } : {};
          return run({ perFile: 3, hooks: stop });
        });
        // Changes keep coming while they run.
        const during = pinChange();
        await Promise.allSettled(runs);
        made.push(await during);
        for (const [file, text] of await exportFiles(dir)) {
          if (seen.has(file)) expect(text, `${file} was rewritten`).to.equal(seen.get(file));
          seen.set(file, text);
        }
      }
      await run();
      const ats = linesOf(await exportFiles(dir)).map((l) => l.at);
      expect(ats.length).to.equal(made.length);
      expect(new Set(ats).size).to.equal(ats.length);
      expect([...ats].sort()).to.deep.equal([...made].sort());
      const ids = linesOf(await exportFiles(dir)).map((l) => l.id);
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('drops exported changes once older than the retention, and never one not exported yet', async function () {
      for (let i = 0; i < 4; i++) await pinChange();
      await run();
      expect(await h.kept(), 'kept for the retention').to.equal(4);
      for (let i = 0; i < 3; i++) await pinChange();
      // 31 days on, with a retention of 30: the 4 exported go; the 3 new ones stay until exported.
      clock = new Date(Date.now() + 31 * DAY);
      const error = await run({ perFile: 2, hooks: { afterBegin: crashAt(2, 'between ranges') } }).catch((e: Error) => e);
      expect(String(error)).to.contain('between ranges');
      expect(await h.kept()).to.equal(1);
      await run({ perFile: 2 });
      expect(await h.kept()).to.equal(0);
      expect(linesOf(await exportFiles(dir))).to.have.length(7);
    });
  });
}

exportContract('in process', async () => {
  const store = new MemoryCaseloadStore();
  return { store, job: () => store, kept: async () => store.changes().length };
});

function redisExport(name: string, clients: () => { redis: Redis | Cluster; other: Redis | Cluster }, prefixes: () => string): void {
  exportContract(name, async () => {
    const { redis, other } = clients();
    const prefix = prefixes();
    const store = new RedisCaseloadStore(redis, prefix);
    return { store, job: () => new RedisCaseloadStore(other, prefix), kept: () => redis.xlen(`${prefix}{caseload}:line:changes`) };
  });
}

describe('RedisCaseloadStore: the export', function () {
  const run = new RedisRun(() => testRedisClient());
  let redis: Redis;
  let other: Redis;
  let prefix = run.prefix;

  before(async function () {
    redis = await run.connect();
    other = await run.connect();
  });
  after(() => run.end());

  redisExport('Redis', () => ({ redis, other }), () => (prefix = run.nextPrefix()));

  describe('a change the export does not know', function () {
    let dir: string;
    beforeEach(async function () {
      prefix = run.nextPrefix();
      dir = await mkdtemp(join(tmpdir(), 'export-'));
    });
    afterEach(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    it('stops the export at it, naming only its ID; nothing is written and the range waits for a fix', async function () {
      const store = new RedisCaseloadStore(redis, prefix);
      await store.replaceCaseload(await caseload());
      await store.changePin(ADA, 'hash', new Date());
      const bad = await redis.xadd(`${prefix}{caseload}:line:changes`, '*', 'change', JSON.stringify({ kind: 'ssn', participantId: ADA, ssn: '900000001' }));
      const error = await exportChanges(store, { outDir: dir, keepDays: 30 }).catch((e: Error) => e);
      expect(String(error)).to.equal(`UnknownChangeError: change ${bad}: a kind of change the export does not know`);
      expect(await readdir(dir)).to.deep.equal([]);
      expect(await store.nextExportRange(100)).to.include({ after: '0-0', last: bad, count: 2 });
    });
  });
});

describe('RedisCaseloadStore on a Redis Cluster: the export', function () {
  const run = new RedisRun(async () => clusterAdmin(await sharedCluster()));
  let cluster: Cluster;
  let other: Cluster;

  before(async function () {
    this.timeout(30_000);
    cluster = await run.connect();
    other = await run.connect();
  });
  after(() => run.end());

  redisExport('Redis Cluster', () => ({ redis: cluster, other }), () => run.nextPrefix());
});

describe('exportedChange', function () {
  const recorded = (change: unknown, payer: string | null = null) => ({ id: '1764000000000-0', change: JSON.stringify(change), payer });

  it('turns cents into dollars and the receipt time into its Pacific date, and names the payer when it is known', function () {
    expect(exportedChange(recorded({ kind: 'payment', caseNumber: '37004512', confirmationCode: 'ch_1', amount: '380000', receivedAt: '2026-12-01T07:59:00.000Z' }, '1586049327'))).to.deep.equal({
      id: '1764000000000-0', kind: 'payment', at: '2026-12-01T07:59:00.000Z', participantId: '1586049327', caseNumber: '37004512',
      amount: '3800.00', confirmationCode: 'ch_1', creditedOn: '2026-11-30', method: 'card',
    });
    expect(exportedChange(recorded({ kind: 'payment', caseNumber: '37004512', confirmationCode: 'ch_1', amount: '5', receivedAt: '2026-12-01T18:00:00Z' }))).to.include({ participantId: null, amount: '0.05' });
  });

  it('refuses what it does not know, naming the change by its ID only', function () {
    const refused: Array<[unknown, string]> = [
      [{ kind: 'ssn', participantId: '1000000001', ssn: '900000001' }, 'a kind of change the export does not know'],
      [{ kind: 'pin', event: 'revealed', participantId: '1000000001', at: '2026-12-01T18:00:00Z' }, 'a PIN event without its participant, event or time'],
      [{ kind: 'phone', participantId: '1000000001', phone: '9165550143', at: '2026-12-01T18:00:00Z' }, 'a phone update without its participant, number or time'],
      [{ kind: 'letter', participantId: '1000000001', form: 'pin-reset', at: '2026-12-01T18:00:00Z' }, 'a letter without its participant, form or time'],
      [{ kind: 'payment', caseNumber: '37004512', confirmationCode: 'ch_1', amount: '12.50', receivedAt: '2026-12-01T18:00:00Z' }, 'a payment without its case, amount, confirmation code or time'],
    ];
    for (const [change, why] of refused) {
      expect(() => exportedChange(recorded(change)), why).to.throw(`change 1764000000000-0: ${why}`);
    }
    expect(() => exportedChange({ id: '1-0', change: 'not json 900000001', payer: null })).to.throw('change 1-0: not JSON');
  });
});

type Run = { code: number; stdout: string; stderr: string };

function npmRun(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const clean = { ...process.env };
  for (const name of ['REDIS_URL', 'REDIS_PREFIX', 'NODE_ENV']) delete clean[name];
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/export.ts', ...args], { cwd: ROOT, env: { ...clean, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('npm run export', function () {
  this.timeout(60_000);
  const run = new RedisRun(() => testRedisClient());
  const prefix = run.prefix;
  let url: string;
  let dir: string;
  let store: RedisCaseloadStore;

  before(async function () {
    url = await testRedisUrl();
    const redis = await run.connect();
    store = new RedisCaseloadStore(redis, prefix);
    await store.replaceCaseload(await caseload());
  });

  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'export-cli-'));
  });

  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  after(() => run.end());

  const env = () => ({ REDIS_URL: url, REDIS_PREFIX: prefix });

  it('writes the changes, says so in a line per file and a summary, then finds nothing more', async function () {
    for (let i = 0; i < 5; i++) await store.changePin(BEN, `hash-${i}`, new Date(Date.now() - i));
    const first = await npmRun(['--out', dir, '--per-file', '3'], env());
    expect(first.stderr).to.equal('');
    expect(first.code).to.equal(0);
    const names = (await readdir(dir)).sort();
    expect(names).to.have.length(2);
    expect(first.stdout.split('\n')).to.deep.equal([
      `written  ${names[0]}  3 changes`,
      `written  ${names[1]}  2 changes`,
      `Export: 5 changes in 2 new files in ${dir}.`,
      '',
    ]);
    const again = await npmRun(['--out', dir], env());
    expect(again.stdout).to.equal(`Export: no changes since the last export; nothing written to ${dir}.\n`);
  });

  it('two runs at once write each change once', async function () {
    for (let i = 0; i < 40; i++) await store.changePin(CY, `hash-${i}`, new Date(Date.UTC(2026, 10, 2) + i * 1000));
    const runs = await Promise.all([npmRun(['--out', dir, '--per-file', '4'], env()), npmRun(['--out', dir, '--per-file', '4'], env())]);
    for (const r of runs) expect(r.code, r.stderr).to.equal(0);
    const lines = linesOf(await exportFiles(dir));
    expect(lines).to.have.length(40);
    expect(new Set(lines.map((l) => l.id)).size).to.equal(40);
  });

  it('--unconfirmed lists, as JSON Lines, the card payments no file has confirmed after 45 days', async function () {
    const old = new Date(Date.now() - 50 * DAY);
    const recent = new Date(Date.now() - 10 * DAY);
    await store.recordPayment(CASE_1, { receivedAt: old.toISOString(), amount: cents(12_345), method: 'card', confirmationCode: 'ch_OLD' }, { nonce: 'u-1', keepMs: 60_000 });
    await store.recordPayment(CASE_2, { receivedAt: recent.toISOString(), amount: cents(500), method: 'card', confirmationCode: 'ch_RECENT' }, { nonce: 'u-2', keepMs: 60_000 });
    const result = await npmRun(['--unconfirmed'], env());
    expect(result.code).to.equal(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines).to.deep.equal([{ caseNumber: CASE_1, confirmationCode: 'ch_OLD', amount: '123.45', receivedAt: old.toISOString(), creditedOn: lines[0]!.creditedOn, method: 'card' }]);
    expect(lines[0]!.creditedOn).to.match(/^\d{4}-\d\d-\d\d$/);
    expect(result.stderr).to.match(/^1 card payment taken before \d{4}-\d\d-\d\d that no caseload file has confirmed\.\n$/);
    expect((await npmRun(['--unconfirmed', '--days', '5'], env())).stdout.trim().split('\n')).to.have.length(2);
  });

  it('refuses clearly without Redis, and with options that do not go together; --help says how', async function () {
    const noRedis = await npmRun(['--out', dir], {});
    expect(noRedis.code).to.equal(1);
    expect(noRedis.stderr).to.contain('REDIS_URL is not set').and.contain('nothing to export');
    const both = await npmRun(['--out', dir, '--unconfirmed'], env());
    expect(both.code).to.equal(1);
    expect(both.stderr).to.contain('--unconfirmed writes no files');
    const neither = await npmRun([], env());
    expect(neither.stderr).to.match(/^Say where the files go: --out DIR\nUsage: npm run export/);
    const help = await npmRun(['--help'], {});
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^Usage: npm run export -- --out DIR/).and.contain('--unconfirmed');
  });
});
