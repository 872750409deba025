import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { CSV_COLUMNS } from '../src/reports/call-csv.ts';
import { createLine } from '../src/server.ts';
import { RedisStore } from '../src/store/redis.ts';
import { Caller } from './support/caller.ts';
import { flushPrefix, testRedisClient, testRedisUrl, uniquePrefix } from './support/redis.ts';
import { AUTH_TOKEN, PUBLIC_URL } from './support/twilio.ts';
import { EXPECTED, IN_PERIOD, RECORDS } from './report-records.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Run = { code: number; stdout: string; stderr: string };

/** No Redis unless the test names one: the report would read the store the environment names. */
const NO_REDIS = { REDIS_URL: '', REDIS_CLUSTER_NODES: '', REDIS_SENTINELS: '', REDIS_SENTINEL_NAME: '' };

function reportWith(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/report.ts', ...args], { cwd: ROOT, timeout: 30_000, env: { ...process.env, ...NO_REDIS, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const report = (...args: string[]) => reportWith({}, ...args);

describe('npm run report', function () {
  this.timeout(60_000);
  let dir: string;
  let records: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-cli-'));
    records = join(dir, 'calls.jsonl');
    await writeFile(records, RECORDS.map((record) => JSON.stringify(record)).join('\n') + '\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints its usage for --help', async () => {
    const run = await report('--help');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^Usage: npm run report -- --out FILE\.html \[--records FILE\.jsonl\]/);
    expect(run.stdout).to.include('REDIS_URL');
    expect(run.stdout).to.include('--csv FILE.csv');
  });

  it('writes the page and the CSV of a period given as Pacific days', async () => {
    const out = join(dir, 'out', 'week.html');
    const csv = join(dir, 'out', 'week.csv');
    const run = await report('--records', records, '--from', '2025-11-01', '--to', '2025-11-04', '--out', out, '--csv', csv);
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.equal(`20 calls from Sat, Nov 1, 2025, 12:00 AM PDT to Tue, Nov 4, 2025, 12:00 AM PST: wrote ${out} and ${csv}\n`);
    const html = await readFile(out, 'utf8');
    expect(html).to.include('20 calls: 8 self-served (40% containment)');
    expect(html).to.include('<p class="generated">');
    const lines = (await readFile(csv, 'utf8')).trimEnd().split('\r\n');
    expect(lines[0]).to.equal(CSV_COLUMNS.join(','));
    expect(lines.slice(1).map((line) => line.split(',')[0])).to.deep.equal(IN_PERIOD.map((r) => r.callSid));
    expect(lines).to.have.length(1 + EXPECTED.calls);
  });

  it('takes times with a zone, and reports an empty period as such', async () => {
    const out = join(dir, 'empty.html');
    const run = await report('--records', records, '--from', '2025-10-01T00:00:00Z', '--to', '2025-10-02T00:00:00-07:00', '--out', out);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^0 calls from /);
    expect(await readFile(out, 'utf8')).to.include('There were no calls in this period.');
  });

  it('covers the last seven days by default', async () => {
    const out = join(dir, 'default.html');
    const run = await report('--records', records, '--out', out);
    expect(run.code).to.equal(0);
    const period = /<p class="period">From <time datetime="([^"]+)">.*to <time datetime="([^"]+)">/.exec(await readFile(out, 'utf8'));
    const [from, to] = [Date.parse(period?.[1] ?? ''), Date.parse(period?.[2] ?? '')];
    expect(to - from).to.equal(7 * 86_400_000);
    expect(Math.abs(Date.now() - to)).to.be.lessThan(60_000);
  });

  it('says what is wrong with the options in one line, and exits 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--records', records], /--out FILE\.html is required/],
      [['--out', join(dir, 'x.html')], /no --records file and no Redis configured: set REDIS_URL/],
      [['--records', records, '--out', join(dir, 'x.html'), '--from', '2025-11-03T08:00'], /--from must be a day .* not "2025-11-03T08:00"/],
      [['--records', records, '--out', join(dir, 'x.html'), '--from', '2025-11-04', '--to', '2025-11-01'], /--from .* must be before --to/],
      [['--records', records, '--out', join(dir, 'x.html'), '--colour'], /Unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const run = await report(...args);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr, args.join(' ')).to.match(message).and.match(/^report: [^\n]*\(npm run report -- --help\)\n$/);
    }
  });

  it('names the file and line of a bad record in one line, exits 1 and writes nothing', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, `${JSON.stringify(RECORDS[0])}\n{"callSid": "CA1", "menus": "main"}\n`);
    const out = join(dir, 'bad.html');
    const run = await report('--records', bad, '--out', out, '--from', '2025-11-01', '--to', '2025-11-04');
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal(`report: ${bad}:2: startedAt must be an ISO 8601 time with a zone\n`);
    expect(await stat(out).catch(() => null)).to.equal(null);

    const missing = await report('--records', join(dir, 'nowhere.jsonl'), '--out', out);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^report: cannot read records file .*nowhere\.jsonl: no such file\n$/);
  });
});

