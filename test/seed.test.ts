import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcrypt';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { CaseNumber, ParticipantId } from '../src/domain/caseload.ts';
import { cents } from '../src/domain/money.ts';
import { generateCaseload } from '../scripts/caseload-generator.ts';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from '../src/domain/caseload-loader.ts';
import { ssnHash } from '../src/domain/crypto.ts';
import { MemoryCaseloadStore } from '../src/store/caseload-memory.ts';
import { RedisCaseloadStore } from '../src/store/caseload-redis.ts';
import { flushPrefix, keysUnder, startRedisServer, testRedisClient, testRedisUrl, uniquePrefix } from './support/redis.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SSN_HASH_KEY = 'seed-test-ssn-hash-key';
const id = (text: string) => text as ParticipantId;

type Person = { participantId: string; ssn: string; pin?: string; firstName: string };

function caseloadFile(people: Person[], caseNumbers: string[]): any {
  return {
    version: 1,
    participants: people.map((p) => ({
      ...p, lastName: 'Okafor', language: 'en',
      mailingAddress: { line1: '1 Main Street', line2: null, city: 'Stockton', state: 'CA', zip: '95202' },
    })),
    cases: caseNumbers.map((caseNumber, i) => ({
      caseNumber, county: 'San Joaquin', status: 'open',
      payingParticipantId: people[i % people.length]!.participantId, receivingParticipantId: people[(i + 1) % people.length]!.participantId,
      monthlyObligation: '300.00', currentMonthDue: '300.00', arrearsPrincipal: '0.00', arrearsInterest: '0.00',
      payments: [{ receivedAt: '2026-10-01T09:00:00-07:00', amount: '300.00', method: 'check' }],
      appointments: [],
    })),
  };
}

const FIRST: Person[] = [
  { participantId: '1000000001', ssn: '518273645', pin: '604281', firstName: 'Ada' },
  { participantId: '1000000002', ssn: '627384756', pin: '57193046', firstName: 'Ben' },
];
const SECOND: Person[] = [
  { participantId: '2000000001', ssn: '736495867', pin: '830175', firstName: 'Cy' },
  { participantId: '2000000002', ssn: '845506978', firstName: 'Dee' },
  { participantId: '2000000003', ssn: '954617089', pin: '2468', firstName: 'Eve' },
];

type Run = { code: number; stdout: string; stderr: string };

function cleanEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  for (const name of ['REDIS_URL', 'REDIS_PREFIX', 'SSN_HASH_KEY', 'BCRYPT_COST', 'NODE_ENV']) delete clean[name];
  return { ...clean, ...env };
}

