// The call scripts against a line that runs as `npm start` does, on Redis with the demo caseload
// seeded: played twice in a row, as staff would, nothing may fail, and at most a third may be
// skipped (test/calls/README.md, "Playing against a running line").
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { playCallScripts, type PlaySummary } from '../scripts/callscript.ts';
import { DEV_AUTH_TOKEN } from '../src/config.ts';
import { DEMO_CASELOAD_PATH } from '../src/domain/caseload-loader.ts';
import { flushPrefix, freePort, testRedisClient, testRedisUrl, uniquePrefix } from './support/redis.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^(REDIS_|SSN_HASH_KEY|PIN_LETTER_KEY|BCRYPT_COST|NODE_ENV|PORT|PUBLIC_URL|TWILIO_|AGENT_NUMBER|PAYMENT_|PHONE_|IDENTIFICATION_)/.test(name)) delete env[name];
  return env;
}

function seed(env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', DEMO_CASELOAD_PATH], { cwd: ROOT, env, timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`npm run seed failed: ${stderr}`));
      else resolve();
    });
  });
}

async function ready(baseUrl: string, line: ChildProcess, output: () => string): Promise<void> {
  for (let tries = 0; tries < 150; tries++) {
    if (line.exitCode !== null) throw new Error(`the line exited (${line.exitCode}):\n${output()}`);
    const answer = await fetch(`${baseUrl}/readyz`).catch(() => null);
    if (answer?.ok) return;
    await sleep(200);
  }
  throw new Error(`the line did not become ready:\n${output()}`);
}

describe('call scripts against a running line (npm start on Redis, the demo caseload seeded)', function () {
  this.timeout(180_000);

  it('play twice in a row with nothing failed, skipping at most a third, each skip with its reason', async () => {
    const prefix = uniquePrefix();
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const spoolDir = await mkdtemp(path.join(tmpdir(), 'calls-running-line-'));
    const env = {
      ...cleanEnv(),
      REDIS_URL: await testRedisUrl(),
      REDIS_PREFIX: prefix,
      NODE_ENV: 'development',
      PORT: String(port),
      PUBLIC_URL: baseUrl,
      BCRYPT_COST: '4',
      PAYMENT_SPOOL_FILE: path.join(spoolDir, 'payment-spool.jsonl'),
    };
    const redis = await testRedisClient();
    let line: ChildProcess | null = null;
    let lineOutput = '';
    try {
      await seed(env);
      line = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      line.stdout?.on('data', (chunk: Buffer) => { lineOutput += chunk.toString(); });
      line.stderr?.on('data', (chunk: Buffer) => { lineOutput += chunk.toString(); });
      await ready(baseUrl, line, () => lineOutput);

      for (const play of ['first', 'second']) {
        const printed: string[] = [];
        const summary: PlaySummary = await playCallScripts({
          paths: [path.join(ROOT, 'test', 'calls')],
          running: { baseUrl, authToken: DEV_AUTH_TOKEN },
          quiet: true,
          out: (text) => printed.push(text),
        });
        const report = printed.join('\n');
        expect(summary.failed, `${play} play:\n${report}`).to.deep.equal([]);
        expect(summary.total).to.equal(summary.passed.length + summary.skipped.length);
        expect(summary.skipped.length, `${play} play skipped more than a third:\n${report}`).to.be.at.most(summary.total / 3);
        for (const { script, reason } of summary.skipped) expect(report).to.include(`○ SKIP ${script}: ${reason.why}`);
        expect(printed.at(-1)).to.equal(`${summary.passed.length} passed, 0 failed, ${summary.skipped.length} skipped`);
      }
    } finally {
      line?.kill('SIGTERM');
      if (line && line.exitCode === null) await new Promise((resolve) => line?.once('exit', resolve));
      await flushPrefix(redis, prefix);
      redis.disconnect();
      await rm(spoolDir, { recursive: true, force: true });
    }
  });
});
