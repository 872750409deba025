// npm run map [-- --check]
// Draws the menu map from the machine (src/map/): docs/menus.svg and docs/menus.mmd. With
// --check, writes nothing and fails if the committed files differ from what it would draw.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { menuMapFiles } from '../src/map/menu-map-files.ts';
import { runCli } from './cli.ts';

const USAGE = `Usage: npm run map [-- --check]

Draws the phone menus from the machine in flows/line.ts: every state that waits for the caller,
with its titles in English and Spanish, its keys and where they lead.
Writes docs/menus.svg (open it in a browser) and docs/menus.mmd (a Mermaid flowchart).
Run it after changing a menu or a title prompt, and commit both files.

Options:
  --check     write nothing; exit 1 if the committed files differ from what would be drawn
  -h, --help  this text`;

const ROOT = new URL('..', import.meta.url);

function readOptions(): { check: boolean } | null {
  const { values } = parseArgs({
    options: { check: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  return values.help ? null : { check: values.check };
}

async function main({ check }: { check: boolean }): Promise<number> {
  let stale = 0;
  for (const { path, text } of menuMapFiles()) {
    const file = fileURLToPath(new URL(path, ROOT));
    if (!check) {
      await writeFile(file, text, 'utf8');
      process.stdout.write(`wrote ${path}\n`);
      continue;
    }
    const committed = await readFile(file, 'utf8').catch(() => null);
    if (committed === text) continue;
    stale += 1;
    process.stderr.write(`${path} ${committed === null ? 'is missing' : 'differs from the machine'}\n`);
  }
  if (stale) process.stderr.write('Run `npm run map` and commit docs/menus.svg and docs/menus.mmd.\n');
  return stale ? 1 : 0;
}

runCli(USAGE, readOptions, main);
