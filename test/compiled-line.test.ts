// The line as production runs it: built (npm run build) and started from dist/ (npm start) in a
// process of its own, with only the environment given here (none of the test run's REDIS_URL).
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASE_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

type Run = { code: number | null; stdout: string; stderr: string };

function run(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { ...BASE_ENV, ...env }, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

type LogLine = { level: string; msg: string; error?: string; port?: number; store?: string; env?: string };

function logLines(stdout: string): LogLine[] {
  return stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as LogLine);
}

describe('the compiled line (npm run build, npm start)', function () {
  // tsc takes about 10 s of CPU; a busy CI machine may take twice that.
  this.timeout(60_000);

  before(async function () {
    const build = await run('npm', ['run', '--silent', 'build'], {}, 55_000);
    expect(build.code, `npm run build: ${build.stdout}${build.stderr}`).to.equal(0);
  });

  for (const [what, env] of [['NODE_ENV=production', { NODE_ENV: 'production' }], ['no NODE_ENV (npm start means production)', {}]] as const) {
    it(`npm start with ${what} and nothing else set exits 1, with one log line naming every missing setting`, async () => {
      const started = await run('npm', ['start', '--silent'], env, 20_000);
      expect(started.code).to.equal(1);
      const lines = logLines(started.stdout);
      expect(lines, started.stdout).to.have.length(1);
      const [refusal] = lines;
      expect(refusal).to.include({ level: 'error', msg: 'configuration refused' });
      for (const name of ['PUBLIC_URL', 'REDIS_URL', 'TWILIO_AUTH_TOKEN', 'SSN_HASH_KEY', 'PIN_LETTER_KEY', 'AGENT_NUMBER', 'METRICS_TOKEN']) {
        expect(refusal?.error, name).to.include(name);
      }
      expect(started.stderr).not.to.include('IN-PROCESS store');
    });
  }

  it('starts from dist/ in development with the in-process store and answers /healthz', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['dist/src/index.js'], {
      cwd: ROOT,
      env: { ...BASE_ENV, NODE_ENV: 'development', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const listening = await new Promise<LogLine>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const line = logLines(stdout.slice(0, stdout.lastIndexOf('\n') + 1)).find((logged) => logged.msg === 'listening');
          if (line) resolve(line);
        });
        void exited.then((code) => reject(new Error(`exited (${code}) before listening: ${stdout}${stderr}`)));
      });
      expect(listening).to.include({ port, store: 'memory', env: 'development' });
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).to.equal(200);
      expect(await health.json()).to.deep.equal({ ok: true });
      expect(stderr).to.include('IN-PROCESS store');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).to.equal(0);
  });
});
