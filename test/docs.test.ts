// The documentation holds together: a short README that starts with the two set-up commands and
// the demo log-ins, links that land on a file and a heading that exist, nothing that points outside
// the repository, and a configuration table on the operators' page naming every setting.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const PAGES = ['README.md', 'test/calls/README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
/** Where a link or an address to the world outside would be a mistake. */
const CHECKED = [...PAGES, '.env.example'];

/** The text without fenced code blocks (and, with `inline`, without code spans): what renders as prose. */
function prose(text: string, inline = true): string {
  const unfenced = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  return inline ? unfenced.replace(/`[^`\n]*`/g, '') : unfenced;
}

/** GitHub's anchor for a heading: its text lower-cased, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const match of prose(text, false).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(match[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

type Link = { page: string; target: string };

function linksOf(page: string): Link[] {
  return [...prose(read(page)).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => ({ page, target: match[1]! }));
}

/** Hosts a page may name in an address: this machine and names reserved for examples. */
function exampleHost(host: string): boolean {
  const name = host.replace(/:(\d+|\$\w+)$/, '').toLowerCase();
  return name === '' || name === 'localhost' || name === '127.0.0.1'
    || /(^|\.)example\.(com|org|net|gov)$/.test(name) || /\.(example|test|invalid|internal|localhost)$/.test(name);
}

function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no "## ${heading}" section`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

describe('the documentation', () => {
  const readme = read('README.md');

  it('the README is at most 200 lines', () => {
    expect(readme.split('\n').length).to.be.at.most(200);
  });

  it('the README gives the two set-up commands, then the demo log-ins at once', () => {
    const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!.trim());
    expect(blocks).to.include('npm install && npm run call');
    expect(blocks).to.include('npm test');
    const headings = [...prose(readme, false).matchAll(/^## (.+)$/gm)].map((match) => match[1]!);
    const setUp = headings.findIndex((heading) => section(readme, heading).includes('npm install && npm run call'));
    expect(headings[setUp + 1]).to.equal('Demo log-ins');
  });

  it("the README's demo log-ins are the demo caseload's own", () => {
    type Person = { participantId: string; pin?: string; ssn: string };
    const people = new Map((JSON.parse(read('src/domain/demo-caseload.json')) as { participants: Person[] }).participants.map((p) => [p.participantId, p]));
    const rows = [...section(readme, 'Demo log-ins').matchAll(/^\| (\d{10}) \| [^|]+ \| ([^|]+) \| (\d{9}) \|/gm)];
    expect(rows.length).to.be.greaterThan(5);
    for (const [, id, pin, ssn] of rows) {
      const person = people.get(id!);
      expect(person, id).to.not.equal(undefined);
      expect(pin!.trim(), id).to.equal(person?.pin ?? '(none)');
      expect(ssn, id).to.equal(person?.ssn);
    }
  });

  it('every relative link lands on a file in the repository, and every #anchor on a heading there', () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const { target } of linksOf(page)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const [path = '', anchor] = target.split('#', 2);
        const file = path === '' ? join(ROOT, page) : resolve(ROOT, dirname(page), decodeURI(path));
        if (relative(ROOT, file).startsWith('..')) broken.push(`${page}: ${target} leaves the repository`);
        else if (!existsSync(file)) broken.push(`${page}: ${target}: no such file`);
        else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
          broken.push(`${page}: ${target}: no such heading`);
        }
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it('no link or address points outside the repository', () => {
    const outside: string[] = [];
    for (const page of PAGES) {
      for (const { target } of linksOf(page)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) && !(/^https?:\/\//i.test(target) && exampleHost(target.replace(/^https?:\/\//i, '').split(/[/?#]/)[0]!))) {
          outside.push(`${page}: ${target}`);
        }
      }
    }
    for (const page of CHECKED) {
      const text = read(page);
      for (const match of text.matchAll(/\bhttps?:\/\/([^\s/)`"'<>\]\\]*)/gi)) {
        if (!exampleHost(match[1]!)) outside.push(`${page}: ${match[0]}`);
      }
      for (const match of text.matchAll(/\.\.\/shared|\b(?:CASELOAD|IVR-SPEC|PLATFORM-NOTES|STYLE)\.md\b/g)) outside.push(`${page}: ${match[0]}`);
    }
    expect(outside).to.deep.equal([]);
  });

  it("every setting src/config.ts reads is in docs/operators.md's configuration table", () => {
    const settings = [...read('src/config.ts').matchAll(/env(?:\.|\[')([A-Z][A-Z0-9_]+)|'([A-Z][A-Z0-9_]+)'/g)].map((match) => match[1] ?? match[2]!);
    expect(settings).to.include.members(['PORT', 'PUBLIC_URL', 'REDIS_URL', 'TWILIO_AUTH_TOKEN', 'LOG_LEVEL']);
    const table = section(read('docs/operators.md'), 'Configuration');
    const named = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) => [...row[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!)));
    expect([...new Set(settings)].filter((name) => !named.has(name))).to.deep.equal([]);
  });
});