function run(command: string, args: string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: cleanEnv(env), timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run seed', function () {
  this.timeout(60_000);
  const runPrefix = uniquePrefix();
  let url: string;
  let redis: Redis;
  let dir: string;
  let prefix: string;
  let counter = 0;
  let store: RedisCaseloadStore;

  before(async function () {
    url = await testRedisUrl();
    redis = await testRedisClient(url);
    dir = await mkdtemp(join(tmpdir(), 'seed-test-'));
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
    if (!redis) return;
    await flushPrefix(redis, runPrefix);
    redis.disconnect();
  });

  beforeEach(function () {
    counter += 1;
    prefix = `${runPrefix}${counter}:`;
    store = new RedisCaseloadStore(redis, prefix);
  });

  async function file(name: string, content: unknown): Promise<string> {
    const path = join(dir, `${counter}-${name}`);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return path;
  }

  const env = () => ({ REDIS_URL: url, REDIS_PREFIX: prefix, SSN_HASH_KEY, BCRYPT_COST: '4' });
  const seed = (path: string, overrides: Record<string, string | undefined> = {}) =>
    run(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', path], { ...env(), ...overrides });

  /** Every caseload key and its value, to show that nothing changed. */
  async function snapshot(): Promise<Record<string, unknown>> {
    const dump: Record<string, unknown> = {};
    for (const key of (await keysUnder(redis, prefix)).sort()) {
      const type = await redis.type(key);
      dump[key] =
        type === 'string' ? await redis.get(key)
        : type === 'list' ? await redis.lrange(key, 0, -1)
        : type === 'set' ? (await redis.smembers(key)).sort()
        : type === 'hash' ? Object.fromEntries(Object.entries(await redis.hgetall(key)).sort())
        : type;
    }
    return dump;
  }

  it('loads a file, prints the counts and the time taken, and keeps SSNs and PINs only as hashes', async function () {
    const path = await file('first.json', caseloadFile(FIRST, ['555000001']));
    const result = await run('npm', ['run', '--silent', 'seed', '--', path], env());

    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
    expect(result.stdout).to.match(new RegExp(
      `^Loaded 2 participants and 1 case from ${path} \\(prefix ${prefix}\\) in \\d+\\.\\d\\d s; ` +
      "the line's records: 0 card payments confirmed, 0 confirmation codes on another case, 0 phone updates and 0 PINs retired\\n$",
    ));
    expect(await store.participant(id('1000000001'))).to.include({ firstName: 'Ada' });
    expect(await store.participantBySsnHash(ssnHash('627384756', SSN_HASH_KEY))).to.equal('1000000002');
    const { pinHash } = await store.credentials(id('1000000002'));
    expect(pinHash).to.match(/^\$2[aby]\$04\$/);
    expect(await bcrypt.compare('57193046', pinHash!)).to.equal(true);
    expect(await store.casesOf(id('1000000002'))).to.have.length(1);
    const stored = JSON.stringify(await snapshot());
    for (const secret of ['518273645', '627384756', '604281', '57193046']) expect(stored).to.not.contain(secret);
  });

  it('replaces the caseload loaded before', async function () {
    expect((await seed(await file('first.json', caseloadFile(FIRST, ['555000001'])))).code).to.equal(0);
    const second = await seed(await file('second.json', caseloadFile(SECOND, ['666000001', '666000002'])));

    expect(second.code).to.equal(0);
    expect(second.stdout).to.match(/^Loaded 3 participants and 2 cases from /);
    expect(await store.participant(id('1000000001'))).to.equal(null);
    expect(await store.participantBySsnHash(ssnHash('518273645', SSN_HASH_KEY))).to.equal(null);
    expect(await store.casesOf(id('1000000002'))).to.deep.equal([]);
    expect(await store.participant(id('2000000002'))).to.include({ firstName: 'Dee' });
    expect((await store.credentials(id('2000000002'))).pinHash).to.equal(null);
    expect((await store.casesOf(id('2000000002'))).map((c) => c.caseNumber)).to.deep.equal(['666000001', '666000002']);
    expect(await redis.scard(`${prefix}{caseload}:generations`)).to.equal(1);
  });

  it('refuses a bad file naming the first bad field, exits 1, and leaves the loaded caseload untouched', async function () {
    expect((await seed(await file('first.json', caseloadFile(FIRST, ['555000001'])))).code).to.equal(0);
    const before = await snapshot();
    const bad = caseloadFile(SECOND, ['666000001', '666000002']);
    bad.cases[0].payments[0].amount = '12.5';
    const path = await file('bad.json', bad);

    const result = await seed(path);

    expect(result.code).to.equal(1);
    expect(result.stderr).to.equal(`${path}: cases[0].payments[0].amount: expected "123.45"\n`);
    expect(result.stdout).to.equal('');
    expect(await snapshot()).to.deep.equal(before);
    expect(await store.participant(id('1000000001'))).to.include({ firstName: 'Ada' });
  });

  it('never prints the SSN or PIN of a bad field', async function () {
    const cases: Array<[string, (f: any) => void, string[]]> = [
      ['an SSN one digit too long', (f) => (f.participants[0].ssn = '5182736451'), ['5182736451', '518273645']],
      ['an SSN given as a number', (f) => (f.participants[0].ssn = 518273645), ['518273645']],
      ['a duplicate SSN', (f) => (f.participants[1].ssn = f.participants[0].ssn), ['518273645']],
      ['a PIN too long', (f) => (f.participants[1].pin = '571930461'), ['571930461', '57193046']],
      ['an SSN under a misspelt key', (f) => (f.participants[0]['518273645'] = 'ssn'), ['518273645']],
    ];
    for (const [what, breakIt, secrets] of cases) {
      const broken = caseloadFile(FIRST, ['555000001']);
      breakIt(broken);
      const path = await file('bad-ssn.json', broken);
      const result = await seed(path);
      expect(result.code, what).to.equal(1);
      expect(result.stderr, what).to.match(/^.*bad-ssn\.json: participants\[[01]\]/);
      for (const secret of secrets) expect(result.stdout + result.stderr, what).to.not.contain(secret);
    }
    const notJson = await file('not-json.json', '{ "version": 1, "participants": [{ "ssn": "518273645" "pin": "604281" }] }');
    const result = await seed(notJson);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/not-json\.json: not valid JSON/);
    expect(result.stdout + result.stderr).to.not.contain('518273645').and.not.contain('604281');
    expect(await keysUnder(redis, prefix)).to.deep.equal([]);
  });

  it('without REDIS_URL refuses and says the in-process store loads the demo caseload itself', async function () {
    const result = await seed(await file('first.json', caseloadFile(FIRST, ['555000001'])), { REDIS_URL: undefined });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('REDIS_URL is not set').and.contain('in-process store').and.contain('demo caseload');
    expect(result.stdout).to.equal('');
  });

  it('exits 1 with a message and no stack when Redis does not answer, a file is missing or none is named', async function () {
    const path = await file('first.json', caseloadFile(FIRST, ['555000001']));
    const unreachable = await seed(path, { REDIS_URL: 'redis://:sekrit@127.0.0.1:1' });
    expect(unreachable.code).to.equal(1);
    expect(unreachable.stderr).to.contain('did not answer').and.contain('REDIS_URL').and.not.contain('sekrit');

    const missing = await seed(join(dir, 'no-such-file.json'));
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.equal(`${join(dir, 'no-such-file.json')}: no such file\n`);

    const unnamed = await run(process.execPath, ['--import', 'tsx', 'scripts/seed.ts'], env());
    expect(unnamed.code).to.equal(1);
    expect(unnamed.stderr).to.match(/^Usage: npm run seed -- FILE/);

    for (const result of [unreachable, missing, unnamed]) expect(result.stderr).to.not.match(/\n\s+at /);
  });

  /** A made-up caseload of `participants` people in the JSON Lines form (npm run caseload -- generate). */
  async function generated(participants: number, name: string): Promise<string> {
    const path = join(dir, `${counter}-${name}`);
    const out = createWriteStream(path);
    await generateCaseload({ participants, seed: 'seed-test', pinShare: 0.6, cost: 4, asOf: '2026-11-26' }, out);
    out.end();
    await finished(out);
    return path;
  }

  const generationKeys = async (generation: string) => (await keysUnder(redis, `${prefix}{caseload}:g:${generation}:`)).length;

  it('says what the load did to the line\'s records: payments confirmed, codes on another case (one line each), phones and PINs retired', async function () {
    expect((await seed(await file('first.json', caseloadFile(FIRST, ['555000001', '555000002'])))).code).to.equal(0);
    const payment = (code: string) => ({ receivedAt: new Date(Date.now() - 3600_000).toISOString(), amount: cents(30_000), method: 'card' as const, confirmationCode: code });
    await store.recordPayment('555000001' as CaseNumber, payment('ch_CONFIRMED'), { nonce: 'n-1', keepMs: 60_000 });
    await store.recordPayment('555000001' as CaseNumber, payment('ch_ELSEWHERE'), { nonce: 'n-2', keepMs: 60_000 });
    const update = { at: new Date(Date.now() - 60_000).toISOString(), participantId: id('1000000001'), action: 'phone-update' as const, oldPhone: null, newPhone: '0199', via: 'phone-line' as const };
    await store.updatePhone(id('1000000001'), '+12095550199', update, { perDay: 3, day: '2026-11-26' });
    await store.changePin(id('1000000002'), 'hash-changed-by-phone', new Date(Date.now() - 60_000));

    const next = caseloadFile(FIRST, ['555000001', '555000002']);
    next.version = 2;
    next.participants[0].phone = '+12095550199';
    next.participants[1].resetPin = true;
    next.cases[0].payments.push({ ...payment('ch_CONFIRMED'), amount: '300.00' });
    next.cases[1].payments.push({ ...payment('ch_ELSEWHERE'), amount: '300.00' });
    const result = await seed(await file('second.json', next));

    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/; the line's records: 1 card payment confirmed, 1 confirmation code on another case, 1 phone update and 1 PIN retired\n$/);
    expect(result.stderr).to.equal(
      'warning: confirmation code ch_ELSEWHERE, a card payment the line took on case 555000001, is on case 555000002 in the file: the line\'s payment stays on 555000001; reconcile it\n',
    );
    for (const secret of ['518273645', '627384756', '604281', '57193046']) expect(result.stdout + result.stderr).to.not.contain(secret);
  });

  it('shows progress on a terminal: records, records a second, the share of the file and the time left', async function () {
    const path = await generated(20_000, 'progress.jsonl');
    const shell = `${JSON.stringify(process.execPath)} --import tsx scripts/seed.ts ${JSON.stringify(path)}`;
    const result = await run('script', ['-qec', shell, '/dev/null'], env());
    expect(result.code, result.stdout).to.equal(0);
    const frames = result.stdout.split(/\r\x1b\[K/).map((f) => f.trim()).filter(Boolean);
    const progress = frames.filter((f) => f.startsWith('Loading: '));
    expect(progress.length, result.stdout).to.be.at.least(2);
    for (const frame of progress) expect(frame).to.match(/^Loading: [\d,]+ participants? and [\d,]+ cases? \(\d+% of the file\), [\d,]+ records\/s(, about [\d a-z]+ left)?$/);
    expect(frames.at(-1)).to.match(/^Loaded 20,000 participants and 10,000 cases from .* in \d+\.\d\d s; the line's records: /);
  });

  it('a file that fails at its last record changes nothing and names the line and the field', async function () {
    expect((await seed(await file('first.json', caseloadFile(FIRST, ['555000001'])))).code).to.equal(0);
    const before = await snapshot();
    const path = await generated(4_000, 'late-error.jsonl');
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1)!) as { case: { payments: { amount: string }[] } };
    last.case.payments[0]!.amount = '12.5';
    lines[lines.length - 1] = JSON.stringify(last);
    await writeFile(path, `${lines.join('\n')}\n`);

    const result = await seed(path);

    expect(result.code).to.equal(1);
    expect(result.stderr).to.equal(`${path}: line ${lines.length}: case.payments[0].amount: expected "123.45"\n`);
    expect(result.stdout).to.equal('');
    expect(await snapshot()).to.deep.equal(before);
  });

  it('Redis going away during a load: one clear line and exit 1', async function () {
    const server = await startRedisServer();
    try {
      const path = await generated(100_000, 'big.jsonl');
      const throwaway = await testRedisClient(server.url);
      const loading = seed(path, { REDIS_URL: server.url });
      while ((await throwaway.dbsize()) < 5_000) await sleep(50);
      throwaway.disconnect();
      server.stop();
      const result = await loading;
      expect(result.code).to.equal(1);
      expect(result.stdout).to.equal('');
      expect(result.stderr).to.match(/^Redis at redis:\/\/127\.0\.0\.1:\d+\/? failed during the load \(.+\): nothing was changed, the caseload loaded before still serves; load the file again once Redis answers\n$/);
    } finally {
      server.stop();
    }
  });

  it('a load killed with kill -9: the caseload before still serves, and the next load clears what it wrote', async function () {
    this.timeout(120_000);
    expect((await seed(await file('first.json', caseloadFile(FIRST, ['555000001'])))).code).to.equal(0);
    const current = await redis.get(`${prefix}{caseload}:generation`);
    const path = await generated(100_000, 'killed.jsonl');
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', path], { cwd: ROOT, env: cleanEnv(env()), stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let killed: string | undefined;
    for (;;) {
      killed = (await redis.smembers(`${prefix}{caseload}:generations`)).find((g) => g !== current);
      if (killed && (await generationKeys(killed)) > 5_000) break;
      await sleep(50);
    }
    child.kill('SIGKILL');
    expect(await exited).to.equal('SIGKILL');

    expect(await store.participant(id('1000000001'))).to.include({ firstName: 'Ada' });
    expect(await redis.get(`${prefix}{caseload}:generation`)).to.equal(current);
    expect(await generationKeys(killed)).to.be.greaterThan(5_000);
    // Its heartbeat lapses within seconds; from then on it is abandoned.
    while (await redis.exists(`${prefix}{caseload}:load:${killed}`)) await sleep(200);

    const again = await seed(await file('second.json', caseloadFile(SECOND, ['666000001'])));

    expect(again.code, again.stderr).to.equal(0);
    expect(await generationKeys(killed)).to.equal(0);
    expect((await keysUnder(redis, prefix)).filter((key) => key.includes(killed!))).to.deep.equal([]);
    expect(await redis.smembers(`${prefix}{caseload}:generations`)).to.deep.equal([await redis.get(`${prefix}{caseload}:generation`)]);
    expect(await store.participant(id('2000000001'))).to.include({ firstName: 'Cy' });
  });

  it('warns when SSNs would be hashed with the development key', async function () {
    const result = await seed(await file('first.json', caseloadFile(FIRST, ['555000001'])), { SSN_HASH_KEY: undefined });
    expect(result.code).to.equal(0);
    expect(result.stderr).to.contain('SSN_HASH_KEY is unset');
  });
});

