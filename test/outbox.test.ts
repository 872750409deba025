import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Cluster, Redis } from 'ioredis';
import type { Participant, ParticipantId } from '../src/domain/caseload.ts';
import { RETURN_ADDRESS, renderLetter } from '../src/domain/letters.ts';
import { encryptForLetter } from '../src/domain/pin.ts';
import type { CaseloadStore, LoadedCaseload } from '../src/domain/caseload-store.ts';
import { DEFAULT_IDENTIFICATION_POLICY } from '../src/domain/identification.ts';
import { MAILED_FORMS, sealedPinOf, type FormLetter, type MailedForm, type Outbox, type PinLetter, type QueuedLetter } from '../src/domain/outbox.ts';
import { MemoryCaseloadStore } from '../src/store/caseload-memory.ts';
import { RedisCaseloadStore, outboxKeys } from '../src/store/caseload-redis.ts';
import { printAndMail, type LetterOutcome, type PrintAndMailOptions, type PrintSummary } from '../src/jobs/print-and-mail.ts';
import { MemoryOutbox, PRINT_AND_MAIL_GROUP, RedisOutbox } from '../src/store/outbox.ts';
import { keysUnder, RedisRun, testRedisClient, testRedisUrl } from './support/redis.ts';
import { clusterAdmin, sharedCluster } from './support/redis-servers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LETTER_KEY = 'outbox-test-pin-letter-key-0123456789abcdef';
const POLICY = DEFAULT_IDENTIFICATION_POLICY;
const QUEUED_AT = new Date('2026-11-26T18:00:00Z');
// 10:30 PM on November 26 in California, already November 27 in UTC: letters carry the Pacific date.
const PRINTED_AT = new Date('2026-11-27T06:30:00Z');

const person = (participantId: string, firstName: string, lastName: string, language: 'en' | 'es', address: Participant['mailingAddress']): Participant => ({
  participantId: participantId as ParticipantId, firstName, lastName, language, phone: null, mailingAddress: address,
});
const ROSA = person('1000000011', 'Rosa', 'Peña', 'es', { line1: '742 Calle Olivo', line2: 'Apt 3B', city: 'Fresno', state: 'CA', zip: '93702' });
const DANA = person('1000000012', 'Dana', 'Whitfield', 'en', { line1: '18 Harbor Street', line2: null, city: 'Stockton', state: 'CA', zip: '95202' });
const EXTRA = Array.from({ length: 40 }, (_, i) =>
  person(String(2000000000 + i), `First${i}`, `Last${i}`, i % 2 ? 'es' : 'en', { line1: `${i} Elm Street`, line2: null, city: 'Modesto', state: 'CA', zip: '95354' }));

function caseload(): LoadedCaseload {
  return {
    participants: [ROSA, DANA, ...EXTRA].map((participant, i) => ({ participant, ssnHash: `ssn-hash-${i}`, pinHash: null, resetPin: false })),
    cases: [],
  };
}

const addressee = (p: Participant) => ({
  participantId: p.participantId, language: p.language, name: `${p.firstName} ${p.lastName}`, address: p.mailingAddress, createdAt: QUEUED_AT.toISOString(),
});
const pinLetter = (p: Participant, pin: string, key = LETTER_KEY): PinLetter => ({ ...addressee(p), kind: 'pin-reset', encryptedPin: encryptForLetter(pin, key) });
const formLetter = (p: Participant, form: MailedForm): FormLetter => ({ ...addressee(p), kind: 'form', form });

const render = (letter: QueuedLetter, date: Date) => renderLetter(letter, { pinLetterKey: LETTER_KEY, date });

type Run = { summary: PrintSummary; outcomes: LetterOutcome[] };

async function runJob(outbox: Outbox, outDir: string, options: Partial<PrintAndMailOptions> = {}): Promise<Run> {
  const outcomes: LetterOutcome[] = [];
  const summary = await printAndMail(outbox, {
    outDir, consumer: 'job-1', render, clock: () => PRINTED_AT, onLetter: (o) => outcomes.push(o), ...options,
  });
  return { summary, outcomes };
}

async function letterFiles(outDir: string): Promise<string[]> {
  const names = await readdir(outDir);
  expect(names.filter((n) => !n.endsWith('.txt')), 'only finished letters are left in the output directory').to.deep.equal([]);
  return names.sort();
}

