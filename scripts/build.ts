// npm run build
// Compiles the line to dist/ (tsconfig.build.json: src/, flows/ and prompts/), then copies beside
// the compiled code every other file in those folders: what the line reads at run time through
// `new URL(..., import.meta.url)` (the Lua scripts, the demo caseload). `npm start` runs the result.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCli } from './cli.ts';

const USAGE = `Usage: npm run build

Compiles the line (src/, flows/, prompts/) to dist/ with tsconfig.build.json, after removing
what a previous build left there, and copies the files the line reads at run time (Lua scripts,
the demo caseload). Needs the devDependencies (TypeScript). Then: npm start.`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'dist');
/** The folders tsconfig.build.json compiles. */
const SOURCES = ['src', 'flows', 'prompts'];
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function compile(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`tsc failed:\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** Every file under the sources that is not TypeScript, copied to the same place under dist/. */
async function copyAssets(): Promise<string[]> {
  const copied: string[] = [];
  for (const source of SOURCES) {
    const entries = await readdir(join(ROOT, source), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
      const path = relative(ROOT, join(entry.parentPath, entry.name));
      await mkdir(dirname(join(OUT, path)), { recursive: true });
      await copyFile(join(ROOT, path), join(OUT, path));
      copied.push(path);
    }
  }
  return copied;
}

async function main(): Promise<number> {
  await rm(OUT, { recursive: true, force: true });
  await compile();
  const assets = await copyAssets();
  process.stdout.write(`built ${relative(ROOT, OUT)}/ (and copied ${assets.length} files the line reads at run time); run it with npm start\n`);
  return 0;
}

runCli(USAGE, () => (parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } }).values.help ? null : {}), main);
