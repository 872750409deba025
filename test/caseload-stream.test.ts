import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import bcrypt from 'bcrypt';
import { expect } from 'chai';
import { parseCaseloadJson } from '../src/domain/caseload-file.ts';
import type { ParticipantId } from '../src/domain/caseload.ts';
import { DEMO_CASELOAD_PATH, loadCaseloadFile } from '../src/domain/caseload-loader.ts';
import {
  CaseloadFileError, MAX_LINE_BYTES, readCaseloadFile, readCaseloadLines, readWholeCaseload, type CaseloadBatch,
} from '../src/domain/caseload-stream.ts';
import { MemoryCaseloadStore } from '../src/store/caseload-memory.ts';
import { generateCaseload } from '../scripts/caseload-generator.ts';

// Lets the memory test collect garbage before it measures, so it sees what is kept, not what is left.
setFlagsFromString('--expose-gc');

const SSN = '900273645';
const PIN = '735194';
const PIN_HASH = '$2b$10$27owpFKXO3of4P6t5FR3rOSBJiwlYjuy2ZdmNcMpljq6g6bUsJbYi';

const address = { line1: '1 Main Street', line2: null, city: 'Stockton', state: 'CA', zip: '95202' };

function person(participantId: string, ssn: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { participantId, ssn, firstName: 'Ada', lastName: 'Okafor', language: 'en', mailingAddress: address, ...extra };
}

function caseOf(caseNumber: string, paying: string, receiving: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    caseNumber, county: 'San Joaquin', status: 'open', payingParticipantId: paying, receivingParticipantId: receiving,
    monthlyObligation: '300.00', currentMonthDue: '300.00', arrearsPrincipal: '0.00', arrearsInterest: '0.00',
    payments: [{ receivedAt: '2026-10-01T09:00:00-07:00', amount: '300.00', method: 'check' }],
    appointments: [],
    ...extra,
  };
}

// Line 1 the version, lines 2-5 participants, lines 6-8 cases.
function records(): unknown[] {
  return [
    { version: 2 },
    { participant: person('1000000001', '900000001', { pinHash: PIN_HASH }) },
    { participant: person('1000000002', '900000002', { pin: '604281' }) },
    { participant: person('1000000003', '900000003') },
    { participant: person('1000000004', SSN, { resetPin: true }) },
    { case: caseOf('555000001', '1000000001', '1000000002') },
    { case: caseOf('555000002', '1000000003', '1000000001') },
    { case: caseOf('555000003', '1000000004', '1000000002') },
  ];
}

const text = (lines: unknown[]) => `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`;

async function collect(source: Iterable<string | Uint8Array>, batchSize?: number): Promise<CaseloadBatch[]> {
  const batches: CaseloadBatch[] = [];
  for await (const batch of readCaseloadLines(Readable.from(source), batchSize === undefined ? {} : { batchSize })) batches.push(batch);
  return batches;
}

async function errorOf(source: Iterable<string | Uint8Array>): Promise<string> {
  try {
    await collect(source);
  } catch (error) {
    expect(error).to.be.instanceOf(CaseloadFileError);
    return (error as Error).message;
  }
  throw new Error('expected the file to be refused');
}

/** The records with one line replaced (or, given undefined, removed). */
function changed(line: number, record?: unknown): string[] {
  const lines = records().map((r) => JSON.stringify(r));
  if (record === undefined) lines.splice(line - 1, 1);
  else lines[line - 1] = typeof record === 'string' ? record : JSON.stringify(record);
  return [text(lines)];
}

