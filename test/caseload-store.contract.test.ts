import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcrypt';
import { expect } from 'chai';
import type { Cluster, Redis } from 'ioredis';
import { roleIn, type Case, type CaseNumber, type Participant, type ParticipantId } from '../src/domain/caseload.ts';
import { parseCaseloadFile, type ParsedCase, type ParsedCaseload } from '../src/domain/caseload-file.ts';
import { DEMO_CASELOAD_PATH, prepareCaseload } from '../src/domain/caseload-loader.ts';
import { cents } from '../src/domain/money.ts';
import { ssnHash } from '../src/domain/crypto.ts';
import { decryptForLetter, encryptForLetter } from '../src/domain/pin.ts';
import type { CaseloadStore, LoadedCaseload } from '../src/domain/caseload-store.ts';
import { WITHHELD, callerKeyOf, type CallerKey, type IdentificationMethod, type IdentificationPolicy } from '../src/domain/identification.ts';
import { sealedPinOf, type PinLetter } from '../src/domain/outbox.ts';
import { MemoryCaseloadStore } from '../src/store/caseload-memory.ts';
import { RedisCaseloadStore, bucketOf, outboxKeys } from '../src/store/caseload-redis.ts';
import { keysUnder, RedisRun, testRedisClient } from './support/redis.ts';
import { clusterAdmin, sharedCluster } from './support/redis-servers.ts';
import { rejection } from './support/rejection.ts';

const SECRETS = { ssnHashKey: 'contract-test-ssn-key', bcryptCost: 4 };
const LETTER_KEY = 'contract-test-pin-letter-key-0123456789';
const POLICY: IdentificationPolicy = {
  lockAfter: 3, windowMs: 3600_000, perNumber: 5, perWithheld: 10, numberWindowMs: 600_000, alarmPerMinute: 4, resetIntervalMs: 24 * 3600_000,
};
const CALLER = callerKeyOf('+19165550143', 'contract-test-caller-key');
const OTHER_CALLER = callerKeyOf('+12135550188', 'contract-test-caller-key');
const AT = new Date('2026-11-26T18:00:00Z');
const minutes = (n: number) => new Date(AT.getTime() + n * 60_000);

const id = (text: string) => text as ParticipantId;
const caseNo = (text: string) => text as CaseNumber;

function parsed(json: unknown): ParsedCaseload {
  const result = parseCaseloadFile(json);
  if (!result.ok) throw new Error(result.error);
  return result.caseload;
}

const DEMO = parsed(JSON.parse(readFileSync(DEMO_CASELOAD_PATH, 'utf8')));
const DANA = id('4821930576'); // pays on one case, receives on another
const ALICIA = id('9041736285'); // receives on two cases
const TAMSIN = id('8093561274'); // no PIN yet

function demoParticipant(participantId: ParticipantId): { participant: Participant; ssn: string; pin: string | null } {
  const found = DEMO.participants.find((p) => p.participant.participantId === participantId);
  if (!found) throw new Error(`no demo participant ${participantId}`);
  return found;
}

function demoCase(caseNumber: string): ParsedCase {
  const found = DEMO.cases.find((c) => c.caseNumber === caseNumber);
  if (!found) throw new Error(`no demo case ${caseNumber}`);
  return found;
}

function withoutLedger({ payments, appointments, ...c }: ParsedCase): Case {
  void payments;
  void appointments;
  return c;
}

// Small hand-built caseload: A pays on 1 and receives on 2, B receives on 1, C pays on 2, D has no case and no PIN.
const SMALL = {
  A: { participantId: '1000000001', ssn: '900000001', pin: '604281' },
  B: { participantId: '1000000002', ssn: '900000002', pin: '57193046' },
  C: { participantId: '1000000003', ssn: '900000003', pin: '3852' },
  D: { participantId: '1000000004', ssn: '900000004' },
} as const;
const [A, B, C, D] = [id(SMALL.A.participantId), id(SMALL.B.participantId), id(SMALL.C.participantId), id(SMALL.D.participantId)];

function smallFile(lastName = 'Okafor'): unknown {
  const address = { line1: '1 Main Street', line2: null, city: 'Stockton', state: 'CA', zip: '95202' };
  const person = (p: { participantId: string; ssn: string; pin?: string }, firstName: string) => ({
    ...p, firstName, lastName, language: 'en', mailingAddress: address,
  });
  const money = { monthlyObligation: '300.00', currentMonthDue: '300.00', arrearsPrincipal: '0.00', arrearsInterest: '0.00' };
  return {
    version: 1,
    participants: [person(SMALL.A, 'Ada'), person(SMALL.B, 'Ben'), person(SMALL.C, 'Cy'), person(SMALL.D, 'Dee')],
    cases: [
      {
        caseNumber: '555000001', county: 'San Joaquin', status: 'open', payingParticipantId: SMALL.A.participantId, receivingParticipantId: SMALL.B.participantId,
        ...money, payments: [], appointments: [],
      },
      {
        caseNumber: '555000002', county: 'San Joaquin', status: 'closed', payingParticipantId: SMALL.C.participantId, receivingParticipantId: SMALL.A.participantId,
        ...money, payments: [{ receivedAt: '2026-10-01T09:00:00-07:00', amount: '300.00', method: 'check' }], appointments: [],
      },
    ],
  };
}

const small = (lastName?: string) => prepareCaseload(parsed(smallFile(lastName)), SECRETS);
let demoLoaded: Promise<LoadedCaseload> | null = null;
const demo = () => (demoLoaded ??= prepareCaseload(DEMO, SECRETS));

function letterFor(participant: Participant, pin: string, at = AT): PinLetter {
  return {
    kind: 'pin-reset',
    participantId: participant.participantId,
    language: participant.language,
    name: `${participant.firstName} ${participant.lastName}`,
    address: participant.mailingAddress,
    createdAt: at.toISOString(),
    encryptedPin: encryptForLetter(pin, LETTER_KEY),
  };
}

// A caseload big enough that loading it takes many round trips; `version` changes every name,
// PIN hash and case status, so a read can tell which version it saw.
function bigCaseload(version: 'old' | 'new', size = 2_000): LoadedCaseload {
  const pid = (i: number) => id(String(2_000_000_000 + (i % size)));
  const participants = Array.from({ length: size }, (_, i) => ({
    participant: {
      participantId: pid(i), firstName: `${version}-first-${i}`, lastName: `${version}-last-${i}`, language: 'en' as const, phone: null,
      mailingAddress: { line1: `${i} ${version} Street`, line2: null, city: 'Fresno', state: 'CA', zip: '93702' },
    },
    ssnHash: `ssn-hash-${i}`,
    pinHash: `pin-hash-${version}-${i}`,
    resetPin: false,
  }));
  const cases: ParsedCase[] = Array.from({ length: size }, (_, i) => ({
    caseNumber: caseNo(String(700_000_000 + i)), county: 'Fresno', status: version === 'old' ? 'open' : 'closed',
    payingParticipantId: pid(i), receivingParticipantId: pid(i + 1),
    monthlyObligation: cents(10_000), currentMonthDue: cents(10_000), arrearsPrincipal: cents(version === 'old' ? 0 : 5_000), arrearsInterest: cents(0), credit: cents(0),
    payments: [{ receivedAt: '2026-10-01T16:00:00.000Z', amount: cents(10_000), method: 'check' }],
    appointments: [],
  }));
  return { participants, cases };
}

