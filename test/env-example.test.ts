// .env.example is what a developer copies first: as it stands it must make a development line.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { loadConfig } from '../src/config.ts';

const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
const settings = (source: string) =>
  Object.fromEntries(source.split('\n').flatMap((line) => {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    return match ? [[match[1]!, match[2]!]] : [];
  }));

describe('.env.example', () => {
  it('as it stands, configures a development line on the in-process store', () => {
    const config = loadConfig(settings(text));
    expect(config).to.include({ env: 'development', redis: null, port: 3000, publicUrl: 'http://localhost:3000' });
  });

  it('names, commented out, every setting the configuration reads', () => {
    const read = new Set([...readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8').matchAll(/env(?:\.|\[')([A-Z][A-Z0-9_]+)|'([A-Z][A-Z0-9_]+)'/g)]
      .map((match) => match[1] ?? match[2]!));
    const named = new Set([...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!));
    for (const name of read) expect(named, name).to.include(name);
  });

  it('says nothing that only another document explains', () => {
    expect(text).to.not.match(/spec|section \d/i);
  });
});
