// Every staff command in package.json answers --help with its usage and exit code 0, whatever
// the environment says (a REDIS_URL must not make seed look for a file named --help).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/** The npm scripts that run one of our commands (`tsx scripts/...`), not the server or the test runner. */
const COMMANDS = Object.entries(pkg.scripts)
  .flatMap(([name, command]) => {
    const match = /^tsx (scripts\/\S+\.ts)$/.exec(command);
    return match?.[1] ? [{ name, file: match[1] }] : [];
  });

type Run = { code: number; stdout: string; stderr: string };

function help(file: string): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', NO_COLOR: '1' };
    execFile(process.execPath, ['--import', 'tsx', file, '--help'], { cwd: ROOT, env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('--help of every command in package.json', function () {
  this.timeout(60_000);

  it('finds the commands', () => {
    expect(COMMANDS.map((command) => command.name)).to.include.members(['call', 'calls', 'seed', 'caseload', 'outbox', 'bench', 'report', 'map', 'prompts']);
  });

  it('prints the usage and exits 0 for each, all at once', async () => {
    const runs = await Promise.all(COMMANDS.map(async (command) => ({ ...command, run: await help(command.file) })));
    for (const { name, run } of runs) {
      expect(run.code, `npm run ${name} -- --help exited ${run.code}: ${run.stderr}`).to.equal(0);
      expect(run.stdout, `npm run ${name} -- --help`).to.match(new RegExp(`^Usage: npm run ${name}\\b`));
      expect(run.stderr, `npm run ${name} -- --help`).to.equal('');
    }
  });
});