/** `elsewhere` is the same caseload as another process of the line sees it (for Redis: over another connection). */
type Opened = { store: CaseloadStore; elsewhere: CaseloadStore };

function caseloadStoreContract(name: string, open: () => Promise<Opened>): void {
  describe(`CaseloadStore contract: ${name}`, function () {
    let store: CaseloadStore;
    let elsewhere: CaseloadStore;

    beforeEach(async function () {
      ({ store, elsewhere } = await open());
    });

    describe('reading the caseload', function () {
      beforeEach(async function () {
        await store.replaceCaseload(await demo());
      });

      it('finds a participant by ID and by SSN hash, and keeps no SSN or PIN in the participant', async function () {
        const dana = demoParticipant(DANA);
        const read = await store.participant(DANA);
        expect(read).to.deep.equal(dana.participant);
        expect(JSON.stringify(read)).to.not.contain(dana.ssn).and.not.contain(dana.pin);
        expect(await store.participantBySsnHash(ssnHash(dana.ssn, SECRETS.ssnHashKey))).to.equal(DANA);
        expect(await store.participantBySsnHash(ssnHash(dana.ssn, 'another key'))).to.equal(null);
        expect(await store.participant(id('1234567890'))).to.equal(null);
        expect(await store.participantBySsnHash(ssnHash('111223333', SECRETS.ssnHashKey))).to.equal(null);
      });

      it('keeps each PIN as a bcrypt hash of it, and none for a participant without a PIN', async function () {
        const { pinHash: hash, pendingPinHash } = await store.credentials(DANA);
        expect(hash).to.match(/^\$2[aby]\$04\$/);
        expect(pendingPinHash).to.equal(null);
        expect(await bcrypt.compare(demoParticipant(DANA).pin!, hash!)).to.equal(true);
        expect(await bcrypt.compare(demoParticipant(ALICIA).pin!, hash!)).to.equal(false);
        expect(await store.credentials(TAMSIN)).to.deep.equal({ pinHash: null, pendingPinHash: null });
        expect(await store.credentials(id('1234567890'))).to.deep.equal({ pinHash: null, pendingPinHash: null });
      });

      it('lists every case of a participant, in either role, without its ledger', async function () {
        const danas = await store.casesOf(DANA);
        expect(danas).to.deep.equal([withoutLedger(demoCase('300000123456')), withoutLedger(demoCase('300000234561'))]);
        expect(danas.map((c) => roleIn(c, DANA))).to.deep.equal(['paying', 'receiving']);
        const alicias = await store.casesOf(ALICIA);
        expect(alicias.map((c) => c.caseNumber)).to.deep.equal(['190000678901', '37004512']);
        expect(alicias.map((c) => roleIn(c, ALICIA))).to.deep.equal(['receiving', 'receiving']);
        expect(await store.casesOf(id('1234567890'))).to.deep.equal([]);
      });

      it('answers [] for a participant with no cases', async function () {
        await store.replaceCaseload(await small());
        expect(await store.participant(D)).to.include({ firstName: 'Dee' });
        expect(await store.casesOf(D)).to.deep.equal([]);
        expect((await store.casesOf(A)).map((c) => [c.caseNumber, roleIn(c, A)])).to.deep.equal([['555000001', 'paying'], ['555000002', 'receiving']]);
      });

      it('lists payments newest first', async function () {
        const payments = await store.payments(caseNo('300000123456'));
        const expected = [...demoCase('300000123456').payments].sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
        expect(payments).to.have.length(8);
        expect(payments).to.deep.equal(expected);
        expect(payments[0]?.receivedAt).to.equal('2026-10-28T17:15:00.000Z');
        expect(await store.payments(caseNo('300000234561'))).to.have.length(3);
        expect(await store.payments(caseNo('999999999'))).to.deep.equal([]);
      });

      it('lists appointments', async function () {
        expect(await store.appointments(caseNo('300000123456'))).to.deep.equal(demoCase('300000123456').appointments).and.to.have.length(3);
        expect(await store.appointments(caseNo('300000234561'))).to.deep.equal([]);
        expect(await store.appointments(caseNo('999999999'))).to.deep.equal([]);
      });

      it('hands out copies', async function () {
        const read = await store.participant(DANA);
        read!.firstName = 'changed';
        read!.mailingAddress.city = 'changed';
        const [first] = await store.casesOf(DANA);
        first!.status = 'closed';
        const [payment] = await store.payments(caseNo('300000123456'));
        payment!.amount = cents(1);
        expect(await store.participant(DANA)).to.deep.equal(demoParticipant(DANA).participant);
        expect((await store.casesOf(DANA))[0]?.status).to.equal('open');
        expect((await store.payments(caseNo('300000123456')))[0]?.amount).to.equal(45_000);
      });
    });

    describe('replacing the caseload', function () {
      it('replaces everything: participants, SSNs, PINs, cases and their ledgers', async function () {
        await store.replaceCaseload(await demo());
        await store.replaceCaseload(await small());
        const dana = demoParticipant(DANA);
        expect(await store.participant(DANA)).to.equal(null);
        expect(await store.participantBySsnHash(ssnHash(dana.ssn, SECRETS.ssnHashKey))).to.equal(null);
        expect((await store.credentials(DANA)).pinHash).to.equal(null);
        expect(await store.casesOf(DANA)).to.deep.equal([]);
        expect(await store.payments(caseNo('300000123456'))).to.deep.equal([]);
        expect(await store.appointments(caseNo('300000123456'))).to.deep.equal([]);

        expect(await store.participant(A)).to.include({ firstName: 'Ada', lastName: 'Okafor' });
        expect(await store.participantBySsnHash(ssnHash(SMALL.A.ssn, SECRETS.ssnHashKey))).to.equal(A);
        expect((await store.credentials(D)).pinHash).to.equal(null);
        expect(await store.payments(caseNo('555000002'))).to.have.length(1);
      });

      it('keeps what callers did on the line: PINs changed or mailed, failures, locks and reset limits (docs/caseload.md)', async function () {
        await store.replaceCaseload(await small());
        for (let i = 0; i < POLICY.lockAfter; i++) await store.recordIdentificationFailure('pin', A, CALLER, minutes(i), POLICY);
        await store.recordIdentificationFailure('ssn', C, CALLER, minutes(0), POLICY);
        await store.changePin(C, 'hash-changed-by-phone', minutes(1));
        const reset = await store.requestPinReset(B, 'hash-from-reset', letterFor((await store.participant(B))!, '271828'), minutes(5), POLICY);
        expect(reset.ok).to.equal(true);

        const fresh = await small('Mensah');
        await store.replaceCaseload(fresh);
        expect(await store.participant(A)).to.include({ lastName: 'Mensah' });
        expect(await store.identificationState('pin', A, CALLER, minutes(6), POLICY)).to.deep.equal({ locked: true, throttled: false });
        expect(await store.recordIdentificationFailure('ssn', C, CALLER, minutes(10), POLICY)).to.include({ failures: 2, locked: false });
        expect(await store.credentials(C)).to.deep.equal({ pinHash: 'hash-changed-by-phone', pendingPinHash: null });
        expect(await store.credentials(B)).to.deep.equal({ pinHash: fresh.participants[1]?.pinHash, pendingPinHash: 'hash-from-reset' });
        expect(await store.requestPinReset(B, 'hash-from-second-reset', letterFor((await store.participant(B))!, '314159'), minutes(6), POLICY)).to.include({ reason: 'recently-reset' });
      });

      it('lets readers see the old caseload or the new one, never a mix, while a large one loads', async function () {
        this.timeout(60_000);
        const [before, after] = [bigCaseload('old'), bigCaseload('new')];
        const size = before.participants.length;
        // Participant i is party to cases i-1 and i; every field differs between the two versions.
        const versionsOf = (i: number) => {
          const ofCaseload = (c: LoadedCaseload) => ({
            participant: c.participants[i]!.participant,
            pinHash: c.participants[i]!.pinHash,
            cases: [c.cases[(i + size - 1) % size]!, c.cases[i]!].map(withoutLedger).sort((x, y) => x.caseNumber.localeCompare(y.caseNumber)),
          });
          return [ofCaseload(before), ofCaseload(after)];
        };
        await store.replaceCaseload(before);

        let loading = true;
        const load = store.replaceCaseload(after).finally(() => {
          loading = false;
        });
        let reads = 0;
        const readUntilLoaded = async () => {
          do {
            const i = Math.floor(Math.random() * size);
            const reader = before.participants[i]!.participant.participantId;
            const [participant, { pinHash }, cases] = await Promise.all([elsewhere.participant(reader), elsewhere.credentials(reader), elsewhere.casesOf(reader)]);
            const read = { participant, pinHash, cases: cases.sort((x, y) => x.caseNumber.localeCompare(y.caseNumber)) };
            for (const field of ['participant', 'pinHash', 'cases'] as const) {
              const seen = JSON.stringify(read[field]);
              expect(versionsOf(i).map((v) => JSON.stringify(v[field])), `participant ${i}: ${field} is neither version`).to.include(seen);
            }
            reads += 1;
          } while (loading);
        };
        await Promise.all([load, ...Array.from({ length: 32 }, readUntilLoaded)]);
        expect(reads).to.be.at.least(32);
        const [, latest] = versionsOf(7);
        expect(await elsewhere.participant(latest!.participant.participantId)).to.deep.equal(latest!.participant);
      });

      it('ends with one complete caseload when two loads run at once', async function () {
        this.timeout(60_000);
        const [first, second] = [bigCaseload('old', 1_000), bigCaseload('new', 1_000)];
        await Promise.all([store.replaceCaseload(first), store.replaceCaseload(second)]);
        const loaded = (await store.participant(first.participants[0]!.participant.participantId))?.firstName.startsWith('old') ? first : second;
        for (const i of [0, 499, 999]) {
          const { participant, pinHash } = loaded.participants[i]!;
          expect(await store.participant(participant.participantId)).to.deep.equal(participant);
          expect((await store.credentials(participant.participantId)).pinHash).to.equal(pinHash);
          expect(await store.casesOf(participant.participantId)).to.have.length(2);
          expect(await store.payments(loaded.cases[i]!.caseNumber)).to.have.length(1);
        }
      });
    });

    describe('identification failures, locks and per-number limits', function () {
      const fail = (who: ParticipantId | null, at: Date, caller: CallerKey = CALLER, method: IdentificationMethod = 'pin') =>
        store.recordIdentificationFailure(method, who, caller, at, POLICY);
      const stateOf = (who: ParticipantId | null, at: Date, caller: CallerKey = CALLER, method: IdentificationMethod = 'pin') =>
        store.identificationState(method, who, caller, at, POLICY);

      beforeEach(async function () {
        await store.replaceCaseload(await small());
      });

      it('counts failures per participant and method, and locks that method at lockAfter, for that participant only', async function () {
        expect(await stateOf(A, minutes(0))).to.deep.equal({ locked: false, throttled: false });
        expect(await fail(A, minutes(0))).to.include({ failures: 1, locked: false, lockedNow: false });
        expect(await fail(A, minutes(1), OTHER_CALLER)).to.include({ failures: 2, locked: false });
        expect(await fail(A, minutes(2))).to.include({ failures: 3, locked: true, lockedNow: true });
        expect(await stateOf(A, minutes(2))).to.deep.equal({ locked: true, throttled: false });
        expect(await fail(A, minutes(3))).to.include({ failures: 4, locked: true, lockedNow: false });
        expect(await stateOf(A, minutes(3), CALLER, 'ssn')).to.deep.equal({ locked: false, throttled: false });
        expect(await stateOf(B, minutes(3))).to.include({ locked: false });
        expect(await fail(B, minutes(3))).to.include({ failures: 1, locked: false });
      });

      it('lifts a lock by itself one window after the last failure, every failure moving it on', async function () {
        const window = POLICY.windowMs / 60_000;
        for (let i = 0; i < POLICY.lockAfter; i++) await fail(A, minutes(i));
        expect(await stateOf(A, minutes(window + 1))).to.include({ locked: true });
        await fail(A, minutes(window + 1));
        expect(await stateOf(A, minutes(2 * window))).to.include({ locked: true });
        expect(await stateOf(A, minutes(2 * window + 1))).to.include({ locked: false });
        expect(await fail(A, minutes(2 * window + 2))).to.include({ failures: 1, locked: false });
      });

      it('does not count failures older than the window', async function () {
        const window = POLICY.windowMs / 60_000;
        await fail(A, minutes(0));
        await fail(A, minutes(10));
        expect(await fail(A, minutes(window))).to.include({ failures: 2, locked: false });
        expect(await fail(A, minutes(window + 11))).to.include({ failures: 2, locked: false });
      });

      it('counts an unknown participant\'s failures only for the calling number and the line', async function () {
        expect(await fail(null, minutes(0))).to.include({ failures: 0, locked: false, numberFailures: 1, lineFailures: 1 });
        expect(await stateOf(null, minutes(0))).to.deep.equal({ locked: false, throttled: false });
      });

      it('gives each calling number a budget per window, any participant and method, and shares one larger budget among withheld numbers', async function () {
        for (let i = 0; i < POLICY.perNumber - 1; i++) expect(await fail(i % 2 ? A : null, minutes(i / 10), CALLER, i % 3 ? 'pin' : 'ssn')).to.include({ throttled: false });
        expect(await fail(B, minutes(1))).to.include({ numberFailures: POLICY.perNumber, throttled: true, throttledNow: true });
        expect(await stateOf(C, minutes(1))).to.deep.equal({ locked: false, throttled: true });
        expect(await stateOf(C, minutes(1), OTHER_CALLER)).to.deep.equal({ locked: false, throttled: false });
        expect(await fail(C, minutes(2))).to.include({ throttled: true, throttledNow: false });
        // The window slides: an hour (here ten minutes) after the first failures, the number may try again.
        expect(await stateOf(C, minutes(POLICY.numberWindowMs / 60_000 + 1))).to.include({ throttled: false });

        for (let i = 0; i < POLICY.perWithheld - 1; i++) expect(await fail(null, minutes(i / 10), WITHHELD)).to.include({ throttled: false });
        expect(await fail(null, minutes(1), WITHHELD)).to.include({ throttled: true, throttledNow: true });
      });

      it('raises the line-wide alarm once, on the failure that reaches the threshold in a minute', async function () {
        const results = [];
        for (let i = 0; i < POLICY.alarmPerMinute + 2; i++) results.push(await fail(null, new Date(AT.getTime() + i * 1000), i % 2 ? CALLER : OTHER_CALLER));
        expect(results.map((r) => r.alarmNow)).to.deep.equal([false, false, false, true, false, false]);
        expect(results.at(-1)).to.include({ lineFailures: POLICY.alarmPerMinute + 2 });
        expect(await fail(null, new Date(AT.getTime() + 60_000))).to.include({ lineFailures: 1, alarmNow: false });
      });

      it('counts two failures at the same instant as two, and concurrent ones atomically', async function () {
        await fail(A, minutes(0));
        expect(await fail(A, minutes(0))).to.include({ failures: 2 });
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.recordIdentificationFailure('ssn', B, CALLER, minutes(i / 10), { ...POLICY, lockAfter: 10, perNumber: 100 })));
        expect(results.map((r) => r.failures).sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(results.filter((r) => r.lockedNow)).to.have.length(1);
      });
    });

    describe('changing a PIN, and a new PIN by mail', function () {
      beforeEach(async function () {
        await store.replaceCaseload(await small());
      });

      it('changePin sets the PIN over the file\'s, also for a participant who had none, and drops a PIN mailed and not used', async function () {
        await store.changePin(A, 'hash-of-a-new-pin', minutes(0));
        expect(await store.credentials(A)).to.deep.equal({ pinHash: 'hash-of-a-new-pin', pendingPinHash: null });
        await store.changePin(D, 'hash-of-a-first-pin', minutes(0));
        expect((await store.credentials(D)).pinHash).to.equal('hash-of-a-first-pin');
        expect((await store.credentials(B)).pinHash).to.not.equal('hash-of-a-new-pin');
        await store.requestPinReset(B, 'hash-mailed', letterFor((await store.participant(B))!, '246810'), minutes(1), POLICY);
        await store.changePin(B, 'hash-chosen', minutes(2));
        expect(await store.credentials(B)).to.deep.equal({ pinHash: 'hash-chosen', pendingPinHash: null });
      });

      it('a reset keeps the current PIN beside the mailed one, clears the PIN lock and failures, and queues exactly one letter', async function () {
        const before = (await store.credentials(A)).pinHash;
        for (let i = 0; i < POLICY.lockAfter; i++) await store.recordIdentificationFailure('pin', A, CALLER, minutes(i), POLICY);
        for (let i = 0; i < POLICY.lockAfter; i++) await store.recordIdentificationFailure('ssn', A, OTHER_CALLER, minutes(i), POLICY);
        const letter = letterFor((await store.participant(A))!, '604917');

        const reset = await store.requestPinReset(A, 'hash-of-604917', letter, minutes(5), POLICY);

        expect(reset.ok).to.equal(true);
        expect(await store.credentials(A)).to.deep.equal({ pinHash: before, pendingPinHash: 'hash-of-604917' });
        expect(await store.identificationState('pin', A, CALLER, minutes(6), POLICY)).to.include({ locked: false });
        expect(await store.recordIdentificationFailure('pin', A, CALLER, minutes(6), POLICY)).to.include({ failures: 1 });
        // Only PIN login is unlocked: the ID and SSN lock is what stopped the guessing.
        expect(await store.identificationState('ssn', A, CALLER, minutes(6), POLICY)).to.include({ locked: true });
        const letters = await store.letters();
        expect(letters).to.have.length(1);
        expect(letters[0]).to.deep.include(letter);
        expect(letters[0]?.letterId).to.equal(reset.ok ? reset.letterId : null);
        expect(letters[0]?.idempotencyKey).to.be.a('string').and.not.be.empty;
        expect(decryptForLetter(sealedPinOf(letters[0]!)!, LETTER_KEY)).to.equal('604917');
        expect(JSON.stringify(letters)).to.not.contain('604917');
      });

      it('the mailed PIN, once used, is the only PIN; used again (or after another change) it changes nothing', async function () {
        await store.requestPinReset(A, 'hash-mailed', letterFor((await store.participant(A))!, '135792'), minutes(0), POLICY);
        await store.usePendingPin(A, 'hash-mailed', minutes(1));
        expect(await store.credentials(A)).to.deep.equal({ pinHash: 'hash-mailed', pendingPinHash: null });
        await store.changePin(A, 'hash-chosen', minutes(2));
        await store.usePendingPin(A, 'hash-mailed', minutes(3));
        expect(await store.credentials(A)).to.deep.equal({ pinHash: 'hash-chosen', pendingPinHash: null });
      });

      it('refuses a second reset within resetIntervalMs and allows it after', async function () {
        const ada = (await store.participant(A))!;
        const first = minutes(0);
        expect((await store.requestPinReset(A, 'hash-1', letterFor(ada, '918273', first), first, POLICY)).ok).to.equal(true);

        const soon = new Date(first.getTime() + POLICY.resetIntervalMs - 1);
        expect(await store.requestPinReset(A, 'hash-2', letterFor(ada, '827364', soon), soon, POLICY)).to.deep.equal({
          ok: false, reason: 'recently-reset', lastResetAt: first.toISOString(),
        });
        expect((await store.credentials(A)).pendingPinHash).to.equal('hash-1');
        expect(await store.letters()).to.have.length(1);

        expect((await store.requestPinReset(B, 'hash-b', letterFor((await store.participant(B))!, '736451', soon), soon, POLICY)).ok).to.equal(true);

        const later = new Date(first.getTime() + POLICY.resetIntervalMs);
        expect((await store.requestPinReset(A, 'hash-3', letterFor(ada, '645382', later), later, POLICY)).ok).to.equal(true);
        expect((await store.credentials(A)).pendingPinHash).to.equal('hash-3');
        const letters = await store.letters();
        expect(letters.map((l) => [l.participantId, decryptForLetter(sealedPinOf(l)!, LETTER_KEY)])).to.deep.equal([[A, '918273'], [B, '736451'], [A, '645382']]);
        expect(JSON.stringify(letters)).to.not.contain('918273').and.not.contain('736451').and.not.contain('645382');
      });

      it('lets only one of two concurrent resets through', async function () {
        const ada = (await store.participant(A))!;
        const results = await Promise.all([
          store.requestPinReset(A, 'hash-x', letterFor(ada, '192837'), minutes(0), POLICY),
          store.requestPinReset(A, 'hash-y', letterFor(ada, '283746'), minutes(0), POLICY),
        ]);
        expect(results.filter((r) => r.ok)).to.have.length(1);
        expect(await store.letters()).to.have.length(1);
      });
    });

    describe('what a load keeps (docs/caseload.md: one test per row of "What a load replaces, and what it keeps")', function () {
      // The line's records are made before each load starts, as they are in life; the times are real ones.
      const past = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);
      const CASE_1 = caseNo('555000001'); // A pays, B receives: $300.00 due this month
      const CASE_2 = caseNo('555000002');
      const cardPayment = (code: string, dollars: number, at = past(30)) => ({ receivedAt: at.toISOString(), amount: cents(dollars * 100), method: 'card' as const, confirmationCode: code });
      const audit = (who: ParticipantId, newPhone: string, at = past(20)) => ({ at: at.toISOString(), participantId: who, action: 'phone-update' as const, oldPhone: null, newPhone: newPhone.slice(-4), via: 'phone-line' as const });
      const today = { perDay: 3, day: '2026-11-26' };
      /** The small file with some participants' fields or some cases changed, as the agency's next file. */
      const edited = async (edit: { participants?: Record<string, Partial<Participant> & { resetPin?: boolean; pinHash?: string | null }>; cases?: Record<string, Partial<ParsedCase>> }) => {
        const file = await small();
        return {
          participants: file.participants.map((p) => {
            const { resetPin, pinHash, ...fields } = edit.participants?.[p.participant.participantId] ?? {};
            return { ...p, participant: { ...p.participant, ...fields }, resetPin: resetPin ?? p.resetPin, pinHash: pinHash === undefined ? p.pinHash : pinHash };
          }),
          cases: file.cases.map((c) => ({ ...c, ...edit.cases?.[c.caseNumber] })),
        };
      };
      const caseOf = async (who: ParticipantId, caseNumber: CaseNumber) => (await store.casesOf(who)).find((c) => c.caseNumber === caseNumber);

      beforeEach(async function () {
        await store.replaceCaseload(await small());
      });

      it('a PIN changed or reset by phone stands over the file until a file marks the participant resetPin; then the file\'s PIN stands', async function () {
        await store.changePin(A, 'hash-changed-by-phone', past(10));
        await store.requestPinReset(B, 'hash-mailed', letterFor((await store.participant(B))!, '271828'), past(9), POLICY);
        await store.usePendingPin(B, 'hash-mailed', past(8));
        const unchanged = await small();

        const kept = await store.replaceCaseload(unchanged);

        expect(kept.pinsRetired).to.equal(0);
        expect(await elsewhere.credentials(A)).to.deep.equal({ pinHash: 'hash-changed-by-phone', pendingPinHash: null });
        expect(await elsewhere.credentials(B)).to.deep.equal({ pinHash: 'hash-mailed', pendingPinHash: null });

        const resetFile = await edited({ participants: { [A]: { resetPin: true }, [B]: { resetPin: true, pinHash: 'hash-set-at-the-counter' } } });
        const reset = await store.replaceCaseload(resetFile);

        expect(reset.pinsRetired).to.equal(2);
        expect(await elsewhere.credentials(A)).to.deep.equal({ pinHash: resetFile.participants[0]!.pinHash, pendingPinHash: null });
        expect(await elsewhere.credentials(B)).to.deep.equal({ pinHash: 'hash-set-at-the-counter', pendingPinHash: null });
        // A PIN changed by phone while such a file loads is newer than the agency's reset: it stands.
        const again = await edited({ participants: { [A]: { resetPin: true } } });
        const load = await store.beginLoad();
        await store.changePin(A, 'hash-changed-while-loading', new Date(Date.now() + 1));
        await load.addParticipants(again.participants);
        await load.addCases(again.cases);
        expect((await load.commit()).pinsRetired).to.equal(0);
        expect((await elsewhere.credentials(A)).pinHash).to.equal('hash-changed-while-loading');
      });

      it('a first PIN from "Forgot my PIN" (mailed, used or not yet) stands over a file without one, until a file marks resetPin; then none stands', async function () {
        await store.requestPinReset(D, 'hash-first-pin', letterFor((await store.participant(D))!, '314159'), past(10), POLICY);
        await store.replaceCaseload(await small());
        expect(await elsewhere.credentials(D)).to.deep.equal({ pinHash: null, pendingPinHash: 'hash-first-pin' });
        await store.usePendingPin(D, 'hash-first-pin', past(5));

        const kept = await store.replaceCaseload(await small());

        expect(kept.pinsRetired).to.equal(0);
        expect(await elsewhere.credentials(D)).to.deep.equal({ pinHash: 'hash-first-pin', pendingPinHash: null });

        const reset = await store.replaceCaseload(await edited({ participants: { [D]: { resetPin: true } } }));

        expect(reset.pinsRetired).to.equal(1);
        expect(await elsewhere.credentials(D)).to.deep.equal({ pinHash: null, pendingPinHash: null });
      });

      it('a card payment stays in the balance and the history until a file lists its code on that case; then it counts once, from the file', async function () {
        const taken = cardPayment('ch_KEPT', 50);
        expect(await store.recordPayment(CASE_1, taken, { nonce: 'keep-1', keepMs: 60_000 })).to.include({ status: 'recorded' });

        const kept = await store.replaceCaseload(await small());

        expect(kept).to.include({ paymentsConfirmed: 0, confirmationMismatches: 0 });
        expect(await caseOf(A, CASE_1)).to.include({ currentMonthDue: 25_000 });
        expect((await elsewhere.payments(CASE_1)).filter((p) => p.confirmationCode === 'ch_KEPT')).to.deep.equal([taken]);

        // The agency took it in: the file lists it with its code on that case, and has applied it (and a check since).
        const confirming = await edited({ cases: { [CASE_1]: { currentMonthDue: cents(20_000), payments: [{ ...taken, receivedAt: taken.receivedAt }, { receivedAt: past(1).toISOString(), amount: cents(5_000), method: 'check' }] } } });
        const confirmed = await store.replaceCaseload(confirming);

        expect(confirmed).to.include({ paymentsConfirmed: 1, confirmationMismatches: 0 });
        expect(await caseOf(A, CASE_1), 'the balance is the file\'s, the payment not applied again').to.include({ currentMonthDue: 20_000 });
        const history = await elsewhere.payments(CASE_1);
        expect(history.filter((p) => p.confirmationCode === 'ch_KEPT'), 'listed once').to.have.length(1);
        expect(history).to.have.length(2);
        expect((await store.replaceCaseload(confirming)).paymentsConfirmed, 'counted once, not at every load').to.equal(0);
        expect((await elsewhere.payments(CASE_1)).filter((p) => p.confirmationCode === 'ch_KEPT')).to.have.length(1);
        expect(await store.unconfirmedPayments(new Date())).to.deep.equal([]);
      });

      it('a card payment whose code a file lists on another case is reported, and stays on the case the line took it on', async function () {
        const taken = cardPayment('ch_ELSEWHERE', 50);
        await store.recordPayment(CASE_1, taken, { nonce: 'keep-2', keepMs: 60_000 });

        const report = await store.replaceCaseload(await edited({ cases: { [CASE_2]: { payments: [{ ...taken }] } } }));

        expect(report).to.include({ paymentsConfirmed: 0, confirmationMismatches: 1 });
        expect(report.mismatches).to.deep.equal([{ confirmationCode: 'ch_ELSEWHERE', lineCase: CASE_1, fileCase: CASE_2 }]);
        expect(await caseOf(A, CASE_1)).to.include({ currentMonthDue: 25_000 });
        expect((await elsewhere.payments(CASE_1)).filter((p) => p.confirmationCode === 'ch_ELSEWHERE')).to.have.length(1);
        expect(await store.unconfirmedPayments(new Date())).to.deep.equal([{ ...taken, caseNumber: CASE_1 }]);
      });

      it('a phone update stands until the file carries that number, or another than the one it replaced; then the file\'s stands', async function () {
        expect(await store.updatePhone(A, '+12095550111', audit(A, '+12095550111'), today)).to.deep.equal({ ok: true, previous: null });
        expect((await store.replaceCaseload(await small())).phonesRetired).to.equal(0);
        expect(await elsewhere.participant(A)).to.include({ phone: '+12095550111' });

        // The file carries it now: nothing changes for the caller, and the line's record is retired.
        expect((await store.replaceCaseload(await edited({ participants: { [A]: { phone: '+12095550111' } } }))).phonesRetired).to.equal(1);
        expect(await elsewhere.participant(A)).to.include({ phone: '+12095550111' });

        await store.updatePhone(A, '+12095550122', audit(A, '+12095550122'), today);
        // A file still carrying the number the update replaced: the update stands.
        expect((await store.replaceCaseload(await edited({ participants: { [A]: { phone: '+12095550111' } } }))).phonesRetired).to.equal(0);
        expect(await elsewhere.participant(A)).to.include({ phone: '+12095550122' });
        // A file with yet another number (a newer change at the agency): the file's stands.
        expect((await store.replaceCaseload(await edited({ participants: { [A]: { phone: '+12095550133' } } }))).phonesRetired).to.equal(1);
        expect(await elsewhere.participant(A)).to.include({ phone: '+12095550133' });
      });

      it('lockouts, reset limits, letters and the audit trail are never touched by a load', async function () {
        for (let i = 0; i < POLICY.lockAfter; i++) await store.recordIdentificationFailure('pin', A, CALLER, past(10 - i), POLICY);
        await store.requestPinReset(B, 'hash-mailed', letterFor((await store.participant(B))!, '271828'), past(6), POLICY);
        const { encryptedPin, ...addressee } = letterFor((await store.participant(C))!, '000000');
        void encryptedPin;
        await store.queueLetter({ ...addressee, kind: 'form', form: 'payment-coupons' }, 'coupons-1');
        await store.updatePhone(C, '+12095550144', audit(C, '+12095550144'), today);
        const before = { letters: await store.letters(), audit: await store.auditTrail(10) };

        for (const file of [await small(), await small('Mensah'), await demo(), await small()]) await store.replaceCaseload(file);

        expect(await elsewhere.identificationState('pin', A, CALLER, new Date(), POLICY)).to.deep.equal({ locked: true, throttled: false });
        expect(await store.requestPinReset(B, 'hash-again', letterFor((await store.participant(B))!, '314159'), new Date(), POLICY)).to.include({ ok: false, reason: 'recently-reset' });
        expect(await elsewhere.letters()).to.deep.equal(before.letters);
        expect(before.letters).to.have.length(2);
        expect(await elsewhere.auditTrail(10)).to.deep.equal(before.audit);
        expect(before.audit).to.have.length(1);
      });
    });
  });
}