describe('loadCaseloadFile', function () {
  const secrets = { ssnHashKey: SSN_HASH_KEY, bcryptCost: 4 };
  let dir: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'caseload-loader-test-'));
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the demo caseload', async function () {
    const store = new MemoryCaseloadStore();
    const demo = JSON.parse(await readFile(DEMO_CASELOAD_PATH, 'utf8')) as { participants: unknown[]; cases: unknown[] };
    expect(await loadCaseloadFile(DEMO_CASELOAD_PATH, store, secrets)).to.include({ participants: demo.participants.length, cases: demo.cases.length });
    expect(await store.participant(id('4821930576'))).to.include({ firstName: 'Dana' });
  });

  it('throws "path: first bad field" and leaves the store as it was', async function () {
    const store = new MemoryCaseloadStore();
    await loadCaseloadFile(DEMO_CASELOAD_PATH, store, secrets);
    const bad = caseloadFile(FIRST, ['555000001']);
    bad.participants[1].ssn = '51827364';
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify(bad));

    let error: unknown = null;
    await loadCaseloadFile(path, store, secrets).catch((e: unknown) => (error = e));

    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.equal(`${path}: participants[1].ssn: expected 9 digits`);
    expect(await store.participant(id('4821930576'))).to.include({ firstName: 'Dana' });
    expect(await store.participant(id('1000000001'))).to.equal(null);
  });
});