const crashAt = (letterIds: string[]) => async (letterId: string) => {
  if (letterIds.includes(letterId)) throw new Error('the job stopped here');
};

/** A store with its outbox, seen by the job (over another connection, for Redis), and all it holds as text. */
type Harness = {
  store: CaseloadStore;
  outbox(options?: { minIdleMs?: number }): Outbox;
  everything(): Promise<string>;
};

function outboxContract(name: string, open: () => Promise<Harness>): void {
  describe(`mail outbox: ${name}`, function () {
    let h: Harness;
    let outDir: string;

    beforeEach(async function () {
      h = await open();
      await h.store.replaceCaseload(caseload());
      outDir = await mkdtemp(join(tmpdir(), 'letters-'));
    });

    afterEach(async function () {
      await rm(outDir, { recursive: true, force: true });
    });

    describe('queueing', function () {
      it('queues one letter for a request retried with the same idempotency key, even at once', async function () {
        const retries = await Promise.all(Array.from({ length: 5 }, () => h.store.queueLetter(formLetter(DANA, 'payment-coupons'), 'CA123:forms:3')));
        const again = await h.store.queueLetter(formLetter(DANA, 'payment-coupons'), 'CA123:forms:3');
        const first = retries.find((r) => r.queued)!;
        expect(retries.filter((r) => r.queued)).to.have.length(1);
        expect([...retries, again].map((r) => r.letterId)).to.deep.equal(Array(6).fill(first.letterId));
        expect(again.queued).to.equal(false);

        const other = await h.store.queueLetter(formLetter(DANA, 'payment-coupons'), 'CA456:forms:3');
        expect(other).to.deep.include({ queued: true }).and.not.deep.include({ letterId: first.letterId });
        const letters = await h.store.letters();
        expect(letters.map((l) => l.letterId)).to.deep.equal([first.letterId, other.letterId]);
        expect(letters[0]).to.deep.include({ ...formLetter(DANA, 'payment-coupons'), idempotencyKey: 'CA123:forms:3', status: 'pending', sentAt: null });
      });

      it('queues a reset PIN letter with its PIN sealed, in the same outbox as forms', async function () {
        const reset = await h.store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
        await h.store.queueLetter(formLetter(ROSA, 'change-of-address'), 'CA1:forms:1');
        const [pin, form] = await h.store.letters();
        expect(pin?.letterId).to.equal(reset.ok ? reset.letterId : null);
        expect(pin).to.deep.include({ kind: 'pin-reset', status: 'pending', sentAt: null });
        expect(sealedPinOf(pin!)).to.be.a('string').and.not.contain('604917');
        expect(form).to.deep.include({ kind: 'form', form: 'change-of-address' });
      });

      it('keeps the outbox, sent letters and pending ones, when the caseload is reloaded', async function () {
        await h.store.queueLetter(formLetter(DANA, 'payment-coupons'), 'k1');
        await runJob(h.outbox(), outDir);
        await h.store.queueLetter(formLetter(ROSA, 'payment-coupons'), 'k2');
        await h.store.replaceCaseload({ participants: [], cases: [] });
        expect((await h.store.letters()).map((l) => l.status)).to.deep.equal(['sent', 'pending']);
        expect((await h.store.queueLetter(formLetter(DANA, 'payment-coupons'), 'k1')).queued).to.equal(false);
        const { summary } = await runJob(h.outbox(), outDir);
        expect(summary).to.include({ printed: 1, failed: 0, stillPending: 0 });
      });
    });

    describe('printing and mailing', function () {
      it('prints a PIN letter in the participant\'s language, to the name and address on file, with the PIN', async function () {
        await h.store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
        await h.store.requestPinReset(DANA.participantId, 'hash', pinLetter(DANA, '358162'), QUEUED_AT, POLICY);
        const [rosas, danas] = await h.store.letters();

        const { summary, outcomes } = await runJob(h.outbox(), outDir);

        expect(summary).to.deep.equal({ printed: 2, foundPrinted: 0, failed: 0, stillPending: 0 });
        expect(await letterFiles(outDir)).to.deep.equal([`${rosas!.letterId}.txt`, `${danas!.letterId}.txt`].sort());
        const spanish = await readFile(join(outDir, `${rosas!.letterId}.txt`), 'utf8');
        expect(spanish.startsWith(`${RETURN_ADDRESS.join('\n')}\n`)).to.equal(true);
        expect(spanish).to.contain('\n26 de noviembre de 2026\n');
        expect(spanish).to.contain('\nRosa Peña\n742 Calle Olivo\nApt 3B\nFresno, CA 93702\n');
        expect(spanish).to.contain('\n    604917\n');
        expect(spanish).to.contain('Su nuevo PIN').and.contain('Proteja su PIN');
        const english = await readFile(join(outDir, `${danas!.letterId}.txt`), 'utf8');
        expect(english).to.contain('\nNovember 26, 2026\n');
        expect(english).to.contain('\nDana Whitfield\n18 Harbor Street\nStockton, CA 95202\n');
        expect(english).to.contain('\n    358162\n').and.contain('Keep your PIN safe');
        expect(outcomes.map((o) => [o.kind, o.language, o.city, o.zip, o.result])).to.deep.equal([
          ['pin-reset', 'es', 'Fresno', '93702', 'printed'],
          ['pin-reset', 'en', 'Stockton', '95202', 'printed'],
        ]);
      });

      it('prints each form with a cover note naming it', async function () {
        for (const form of MAILED_FORMS) await h.store.queueLetter(formLetter(DANA, form), `dana:${form}`);
        await runJob(h.outbox(), outDir);
        const names = { 'change-of-address': 'Change of Address form', 'recurring-payment-registration': 'Recurring payment registration information', 'payment-coupons': 'Payment coupons' };
        for (const letter of await h.store.letters()) {
          const text = await readFile(join(outDir, `${letter.letterId}.txt`), 'utf8');
          expect(letter.kind === 'form' && text).to.contain(`Enclosure: ${names[letter.kind === 'form' ? letter.form : 'payment-coupons']}`);
        }
      });

      it('counts the letters not sent yet, claimed or not, without claiming any', async function () {
        expect(await h.outbox().unsent()).to.equal(0);
        await h.store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
        await h.store.requestPinReset(DANA.participantId, 'hash', pinLetter(DANA, '358162'), QUEUED_AT, POLICY);
        expect(await h.outbox().unsent()).to.equal(2);
        expect(await h.outbox().unsent()).to.equal(2);
        await runJob(h.outbox(), outDir);
        expect(await h.outbox().unsent()).to.equal(0);
      });

      it('marks a letter sent, keeps its record, and forgets the sealed PIN', async function () {
        await h.store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
        const [before] = await h.store.letters();
        await runJob(h.outbox(), outDir);
        const [after] = await h.store.letters();
        expect(after).to.deep.equal({ ...before, encryptedPin: null, status: 'sent', sentAt: PRINTED_AT.toISOString() });
        expect(await h.everything()).to.not.contain(sealedPinOf(before!)!);
      });

      it('holds no PIN in clear: not in the store before or after printing, nor in what the job reports', async function () {
        const pins = ['604917', '358162'];
        await h.store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, pins[0]!), QUEUED_AT, POLICY);
        await h.store.requestPinReset(DANA.participantId, 'hash', pinLetter(DANA, pins[1]!), QUEUED_AT, POLICY);
        await h.store.queueLetter(formLetter(DANA, 'payment-coupons'), 'forms');
        const sealed = (await h.store.letters()).map(sealedPinOf).filter((s) => s !== null);
        const before = await h.everything();
        expect(sealed).to.have.length(2);
        for (const s of sealed) expect(before).to.contain(s);

        const { outcomes } = await runJob(h.outbox(), outDir);

        const after = await h.everything();
        for (const pin of pins) {
          expect(before).to.not.contain(pin);
          expect(after).to.not.contain(pin);
          expect(JSON.stringify(outcomes)).to.not.contain(pin);
          expect(JSON.stringify(await h.store.letters())).to.not.contain(pin);
        }
        for (const s of sealed) expect(after).to.not.contain(s);
      });

      it('a run that stopped after printing, before marking sent: the next one prints nothing again and marks it sent', async function () {
        await h.store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
        await h.store.queueLetter(formLetter(DANA, 'payment-coupons'), 'forms');
        const [rosas, danas] = await h.store.letters();
        let rendered = 0;
        const counting = (letter: QueuedLetter, date: Date) => ((rendered += 1), render(letter, date));

        const first = await runJob(h.outbox(), outDir, { render: counting, hooks: { afterWrite: crashAt([rosas!.letterId]) } });

        expect(first.summary).to.include({ printed: 1, failed: 1, stillPending: 1 });
        expect(await letterFiles(outDir)).to.have.length(2);
        const printed = await readFile(join(outDir, `${rosas!.letterId}.txt`), 'utf8');
        const { ino } = await stat(join(outDir, `${rosas!.letterId}.txt`));
        expect((await h.store.letters()).map((l) => l.status)).to.deep.equal(['pending', 'sent']);

        const second = await runJob(h.outbox(), outDir, { render: counting });

        expect(second.outcomes.map((o) => [o.letterId, o.result])).to.deep.equal([[rosas!.letterId, 'found-printed']]);
        expect(second.summary).to.deep.equal({ printed: 0, foundPrinted: 1, failed: 0, stillPending: 0 });
        expect(rendered).to.equal(2);
        expect(await letterFiles(outDir)).to.deep.equal([`${rosas!.letterId}.txt`, `${danas!.letterId}.txt`].sort());
        expect(await readFile(join(outDir, `${rosas!.letterId}.txt`), 'utf8')).to.equal(printed);
        expect((await stat(join(outDir, `${rosas!.letterId}.txt`))).ino).to.equal(ino);
        expect((await h.store.letters()).map((l) => [l.status, sealedPinOf(l)])).to.deep.equal([['sent', null], ['sent', null]]);
      });

      it('a run that stopped after rendering, before writing: the next one prints it once', async function () {
        await h.store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
        const [rosas] = await h.store.letters();
        await runJob(h.outbox(), outDir, { hooks: { afterRender: crashAt([rosas!.letterId]) } });
        expect(await letterFiles(outDir)).to.deep.equal([]);
        const { summary } = await runJob(h.outbox(), outDir);
        expect(summary).to.deep.equal({ printed: 1, foundPrinted: 0, failed: 0, stillPending: 0 });
        expect(await letterFiles(outDir)).to.deep.equal([`${rosas!.letterId}.txt`]);
        expect((await h.store.letters())[0]?.status).to.equal('sent');
      });

      it('a run that stopped after claiming: another consumer takes the letters over once idle, and sends them', async function () {
        await h.store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
        await h.store.queueLetter(formLetter(DANA, 'payment-coupons'), 'forms');
        const ids = (await h.store.letters()).map((l) => l.letterId);
        const crashed = await runJob(h.outbox(), outDir, { consumer: 'crashed', hooks: { afterClaim: crashAt(ids) } });
        expect(crashed.summary).to.include({ printed: 0, failed: 2, stillPending: 2 });

        // Not idle long enough yet: a run that is merely slow keeps its letters.
        const early = await runJob(h.outbox({ minIdleMs: 60_000 }), outDir, { consumer: 'other' });
        expect(early.summary).to.deep.equal({ printed: 0, foundPrinted: 0, failed: 0, stillPending: 2 });

        await sleep(60);
        const takeover = await runJob(h.outbox({ minIdleMs: 50 }), outDir, { consumer: 'other' });
        expect(takeover.summary).to.deep.equal({ printed: 2, foundPrinted: 0, failed: 0, stillPending: 0 });
        expect(await letterFiles(outDir)).to.deep.equal(ids.map((id) => `${id}.txt`).sort());
        expect((await h.store.letters()).map((l) => l.status)).to.deep.equal(['sent', 'sent']);
      });

      it('two runs at once print every letter exactly once, even taking letters from each other', async function () {
        this.timeout(30_000);
        for (const [i, p] of EXTRA.entries()) {
          if (i % 3 === 0) await h.store.requestPinReset(p.participantId, 'hash', pinLetter(p, String(500000 + i)), QUEUED_AT, POLICY);
          else await h.store.queueLetter(formLetter(p, MAILED_FORMS[i % 3]!), `extra:${i}`);
        }
        const ids = (await h.store.letters()).map((l) => l.letterId);
        // No minimum idle time: each run also takes over whatever the other holds at that moment.
        const [a, b] = await Promise.all([
          runJob(h.outbox({ minIdleMs: 0 }), outDir, { consumer: 'a', batch: 3 }),
          runJob(h.outbox({ minIdleMs: 0 }), outDir, { consumer: 'b', batch: 2 }),
        ]);
        const outcomes = [...a.outcomes, ...b.outcomes];
        expect(outcomes.filter((o) => o.result === 'failed')).to.deep.equal([]);
        const printed = outcomes.filter((o) => o.result === 'printed').map((o) => o.letterId);
        expect([...printed].sort()).to.deep.equal([...ids].sort());
        expect(await letterFiles(outDir)).to.deep.equal(ids.map((id) => `${id}.txt`).sort());
        expect((await h.store.letters()).every((l) => l.status === 'sent' && sealedPinOf(l) === null)).to.equal(true);
        expect(await h.outbox().pending()).to.equal(0);
      });

      it('a letter that cannot be printed fails alone, says why without digits, and waits for a later run', async function () {
        await h.store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917', 'a-different-pin-letter-key-0123456789'), QUEUED_AT, POLICY);
        await h.store.queueLetter(formLetter(DANA, 'payment-coupons'), 'forms');
        const { summary, outcomes } = await runJob(h.outbox(), outDir);
        expect(summary).to.deep.equal({ printed: 1, foundPrinted: 0, failed: 1, stillPending: 1 });
        const failed = outcomes.find((o) => o.result === 'failed');
        expect(failed?.reason).to.be.a('string').and.not.match(/\d{4}/);
        expect((await h.store.letters()).map((l) => l.status)).to.deep.equal(['pending', 'sent']);
      });
    });
  });
}