describe('prepareCaseload', function () {
  it('hashes every SSN and PIN and keeps neither in clear anywhere', async function () {
    const loaded = await demo();
    const text = JSON.stringify(loaded);
    for (const { ssn, pin } of DEMO.participants) {
      expect(text).to.not.contain(ssn);
      if (pin) expect(text).to.not.contain(pin);
    }
    expect(loaded.participants).to.have.length(DEMO.participants.length);
    expect(loaded.cases).to.deep.equal(DEMO.cases);
    for (const [i, { participant, ssnHash: hash, pinHash }] of loaded.participants.entries()) {
      const source = DEMO.participants[i]!;
      expect(participant).to.deep.equal(source.participant);
      expect(hash).to.equal(ssnHash(source.ssn, SECRETS.ssnHashKey));
      if (source.pin === null) expect(pinHash).to.equal(null);
      else expect(await bcrypt.compare(source.pin, pinHash!)).to.equal(true);
    }
  });
});

caseloadStoreContract('MemoryCaseloadStore', async () => {
  const store = new MemoryCaseloadStore();
  return { store, elsewhere: store };
});

// Another process of the line, on a busy event loop or a far network: every command starts a
// little late, so its reads of one caseload span more of a concurrent load than they would here.
function slow<Client extends Redis | Cluster>(redis: Client): Client {
  return new Proxy(redis, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string' || !/^(get|mget|hget|hmget|hexists|exists|lrange)$/.test(property)) return value;
      return async (...args: unknown[]) => {
        await sleep(2 + Math.random() * 10);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A client whose `n`th read command waits until released, as if that process stalled mid-read. */
function stallingAt(redis: Redis, n: number): { client: Redis; stalled: Promise<void>; release(): void } {
  let count = 0;
  let stalled!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (stalled = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const client = new Proxy(redis, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || (property !== 'get' && property !== 'mget' && property !== 'hget')) return value;
      return async (...args: unknown[]) => {
        count += 1;
        if (count === n) {
          stalled();
          await released;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client, stalled: reached, release };
}

/** A client whose load commands (load-entries.lua) fail from the `n`th on, as if the connection dropped mid-load. */
function failingLoadFrom(redis: Redis, n: number): Redis {
  let count = 0;
  return new Proxy(redis, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'cc_load_entries' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        count += 1;
        if (count >= n) return Promise.reject(new Error('connection lost'));
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
}

/** Every key under `prefix` with its value. */
async function contents(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const dump: Record<string, unknown> = {};
  for (const key of (await keysUnder(redis, prefix)).sort()) {
    const type = await redis.type(key);
    dump[key] =
      type === 'string' ? await redis.get(key)
      : type === 'list' ? await redis.lrange(key, 0, -1)
      : type === 'set' ? (await redis.smembers(key)).sort()
      : type === 'stream' ? await redis.xrange(key, '-', '+')
      : type === 'zset' ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
      : type === 'hash' ? Object.fromEntries(Object.entries(await redis.hgetall(key)).sort())
      : type;
  }
  return dump;
}

describe('RedisCaseloadStore', function () {
  const run = new RedisRun(() => testRedisClient());
  let redis: Redis;
  let otherConnection: Redis;
  let prefix: string;
  const base = () => `${prefix}{caseload}:`;

  before(async function () {
    redis = await run.connect();
    otherConnection = await run.connect();
  });
  after(() => run.end());

  beforeEach(function () {
    prefix = run.nextPrefix();
  });

  caseloadStoreContract('RedisCaseloadStore', async () => ({
    store: new RedisCaseloadStore(redis, prefix),
    elsewhere: new RedisCaseloadStore(slow(otherConnection), prefix),
  }));

  it('gives every caseload key the prefix and the {caseload} hash tag', async function () {
    const store = new RedisCaseloadStore(redis, prefix);
    await store.replaceCaseload(await demo());
    await store.recordIdentificationFailure('pin', DANA, CALLER, AT, POLICY);
    await store.requestPinReset(ALICIA, 'hash', letterFor(demoParticipant(ALICIA).participant, '192837'), AT, POLICY);
    const keys = await keysUnder(redis, prefix);
    expect(keys.length).to.be.greaterThan(40);
    for (const key of keys) expect(key.startsWith(`${prefix}{caseload}:`), key).to.equal(true);
    for (const key of keys) expect(key.match(/[{}]/g), key).to.have.length(2);
  });

  it('keeps no SSN or PIN in clear in Redis', async function () {
    const store = new RedisCaseloadStore(redis, prefix);
    await store.replaceCaseload(await demo());
    await store.requestPinReset(ALICIA, 'hash', letterFor(demoParticipant(ALICIA).participant, '192837'), AT, POLICY);
    const dump = JSON.stringify(await contents(redis, prefix));
    expect(dump).to.contain('$2b$04$');
    for (const { ssn, pin } of DEMO.participants) {
      expect(dump).to.not.contain(ssn);
      if (pin) expect(dump).to.not.contain(pin);
    }
    expect(dump).to.not.contain('192837');
  });

  it('leaves no key of the replaced generation behind, and keeps the line\'s side beside the generations', async function () {
    const store = new RedisCaseloadStore(redis, prefix);
    await store.replaceCaseload(await demo());
    await store.recordIdentificationFailure('pin', DANA, CALLER, AT, POLICY);
    for (let i = 0; i < POLICY.lockAfter; i++) await store.recordIdentificationFailure('pin', ALICIA, CALLER, minutes(i), POLICY);
    const reset = await store.requestPinReset(TAMSIN, 'hash', letterFor(demoParticipant(TAMSIN).participant, '192837'), AT, POLICY);
    const old = await redis.get(`${base()}generation`);

    await store.replaceCaseload(await small());

    const current = await redis.get(`${base()}generation`);
    expect(current).to.be.a('string').and.not.equal(old);
    const keys = await keysUnder(redis, prefix);
    expect(keys.filter((key) => key.includes(`:g:${old}:`))).to.deep.equal([]);
    const lineSide = keys.filter((key) => key.startsWith(`${base()}line:`));
    for (const key of lineSide) expect(await redis.pttl(key), `${key} expires, or is a record the line must keep`).to.satisfy((ttl: number) => ttl > 0 || /line:(pin-pending|changes):/.test(`${key}:`));
    const loose = keys.filter((key) => !key.startsWith(`${base()}g:${current}:`) && !key.startsWith(`${base()}line:`)).sort();
    // The outbox outlives the caseload: its stream, and the letter's record, sealed PIN and idempotency key.
    const outbox = outboxKeys(prefix);
    const [letter] = await store.letters();
    expect(letter?.letterId).to.equal(reset.ok ? reset.letterId : null);
    const letterKeys = [outbox.record(letter!.letterId), outbox.secret(letter!.letterId), outbox.idempotency(letter!.idempotencyKey)];
    expect(loose).to.deep.equal([`${base()}generation`, `${base()}generations`, outbox.stream, outbox.index, ...letterKeys].sort());
    expect(await redis.smembers(`${base()}generations`)).to.deep.equal([current]);
    // 4 participants, 3 with a PIN, 2 cases, each record a field of its kind's bucket: p, ssn, pin, cases-of per
    // participant; case, appointments, payments if any per case; then the generation's meta and list of its keys.
    const file = await small();
    const g = (kind: string, id: string) => `${base()}g:${current}:${kind}:${bucketOf(id)}`;
    const buckets = new Set([
      ...file.participants.flatMap(({ participant: { participantId: p }, ssnHash: h, pinHash }) => [g('p', p), g('ssn', h), ...(pinHash ? [g('pin', p)] : [])]),
      ...file.cases.flatMap((c) => [g('case', c.caseNumber), g('appointments', c.caseNumber), ...(c.payments.length ? [g('payments', c.caseNumber)] : [])]),
      ...file.cases.flatMap((c) => [g('cases-of', c.payingParticipantId), g('cases-of', c.receivingParticipantId)]),
    ]);
    const generationKeys = keys.filter((key) => key.startsWith(`${base()}g:${current}:`)).sort();
    expect(generationKeys).to.deep.equal([...buckets, `${base()}g:${current}:meta`, `${base()}g:${current}:keys`].sort());
    expect((await redis.smembers(`${base()}g:${current}:keys`)).sort()).to.deep.equal([...buckets].sort());
    expect(await redis.hget(g('p', A), A)).to.equal(JSON.stringify(file.participants[0]!.participant));
  });

  it('with nothing loaded, reads find nothing and writes refuse clearly', async function () {
    const store = new RedisCaseloadStore(redis, prefix);
    expect(await store.participant(DANA)).to.equal(null);
    expect(await store.participantBySsnHash('x')).to.equal(null);
    expect(await store.credentials(DANA)).to.deep.equal({ pinHash: null, pendingPinHash: null });
    expect(await store.casesOf(DANA)).to.deep.equal([]);
    expect(await store.payments(caseNo('300000123456'))).to.deep.equal([]);
    expect(await store.appointments(caseNo('300000123456'))).to.deep.equal([]);
    expect(await store.identificationState('pin', DANA, CALLER, AT, POLICY)).to.deep.equal({ locked: false, throttled: false });
    expect(await store.letters()).to.deep.equal([]);
    expect(await keysUnder(redis, prefix)).to.deep.equal([]);
  });

  it('answers from the new caseload a read that a whole load overtook', async function () {
    const store = new RedisCaseloadStore(redis, prefix);
    await store.replaceCaseload(await small());
    const fresh = await small('Mensah');
    // participant(): the pointer, then the participant; casesOf(): the pointer, the case list, then the cases.
    for (const [n, read] of [[2, (s: CaseloadStore) => s.participant(A)], [3, (s: CaseloadStore) => s.casesOf(A)]] as const) {
      const stalling = stallingAt(otherConnection, n);
      const answer = read(new RedisCaseloadStore(stalling.client, prefix));
      await stalling.stalled;
      await store.replaceCaseload(fresh);
      stalling.release();
      expect(JSON.stringify(await answer)).to.equal(JSON.stringify(await read(store)));
    }
    expect(await store.participant(A)).to.include({ lastName: 'Mensah' });
  });

  it('keeps the loaded caseload, and nothing of the new one, when a load fails half-way', async function () {
    const store = new RedisCaseloadStore(redis, prefix);
    await store.replaceCaseload(await small());
    await store.recordIdentificationFailure('pin', A, CALLER, AT, POLICY);
    const before = await contents(redis, prefix);

    const error = await rejection(new RedisCaseloadStore(failingLoadFrom(redis, 2), prefix).replaceCaseload(bigCaseload('new', 3_000)));

    expect(error.message).to.equal('connection lost');
    expect(await contents(redis, prefix)).to.deep.equal(before);
    expect(await store.participant(A)).to.include({ firstName: 'Ada' });
    expect(await store.recordIdentificationFailure('pin', A, CALLER, minutes(1), POLICY)).to.include({ failures: 2, locked: false });
  });

  it('clears away at once a load that died half-way (no heartbeat), and leaves one still writing alone', async function () {
    const store = new RedisCaseloadStore(redis, prefix);
    await store.replaceCaseload(await small());
    const [dead, writing] = [`${Date.now().toString(36)}-deadbeef`, `${Date.now().toString(36)}-0a11fe00`];
    for (const generation of [dead, writing]) {
      await redis.sadd(`${base()}generations`, generation);
      await redis.set(`${base()}g:${generation}:p:1000000001`, '{}');
    }
    await redis.set(`${base()}load:${writing}`, 'another host:1234', 'PX', 10_000);

    await store.replaceCaseload(await small('Mensah'));

    expect((await keysUnder(redis, prefix)).filter((key) => key.includes(dead))).to.deep.equal([]);
    expect(await redis.sismember(`${base()}generations`, dead)).to.equal(0);
    expect(await redis.exists(`${base()}g:${writing}:p:1000000001`)).to.equal(1);
    // Its heartbeat lapses: the next load, already at its start, takes it for dead.
    await redis.del(`${base()}load:${writing}`);
    const next = await store.beginLoad();
    expect((await keysUnder(redis, prefix)).filter((key) => key.includes(writing))).to.deep.equal([]);
    await next.abandon();
    expect(await redis.smembers(`${base()}generations`)).to.deep.equal([await redis.get(`${base()}generation`)]);
    expect(await store.participant(A)).to.include({ lastName: 'Mensah' });
  });

  it('keeps a heartbeat while loading and none after; a load taken for dead fails rather than switch in', async function () {
    const store = new RedisCaseloadStore(redis, prefix);
    await store.replaceCaseload(await small());
    const before = await contents(redis, prefix);
    const load = await store.beginLoad();
    const [generation] = (await redis.smembers(`${base()}generations`)).filter((g) => g !== before[`${base()}generation`]);
    expect(await redis.pttl(`${base()}load:${generation}`)).to.be.within(1, 10_000);
    await load.addParticipants(bigCaseload('new', 100).participants);
    // Another load found its heartbeat lapsed (a stall longer than the heartbeat) and cleared it.
    await redis.del(`${base()}load:${generation}`);

    const error = await rejection(load.commit());

    expect(error.message).to.contain('another load took it for dead').and.contain('nothing was changed');
    expect(await contents(redis, prefix)).to.deep.equal(before);
    const fresh = await store.beginLoad();
    await fresh.addParticipants((await small('Mensah')).participants);
    await fresh.commit();
    expect((await keysUnder(redis, prefix)).filter((key) => key.includes(':load:'))).to.deep.equal([]);
  });
});

describe('RedisCaseloadStore on a Redis Cluster', function () {
  const run = new RedisRun(async () => clusterAdmin(await sharedCluster()));
  let cluster: Cluster;
  let otherConnection: Cluster;

  before(async function () {
    this.timeout(30_000);
    cluster = await run.connect();
    otherConnection = await run.connect();
  });
  after(() => run.end());

  caseloadStoreContract('RedisCaseloadStore on a Cluster', async () => {
    const prefix = run.nextPrefix();
    return { store: new RedisCaseloadStore(cluster, prefix), elsewhere: new RedisCaseloadStore(slow(otherConnection), prefix) };
  });
});
