import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CSV_COLUMNS } from '../src/reports/call-csv.ts';
import { EXPECTED, IN_PERIOD, RECORDS } from './report-records.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Run = { code: number; stdout: string; stderr: string };

function report(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/report.ts', ...args], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

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
    expect(run.stdout).to.match(/^Usage: npm run report -- --out FILE\.html --records FILE/);
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
      [['--out', join(dir, 'x.html')], /--records FILE is required/],
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
