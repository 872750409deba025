// Which layer may import which (docs/developers.md, "Layers"): the menus and the engine never
// reach for telephony, and the domain owns its interfaces rather than importing a store's.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sourcesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sourcesUnder(relative);
    return name.endsWith('.ts') ? [relative] : [];
  });
}

/** Every module a file imports or re-exports, as a path from the repository's root (packages by name). */
export function importsOf(file: string, text = readFileSync(path.join(ROOT, file), 'utf8')): string[] {
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)]
    .map((match) => match[1] ?? match[2] ?? match[3] ?? '');
  return specifiers.map((specifier) => (specifier.startsWith('.') ? path.normalize(path.join(path.dirname(file), specifier)) : specifier));
}

const RULES: { layer: string; mayNotImport: string[] }[] = [
  { layer: 'flows', mayNotImport: ['src/telephony', 'src/store', 'src/engine', 'scripts'] },
  { layer: 'src/engine', mayNotImport: ['src/telephony', 'scripts'] },
  { layer: 'src/domain', mayNotImport: ['src/telephony', 'src/store', 'src/engine', 'flows', 'prompts', 'scripts', 'src/simulator', 'src/console'] },
  { layer: 'prompts', mayNotImport: ['src/telephony', 'src/store', 'src/engine', 'flows', 'scripts'] },
  { layer: 'src/store', mayNotImport: ['src/telephony', 'src/engine', 'flows', 'scripts'] },
  { layer: 'src', mayNotImport: ['scripts', 'test'] },
];

describe('layers', () => {
  it('reads static, re-exported and dynamic imports, relative ones as paths from the root', () => {
    const text = "import { a } from '../telephony/twiml.ts';\nexport type { B } from './b.ts';\nconst c = await import('../../scripts/x.ts');\nimport 'node:fs';\n";
    expect(importsOf('src/engine/engine.ts', text)).to.deep.equal(['src/telephony/twiml.ts', 'src/engine/b.ts', 'scripts/x.ts', 'node:fs']);
  });

  for (const { layer, mayNotImport } of RULES) {
    it(`nothing under ${layer}/ imports from ${mayNotImport.join(', ')}`, () => {
      const files = sourcesUnder(layer);
      expect(files.length, layer).to.be.greaterThan(0);
      const crossings = files.flatMap((file) =>
        importsOf(file).filter((target) => mayNotImport.some((banned) => target === banned || target.startsWith(`${banned}/`))).map((target) => `${file} imports ${target}`));
      expect(crossings).to.deep.equal([]);
    });
  }
});