describe('renderLetter', function () {
  const queued = (letter: PinLetter | FormLetter): QueuedLetter => ({ ...letter, letterId: 'letter-1', idempotencyKey: 'k', status: 'pending', sentAt: null });
  const body = (text: string) => text.split('\n').slice(RETURN_ADDRESS.length).join('\n');

  it('writes Spanish letters in Spanish throughout, below the return address', function () {
    const letters = [pinLetter(ROSA, '604917'), ...MAILED_FORMS.map((form) => formLetter(ROSA, form))];
    for (const letter of letters) {
      const text = body(render(queued(letter), PRINTED_AT));
      expect(text).to.contain('Estimado(a) Rosa Peña:').and.contain('Atentamente,');
      expect(text, letter.kind).to.not.match(/\b(Dear|Your|you|press|Sincerely|Enclosure|Participant|Department|the|and|of)\b/);
    }
  });

  it('names the enclosed form in the participant\'s language', function () {
    expect(render(queued(formLetter(DANA, 'change-of-address')), PRINTED_AT)).to.contain('Change of Address form').and.contain('cannot take an address change by phone');
    expect(render(queued(formLetter(ROSA, 'change-of-address')), PRINTED_AT)).to.contain('Anexo: Formulario de cambio de dirección');
    expect(render(queued(formLetter(ROSA, 'recurring-payment-registration')), PRINTED_AT)).to.contain('pagos automáticos').and.contain('childsup.ca.gov');
    expect(render(queued(formLetter(DANA, 'payment-coupons')), PRINTED_AT)).to.contain('California State Disbursement Unit\n    P.O. Box 989067\n    West Sacramento, CA 95798');
  });

  it('shows only the last digits of the participant ID, and refuses a PIN letter whose PIN is gone', function () {
    const text = render(queued(pinLetter(DANA, '604917')), PRINTED_AT);
    expect(text).to.contain('ending in 0012').and.not.contain(DANA.participantId);
    expect(() => render({ ...queued(pinLetter(DANA, '604917')), encryptedPin: null } as QueuedLetter, PRINTED_AT)).to.throw(/sent already/);
  });

  it('keeps every line within the page width', function () {
    for (const letter of [pinLetter(ROSA, '604917'), pinLetter(DANA, '604917'), ...MAILED_FORMS.map((form) => formLetter(ROSA, form))]) {
      for (const line of render(queued(letter), PRINTED_AT).split('\n')) expect(line.length, line).to.be.at.most(72);
    }
  });
});

