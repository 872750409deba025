// Log lines never block the event loop, arrive in order, and are not lost when the process exits.
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../src/config.ts';
import { LOG_LEVELS, asyncLineWriter, atLevel, describeError, jsonLogger, type Logger } from '../src/log.ts';

describe('log lines', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cc-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('returns at once and writes the lines of one tick in order, in one asynchronous write', async () => {
    const file = join(dir, 'out.log');
    const fd = openSync(file, 'w');
    try {
      const writer = asyncLineWriter(fd);
      for (let i = 0; i < 1000; i++) writer.write(`{"n":${i}}`);
      // Nothing has been written yet: the write happens after this tick.
      expect(readFileSync(file, 'utf8')).to.equal('');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines).to.have.length(1000);
      expect(lines.map((line) => (JSON.parse(line) as { n: number }).n)).to.deep.equal([...Array(1000).keys()]);
    } finally {
      closeSync(fd);
    }
  });

  it('drops lines (and counts them) rather than hold more than its limit for a reader that stopped', () => {
    const fd = openSync(join(dir, 'out.log'), 'w');
    try {
      const writer = asyncLineWriter(fd, 100);
      for (let i = 0; i < 50; i++) writer.write('x'.repeat(10));
      expect(writer.dropped()).to.be.greaterThan(0);
      writer.flush();
    } finally {
      closeSync(fd);
    }
  });

  it('writes what is still buffered when the process exits', async () => {
    const script = "import { jsonLogger } from './src/log.ts'; const log = jsonLogger(); for (let i = 0; i < 5; i++) log.info('line', { i }); process.exit(0);";
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
    const lines = out.trimEnd().split('\n').map((line) => JSON.parse(line) as { msg: string; i: number });
    expect(lines.map((line) => line.i)).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('scrubs digit runs from error messages', () => {
    expect(describeError(new Error('participant 4821930576 not found'))).to.equal('Error: participant [digits] not found');
    const lines: string[] = [];
    jsonLogger((line) => lines.push(line)).warn('x', { a: 1 });
    expect(JSON.parse(lines[0]!)).to.include({ level: 'warn', msg: 'x', a: 1 });
  });

  it('writes the lines at LOG_LEVEL and above, and none below it (info by default)', () => {
    const written = (level: string | undefined) => {
      const lines: string[] = [];
      const config = loadConfig(level === undefined ? {} : { LOG_LEVEL: level });
      const log = jsonLogger((line) => lines.push(line), config.logLevel);
      for (const at of LOG_LEVELS) log[at](`a ${at} line`, { at });
      return lines.map((line) => (JSON.parse(line) as { level: string; msg: string; at: string }));
    };
    expect(written(undefined).map((line) => line.level)).to.deep.equal(['info', 'warn', 'error']);
    expect(written('debug').map((line) => line.level)).to.deep.equal(['debug', 'info', 'warn', 'error']);
    expect(written('warn').map((line) => line.level)).to.deep.equal(['warn', 'error']);
    const errorsOnly = written('error');
    expect(errorsOnly).to.have.length(1);
    expect(errorsOnly[0]).to.include({ level: 'error', msg: 'a error line', at: 'error' });
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).to.throw(/LOG_LEVEL must be one of debug, info, warn, error, got "verbose"/);
  });

  it('holds a logger of its own (a test\'s, a tool\'s) to a level too', () => {
    const seen: string[] = [];
    const own: Logger = { debug: () => seen.push('debug'), info: () => seen.push('info'), warn: () => seen.push('warn'), error: () => seen.push('error') };
    const log = atLevel(own, 'warn');
    for (const at of LOG_LEVELS) log[at]('x');
    expect(seen).to.deep.equal(['warn', 'error']);
  });
});