describe('caseload stream (JSON Lines)', () => {
  it('yields checked records in batches, participants first, each batch saying where it starts', async () => {
    const batches = await collect([text(records())], 3);
    expect(batches.map(({ kind, items, firstIndex, firstLine }) => ({ kind, count: items.length, firstIndex, firstLine }))).to.deep.equal([
      { kind: 'participants', count: 3, firstIndex: 0, firstLine: 2 },
      { kind: 'participants', count: 1, firstIndex: 3, firstLine: 5 },
      { kind: 'cases', count: 3, firstIndex: 0, firstLine: 6 },
    ]);
    const [first, , cases] = batches;
    expect(first?.kind === 'participants' && first.items.map((p) => [p.pin, p.pinHash, p.resetPin])).to.deep.equal([
      [null, PIN_HASH, false], ['604281', null, false], [null, null, false],
    ]);
    expect(cases?.kind === 'cases' && cases.items[0]?.payments[0]).to.deep.equal({ receivedAt: '2026-10-01T16:00:00.000Z', amount: 30000, method: 'check' });
  });

  it('reads the same whatever the chunks: one byte at a time, through a character split in two', async () => {
    const lines = records();
    (lines[3] as { participant: Record<string, unknown> }).participant.lastName = 'Barragán Muñoz';
    const bytes = Buffer.from(text(lines), 'utf8');
    const whole = await collect([bytes]);
    const byteByByte = await collect(Array.from(bytes, (byte) => Buffer.from([byte])));
    expect(byteByByte).to.deep.equal(whole);
    const third = whole[0]?.kind === 'participants' ? whole[0].items[2] : undefined;
    expect(third?.participant.lastName).to.equal('Barragán Muñoz');
  });

  it('takes CRLF line ends, a byte order mark, and a last line without a line end', async () => {
    const plain = await collect([text(records())]);
    const lines = records().map((r) => JSON.stringify(r));
    expect(await collect([`\uFEFF${lines.join('\r\n')}\r\n`])).to.deep.equal(plain);
    expect(await collect([lines.join('\n')])).to.deep.equal(plain);
  });

  it('takes a file of participants and no cases', async () => {
    const batches = await collect([text(records().slice(0, 5))]);
    expect(batches.map((b) => b.kind)).to.deep.equal(['participants']);
  });

  describe('names the line and the first bad field', () => {
    const cases: [name: string, source: string[], error: string][] = [
      ['a bad amount', changed(7, { case: caseOf('555000002', '1000000003', '1000000001', {
        payments: [{ receivedAt: '2026-10-01T09:00:00-07:00', amount: '12.5', method: 'check' }],
      }) }), 'line 7: case.payments[0].amount: expected "123.45"'],
      ['a bad participant field', changed(3, { participant: person('1000000002', '900000002', { language: 'fr' }) }),
        'line 3: participant.language: expected "en" or "es"'],
      ['a version 2 field read as such', changed(4, { participant: person('1000000003', '900000003', { pinHash: 'x' }) }),
        'line 4: participant.pinHash: expected a bcrypt hash: "$2a$", "$2b$" or "$2y$", a cost from 04 to 15, "$" and 53 characters of ./A-Za-z0-9'],
      ['a case naming nobody in the file', changed(8, { case: caseOf('555000003', '1000000009', '1000000002') }),
        'line 8: case.payingParticipantId: no participant 1000000009'],
      ['a case naming one person twice', changed(8, { case: caseOf('555000003', '1000000002', '1000000002') }),
        'line 8: case.receivingParticipantId: same participant as payingParticipantId'],
      ['a participant after the cases', [text([...records(), { participant: person('1000000005', '900000005') }])],
        'line 9: participant after the cases (line 6); participants come first'],
      ['a duplicate participant ID', changed(4, { participant: person('1000000001', '900000003') }),
        'line 4: participant.participantId: duplicate of line 2'],
      ['a duplicate SSN', changed(5, { participant: person('1000000004', '900000002') }),
        'line 5: participant.ssn: duplicate of line 3'],
      ['a duplicate case number', changed(8, { case: caseOf('555000001', '1000000004', '1000000002') }),
        'line 8: case.caseNumber: duplicate of line 6'],
      ['a case number that differs only by leading zeros is not a duplicate, but a bad later field still is found',
        changed(8, { case: caseOf('0555000001', '1000000004', '1000000002', { status: 'x' }) }), 'line 8: case.status: expected "open" or "closed"'],
      ['a record that is not one', changed(3, '[1, 2]'), 'line 3: expected {"participant":{...}} or {"case":{...}}'],
      ['two records on one line', changed(3, { participant: person('1000000002', '900000002'), case: {} }),
        'line 3: expected {"participant":{...}} or {"case":{...}}'],
      ['an unknown record', changed(3, { comment: 'made up' }), 'line 3: comment: unknown field'],
      ['an unknown field in a record', changed(3, { participant: person('1000000002', '900000002', { email: 'a@b.c' }) }),
        'line 3: participant.email: unknown field'],
      ['a blank line', changed(4, ''), 'line 4: empty line; one record a line, with no blank lines'],
      ['a line that is not JSON', changed(4, `{"participant":{"ssn":${SSN}x}}`), 'line 4: not valid JSON (column 32)'],
      ['no version line', changed(1), 'line 1: expected {"version":2} (a .jsonl file is version 2)'],
      ['version 1', changed(1, { version: 1 }), 'line 1: version: expected 2 (a .jsonl file is version 2)'],
      ['a version line with more in it', changed(1, { version: 2, participants: [] }), 'line 1: expected {"version":2} (a .jsonl file is version 2)'],
      ['an empty file', [''], 'line 1: expected {"version":2} (a .jsonl file is version 2)'],
    ];
    for (const [name, source, error] of cases) {
      it(name, async () => {
        expect(await errorOf(source)).to.equal(error);
      });
    }
  });

  describe('reports the first bad field of the file even when a duplicate is found late', () => {
    it('an early duplicate ID before a later bad field', async () => {
      const lines = records();
      lines[2] = { participant: person('1000000001', '900000002') }; // line 3 repeats line 2's ID
      lines[4] = { participant: person('1000000004', SSN, { language: 'fr' }) }; // line 5 is bad
      expect(await errorOf([text(lines)])).to.equal('line 3: participant.participantId: duplicate of line 2');
    });

    it('a later duplicate does not hide an earlier bad field', async () => {
      const lines = records();
      lines[2] = { participant: person('1000000002', '900000002', { language: 'fr' }) };
      lines[4] = { participant: person('1000000001', SSN) };
      expect(await errorOf([text(lines)])).to.equal('line 3: participant.language: expected "en" or "es"');
    });

    it('a duplicate ID on the same line as a bad later field', async () => {
      const lines = records();
      lines[3] = { participant: person('1000000001', '900000003', { language: 'fr' }) };
      expect(await errorOf([text(lines)])).to.equal('line 4: participant.participantId: duplicate of line 2');
    });

    it('the ID before the SSN on one line, and the earlier line of two duplicates', async () => {
      const lines = records();
      lines[3] = { participant: person('1000000001', '900000001') }; // both repeat line 2
      lines[4] = { participant: person('1000000002', '900000002') }; // both repeat line 3
      expect(await errorOf([text(lines)])).to.equal('line 4: participant.participantId: duplicate of line 2');
      lines[3] = { participant: person('1000000003', '900000002') }; // the SSN repeats line 3
      expect(await errorOf([text(lines)])).to.equal('line 4: participant.ssn: duplicate of line 3');
    });

    it('a duplicate participant before a bad case', async () => {
      const lines = records();
      lines[4] = { participant: person('1000000004', '900000001') };
      lines[5] = { case: caseOf('555000001', '1000000001', '1000000009') };
      expect(await errorOf([text(lines)])).to.equal('line 5: participant.ssn: duplicate of line 2');
    });

    it('a duplicate case number before a bad case', async () => {
      const lines = records();
      lines[6] = { case: caseOf('555000001', '1000000003', '1000000001') };
      lines[7] = { case: caseOf('555000003', '1000000004', '1000000002', { county: '' }) };
      expect(await errorOf([text(lines)])).to.equal('line 7: case.caseNumber: duplicate of line 6');
    });
  });

  it('refuses a line that never ends, without holding it', async () => {
    const chunk = `{"participant":{"firstName":"${'a'.repeat(64 * 1024)}`;
    const endless = [text(records().slice(0, 2)), ...Array.from({ length: Math.ceil(MAX_LINE_BYTES / chunk.length) + 1 }, () => chunk)];
    expect(await errorOf(endless)).to.equal('line 3: longer than 4 MiB; one record a line');
    const long = JSON.stringify({ participant: person('1000000002', '900000002', { lastName: 'a'.repeat(MAX_LINE_BYTES) }) });
    expect(await errorOf([`${text(records().slice(0, 2))}${long}\n`]), 'a whole line in one chunk').to.equal('line 3: longer than 4 MiB; one record a line');
  });

  it('never puts an SSN, PIN or PIN hash into an error', async () => {
    const secrets = [SSN, PIN, PIN_HASH, PIN_HASH.slice(7)];
    const broken: string[][] = [
      changed(5, { participant: person('1000000004', `${SSN}1`) }),
      changed(5, { participant: { ...person('1000000004', SSN), ssn: Number(SSN) } }),
      changed(5, { participant: person('1000000004', SSN, { pin: `${PIN}123` }) }),
      changed(5, { participant: person('1000000004', SSN, { pin: PIN, pinHash: PIN_HASH }) }),
      changed(5, { participant: person('1000000004', SSN, { pinHash: `${PIN_HASH}x` }) }),
      changed(5, { participant: { ...person('1000000004', SSN), [SSN]: PIN } }),
      changed(5, `{"participant":{"ssn":"${SSN}","pin":"${PIN}"`),
      changed(5, `{"participant":{"pinHash":"${PIN_HASH}" "ssn":"${SSN}"}}`),
      changed(6, { [SSN]: { pin: PIN } }),
      [text([...records(), { participant: person('1000000005', SSN, { pin: PIN }) }])],
      changed(3, { participant: person('1000000002', SSN) }),
    ];
    for (const source of broken) {
      const error = await errorOf(source);
      for (const secret of secrets) expect(error).to.not.include(secret);
    }
  });
});