outboxContract('in-process', async () => {
  const store = new MemoryCaseloadStore();
  // Maps and Sets written out, private fields too: the whole store as text.
  const replacer = (_: string, value: unknown) => (value instanceof Map ? [...value] : value instanceof Set ? [...value] : value);
  return {
    store,
    outbox: (options) => new MemoryOutbox(store, options),
    everything: async () => JSON.stringify(store, replacer),
  };
});

/** Every key under `prefix` with its value, whatever its type, the consumer group's view included. */
async function everythingUnder(redis: Redis | Cluster, prefix: string): Promise<string> {
  const dump: Record<string, unknown> = {};
  for (const key of (await keysUnder(redis, prefix)).sort()) {
    const type = await redis.type(key);
    dump[key] =
      type === 'string' ? await redis.get(key)
      : type === 'list' ? await redis.lrange(key, 0, -1)
      : type === 'set' ? await redis.smembers(key)
      : type === 'hash' ? await redis.hgetall(key)
      : type === 'zset' ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
      : type === 'stream' ? [await redis.xrange(key, '-', '+'), await redis.xinfo('GROUPS', key)]
      : `unexpected type ${type}`;
  }
  return JSON.stringify(dump);
}

type CommandRun = { code: number; stdout: string; stderr: string };

function runScript(args: string[], env: Record<string, string | undefined>): Promise<CommandRun> {
  const clean = { ...process.env };
  for (const name of ['REDIS_URL', 'REDIS_PREFIX', 'PIN_LETTER_KEY', 'NODE_ENV']) delete clean[name];
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'scripts/outbox.ts', ...args], { cwd: ROOT, env: { ...clean, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('mail outbox in Redis', function () {
  const run = new RedisRun(() => testRedisClient());
  let redis: Redis;
  let jobConnection: Redis;
  let prefix: string;

  before(async function () {
    redis = await run.connect();
    jobConnection = await run.connect();
  });
  after(() => run.end());

  beforeEach(function () {
    prefix = run.nextPrefix();
  });

  outboxContract('Redis', async () => ({
    store: new RedisCaseloadStore(redis, prefix),
    outbox: (options) => new RedisOutbox(jobConnection, prefix, options),
    everything: () => everythingUnder(redis, prefix),
  }));

  describe('layout', function () {
    let store: RedisCaseloadStore;
    let outDir: string;

    beforeEach(async function () {
      store = new RedisCaseloadStore(redis, prefix);
      await store.replaceCaseload(caseload());
      outDir = await mkdtemp(join(tmpdir(), 'letters-'));
    });

    afterEach(async function () {
      await rm(outDir, { recursive: true, force: true });
    });

    it('keeps the outbox beside the caseload generations, in the {caseload} slot, the sealed PIN apart from the letter', async function () {
      const reset = await store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
      const letterId = reset.ok ? reset.letterId : '';
      const keys = outboxKeys(prefix);
      const [letter] = await store.letters();
      const outboxKeysNow = (await keysUnder(redis, prefix)).filter((k) => !k.includes(':g:') && !k.includes(':line:') && !k.endsWith(':generation') && !k.endsWith(':generations'));
      expect(outboxKeysNow.sort()).to.deep.equal([keys.stream, keys.index, keys.record(letterId), keys.secret(letterId), keys.idempotency(letter!.idempotencyKey)].sort());
      for (const key of outboxKeysNow) expect(key.startsWith(`${prefix}{caseload}:outbox`), key).to.equal(true);

      const entries = await redis.xrange(keys.stream, '-', '+');
      expect(entries.map(([, fields]) => fields)).to.deep.equal([['letterId', letterId]]);
      const record = JSON.parse((await redis.get(keys.record(letterId)))!) as Record<string, unknown>;
      expect(record).to.not.have.property('encryptedPin');
      expect(record).to.include({ letterId, kind: 'pin-reset', status: 'pending', sentAt: null, name: 'Rosa Peña' });
      expect(await redis.get(keys.secret(letterId))).to.equal(sealedPinOf(letter!));
    });

    it('marks sent in one step: the record says sent, the sealed PIN is gone, the entry is acknowledged', async function () {
      await store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
      const [letter] = await store.letters();
      const keys = outboxKeys(prefix);
      await runJob(new RedisOutbox(jobConnection, prefix), outDir);
      expect(await redis.exists(keys.secret(letter!.letterId))).to.equal(0);
      expect(JSON.parse((await redis.get(keys.record(letter!.letterId)))!)).to.include({ status: 'sent', sentAt: PRINTED_AT.toISOString(), name: 'Rosa Peña' });
      expect(((await redis.xpending(keys.stream, PRINT_AND_MAIL_GROUP)) as unknown[])[0]).to.equal(0);
      // The job's consumer is forgotten when it holds nothing, so consumers do not pile up run after run.
      expect(await redis.xinfo('CONSUMERS', keys.stream, PRINT_AND_MAIL_GROUP)).to.deep.equal([]);
    });

    it('starts on an empty outbox (no stream, no group yet) and finds nothing', async function () {
      const { summary } = await runJob(new RedisOutbox(jobConnection, prefix), outDir);
      expect(summary).to.deep.equal({ printed: 0, foundPrinted: 0, failed: 0, stillPending: 0 });
    });

    it('npm run outbox: prints and sends the seeded letters, one line each and a summary, never a PIN', async function () {
      this.timeout(60_000);
      const url = await testRedisUrl();
      await store.requestPinReset(ROSA.participantId, 'hash', pinLetter(ROSA, '604917'), QUEUED_AT, POLICY);
      await store.requestPinReset(DANA.participantId, 'hash', pinLetter(DANA, '358162'), QUEUED_AT, POLICY);
      await store.queueLetter(formLetter(DANA, 'recurring-payment-registration'), 'CA9:recurring');
      const letters = await store.letters();
      const env = { REDIS_URL: url, REDIS_PREFIX: prefix, PIN_LETTER_KEY: LETTER_KEY };

      const run = await runScript(['--out', outDir, '--consumer', 'test-job'], env);

      expect(run.stderr).to.equal('');
      expect(run.code).to.equal(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines).to.have.length(4);
      expect(lines[0]).to.match(new RegExp(`^sent +${letters[0]!.letterId} +pin-reset +es +Fresno 93702$`));
      expect(lines[1]).to.match(new RegExp(`^sent +${letters[1]!.letterId} +pin-reset +en +Stockton 95202$`));
      expect(lines[2]).to.match(new RegExp(`^sent +${letters[2]!.letterId} +form:recurring-payment-registration +en +Stockton 95202$`));
      expect(lines[3]).to.match(/^Outbox: 3 letters printed and sent, 0 failed; letters are in /);
      expect(run.stdout).to.not.contain('604917').and.not.contain('358162');
      expect(await letterFiles(outDir)).to.deep.equal(letters.map((l) => `${l.letterId}.txt`).sort());
      expect(await readFile(join(outDir, `${letters[0]!.letterId}.txt`), 'utf8')).to.contain('    604917');
      expect((await store.letters()).map((l) => l.status)).to.deep.equal(['sent', 'sent', 'sent']);

      const again = await runScript(['--out', outDir], env);
      expect(again.code).to.equal(0);
      expect(again.stdout.trim()).to.match(/^Outbox: 0 letters printed and sent, 0 failed;/);
    });

    it('npm run outbox refuses clearly without REDIS_URL', async function () {
      this.timeout(30_000);
      const run = await runScript(['--out', outDir], {});
      expect(run.code).to.equal(1);
      expect(run.stderr).to.match(/REDIS_URL is not set/);
      expect(await readdir(outDir)).to.deep.equal([]);
    });
  });
});

describe('mail outbox on a Redis Cluster', function () {
  const run = new RedisRun(async () => clusterAdmin(await sharedCluster()));
  let redis: Cluster;
  let jobConnection: Cluster;

  before(async function () {
    this.timeout(30_000);
    redis = await run.connect();
    jobConnection = await run.connect();
  });
  after(() => run.end());

  outboxContract('Redis Cluster', async () => {
    const prefix = run.nextPrefix();
    return {
      store: new RedisCaseloadStore(redis, prefix),
      outbox: (options) => new RedisOutbox(jobConnection, prefix, options),
      everything: () => everythingUnder(redis, prefix),
    };
  });
});