describe('npm run report, from the Redis the line records calls in', function () {
  this.timeout(60_000);
  const OPEN = new Date('2026-11-24T10:00:00-08:00'); // a Tuesday morning
  const CLOSED = new Date('2026-11-24T21:00:00-08:00'); // the same evening
  let dir: string;
  let prefix: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-store-'));
    prefix = uniquePrefix();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    const redis = await testRedisClient();
    await flushPrefix(redis, prefix);
    redis.disconnect();
  });

  it('reports the calls made over HTTP, counted by outcome, read by time from the store REDIS_URL and REDIS_PREFIX name', async () => {
    const url = await testRedisUrl();
    let now = OPEN;
    const config = loadConfig({ PUBLIC_URL, TWILIO_AUTH_TOKEN: AUTH_TOKEN, REDIS_URL: url, REDIS_PREFIX: prefix });
    const line = await createLine({ config, store: RedisStore.connect(url, prefix), clock: () => now, logger: silentLogger });
    const made: Record<string, string[]> = { self_served: [], transferred: [], abandoned: [], gave_up: [] };
    try {
      const hours = await new Caller(line.app).toMainMenu();
      await hours.press('5');
      await hours.hangUp();
      made.self_served!.push(hours.callSid);
      const check = await new Caller(line.app).toMainMenu('es');
      await check.press('4');
      await check.press('1');
      await check.hangUp();
      made.self_served!.push(check.callSid);
      const agent = await new Caller(line.app).toMainMenu();
      await agent.press('0');
      expect(agent.twiml).to.include('<Dial');
      await agent.hangUp();
      made.transferred!.push(agent.callSid);
      const gone = await new Caller(line.app).answer();
      await gone.hangUp();
      made.abandoned!.push(gone.callSid);
      now = CLOSED;
      const lost = await new Caller(line.app).toMainMenu();
      for (const key of ['8', '8', '8']) await lost.press(key);
      expect(lost.twiml).to.include('<Hangup/>');
      await lost.hangUp();
      made.gave_up!.push(lost.callSid);
    } finally {
      await line.close();
      await line.store.close();
    }

    const out = join(dir, 'day.html');
    const csv = join(dir, 'day.csv');
    const run = await reportWith({ NODE_ENV: 'test', REDIS_URL: url, REDIS_PREFIX: prefix }, '--from', '2026-11-24', '--to', '2026-11-25', '--out', out, '--csv', csv);
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(new RegExp(`^5 calls from .* in Redis at .* \\(prefix ${prefix}\\): wrote `));
    const [header, ...rows] = (await readFile(csv, 'utf8')).trimEnd().split('\r\n').map((row) => row.split(','));
    const column = (name: string) => header!.indexOf(name);
    const byOutcome: Record<string, string[]> = {};
    for (const row of rows) (byOutcome[row[column('outcome')]!] ??= []).push(row[column('call_sid')]!);
    // Calls that started in the same instant (the pinned clock) come in no particular order.
    const sorted = (calls: Record<string, string[]>) => Object.fromEntries(Object.entries(calls).map(([outcome, sids]) => [outcome, [...sids].sort()]));
    expect(sorted(byOutcome)).to.deep.equal(sorted(made));
    expect(rows.find((row) => row[column('call_sid')] === made.transferred![0])?.[column('transfer_reason')]).to.equal('requested');
    expect(await readFile(out, 'utf8')).to.include('5 calls: 2 self-served (40% containment)');

    // Another period: the store is read by start time.
    const before = await reportWith({ NODE_ENV: 'test', REDIS_URL: url, REDIS_PREFIX: prefix }, '--from', '2026-11-23', '--to', '2026-11-24', '--out', join(dir, 'before.html'));
    expect(before.stdout).to.match(/^0 calls from /);
  });
});
