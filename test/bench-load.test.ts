// npm run bench:load, small: it generates, loads with callers on the line, reports every figure,
// and leaves no key behind. (The state-sized run and its figures: docs/caseload.md, npm run bench:load.)
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { keysUnder, testRedisClient, testRedisUrl } from './support/redis.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('npm run bench:load', function () {
  this.timeout(180_000);
  let redis: Redis;

  before(async function () {
    redis = await testRedisClient(await testRedisUrl());
  });
  after(() => redis.disconnect());

  it('loads a generated caseload while callers log in, reports the figures and the goals, and deletes its keys', async function () {
    const env = { ...process.env, REDIS_URL: await testRedisUrl() };
    const args = ['--import', 'tsx', 'scripts/bench/load.ts', '--participants', '4000', '--pins', '20', '--callers', '2', '--think', '100', '--json'];
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { cwd: ROOT, env, timeout: 170_000 }, (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out, stderr: err }));
    });
    expect(code, stderr).to.equal(0);
    const report = JSON.parse(stdout) as {
      participants: number; cases: number; load: { seconds: number; peakRssMb: number | null };
      redis: { bytesPerParticipant: number }; calls: { during: { answers: number; max: number }; errors: number };
      pins: { count: number; secondsPerThousand: number }; goals: Record<string, boolean>;
    };
    expect(report).to.include({ participants: 4000, cases: 2000 });
    expect(report.load.seconds).to.be.greaterThan(0);
    expect(report.redis.bytesPerParticipant).to.be.greaterThan(0);
    expect(report.calls.errors, stderr).to.equal(0);
    expect(report.calls.during.answers).to.be.greaterThan(0);
    expect(report.pins).to.include({ count: 20 });
    expect(report.pins.secondsPerThousand).to.be.greaterThan(0);
    expect(Object.keys(report.goals)).to.deep.equal(['loadUnder5Minutes', 'rssUnder300Mb', 'noAnswerOver2s']);
    const prefix = /keys under (bench-load:[0-9a-f]+:)/.exec(stderr)?.[1];
    expect(prefix, stderr).to.be.a('string');
    expect(await keysUnder(redis, prefix!)).to.deep.equal([]);
  });
});