describe('caseload files of either form', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'caseload-stream-test-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('give the same records for the same data', async () => {
    const demo = JSON.parse(await readFile(DEMO_CASELOAD_PATH, 'utf8'));
    const linesPath = join(dir, 'demo.jsonl');
    await writeFile(linesPath, text([
      { version: 2 },
      ...demo.participants.map((participant: unknown) => ({ participant })),
      ...demo.cases.map((c: unknown) => ({ case: c })),
    ]));
    const fromLines = await readWholeCaseload(linesPath);
    const fromDocument = await readWholeCaseload(DEMO_CASELOAD_PATH);
    expect(fromLines.participants).to.have.length(demo.participants.length);
    expect(fromLines).to.deep.equal(fromDocument);
    const parsed = parseCaseloadJson(JSON.stringify(demo));
    expect(parsed.ok && parsed.caseload).to.deep.equal(fromDocument);
  });

  it('include the examples in docs/caseload.md, which are valid files', async () => {
    const docs = await readFile(new URL('../docs/caseload.md', import.meta.url), 'utf8');
    const block = (language: string) => new RegExp(`\`\`\`${language}\n([\\s\\S]*?)\`\`\`\n`).exec(docs)?.[1] ?? '';
    const document = parseCaseloadJson(block('json'));
    if (!document.ok) throw new Error(document.error);
    const lines = await collect([block('jsonl')]);
    const dana = lines[0]?.kind === 'participants' ? lines[0].items[0] : undefined;
    expect(lines.map((b) => [b.kind, b.items.length])).to.deep.equal([['participants', 2], ['cases', 1]]);
    expect(document.caseload.participants[0]?.pin).to.equal(PIN);
    expect(await bcrypt.compare(PIN, dana?.pinHash ?? '')).to.equal(true);
  });

  it('read a .json document through the same iterator, in batches without line numbers', async () => {
    const demo = JSON.parse(await readFile(DEMO_CASELOAD_PATH, 'utf8')) as { participants: unknown[]; cases: unknown[] };
    const batches: CaseloadBatch[] = [];
    for await (const batch of readCaseloadFile(DEMO_CASELOAD_PATH, { batchSize: 4 })) batches.push(batch);
    // Batches of 4 in the order of the file, the last of each kind with what is left.
    const inFours = (kind: string, count: number) => Array.from({ length: Math.ceil(count / 4) }, (_, i) => [kind, Math.min(4, count - 4 * i), 4 * i, null]);
    expect(batches.map(({ kind, items, firstIndex, firstLine }) => [kind, items.length, firstIndex, firstLine])).to.deep.equal([
      ...inFours('participants', demo.participants.length), ...inFours('cases', demo.cases.length),
    ]);
  });

  it('report a bad .json document by the path of the field, as before', async () => {
    const demo = JSON.parse(await readFile(DEMO_CASELOAD_PATH, 'utf8'));
    demo.cases[2].payments[0].amount = '12.5';
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify(demo));
    let error: unknown = null;
    await readWholeCaseload(path).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(CaseloadFileError);
    expect((error as Error).message).to.equal('cases[2].payments[0].amount: expected "123.45"');
  });

  it('load into a store as before: a .jsonl file too, with a file\'s PIN hash stored as it is', async () => {
    const path = join(dir, 'small.jsonl');
    await writeFile(path, text(records()));
    const store = new MemoryCaseloadStore();
    expect(await loadCaseloadFile(path, store, { ssnHashKey: 'stream-test-key', bcryptCost: 4 })).to.include({ participants: 4, cases: 3 });
    expect((await store.credentials('1000000001' as ParticipantId)).pinHash).to.equal(PIN_HASH);
    expect(await bcrypt.compare('604281', (await store.credentials('1000000002' as ParticipantId)).pinHash ?? '')).to.equal(true);
    expect((await store.credentials('1000000003' as ParticipantId)).pinHash).to.equal(null);

    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, changed(7, { case: caseOf('555000002', '1000000003', '1000000009') })[0] as string);
    const error = await loadCaseloadFile(bad, new MemoryCaseloadStore(), { ssnHashKey: 'k', bcryptCost: 4 }).then(() => null, (e: unknown) => e);
    expect((error as Error).message).to.equal(`${bad}: line 7: case.receivingParticipantId: no participant 1000000009`);
  });

  it('let a missing file fail as the file system says', async () => {
    for (const name of ['none.json', 'none.jsonl']) {
      const error = await readWholeCaseload(join(dir, name)).then(() => null, (e: unknown) => e);
      expect((error as NodeJS.ErrnoException).code, name).to.equal('ENOENT');
    }
  });

  it('read a large .jsonl file with memory that does not grow with it', async function () {
    this.timeout(60_000);
    const path = join(dir, 'large.jsonl');
    const out = createWriteStream(path);
    await generateCaseload({ participants: 200_000, seed: 'memory', pinShare: 0.6, cost: 4, asOf: '2026-11-26' }, out);
    out.end();
    await finished(out);
    const bytes = (await stat(path)).size;
    // What the reader keeps alive, after a full collection: the heap and array buffers (its key logs).
    const collect = runInNewContext('gc') as () => void;
    const live = () => {
      collect();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    // Holding the file would take more than its size in strings alone, let alone the records.
    const bound = 24 * 1024 * 1024;
    expect(bytes).to.be.above(4 * bound);

    const before = live();
    let peak = 0;
    let participants = 0;
    let cases = 0;
    let batches = 0;
    for await (const batch of readCaseloadFile(path)) {
      if (batch.kind === 'participants') participants += batch.items.length;
      else cases += batch.items.length;
      batches += 1;
      if (batches % 25 === 0) peak = Math.max(peak, live() - before);
    }
    expect([participants, cases]).to.deep.equal([200_000, 100_000]);
    expect(peak, `kept ${Math.round(peak / 1e6)} MB alive reading ${Math.round(bytes / 1e6)} MB`).to.be.below(bound);
  });
});
