// Accounts.caseInformation over both stores: each parent hears their cases and, of the
// appointments to come, only those for them (docs/caseload.md, appointments[].attendee).
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { Accounts } from '../src/domain/accounts.ts';
import type { Appointment, CaseNumber, ParticipantId } from '../src/domain/caseload.ts';
import type { ParsedAppointment, ParsedCase } from '../src/domain/caseload-file.ts';
import type { CaseloadStore, LoadedCaseload } from '../src/domain/caseload-store.ts';
import { cents } from '../src/domain/money.ts';
import { MemoryCaseloadStore } from '../src/store/caseload-memory.ts';
import { RedisCaseloadStore } from '../src/store/caseload-redis.ts';
import { flushPrefix, testRedisClient, testRedisUrl, uniquePrefix } from './support/redis.ts';

const NOW = new Date('2026-11-24T18:00:00Z');
const PAYER = '1000000001' as ParticipantId;
const RECEIVER = '1000000002' as ParticipantId;
const CASE = '555000001' as CaseNumber;

const appointment = (day: number, description: string, attendee?: ParsedAppointment['attendee']): ParsedAppointment => ({
  at: `2026-12-${String(day).padStart(2, '0')}T17:00:00.000Z`, kind: 'appointment', location: 'Stockton Child Support Services', description,
  // No attendee at all: an appointment loaded before caseload files said whom it was for.
  ...(attendee ? { attendee } : {}),
} as ParsedAppointment);

function caseload(): LoadedCaseload {
  const address = { line1: '1 Main Street', line2: null, city: 'Stockton', state: 'CA', zip: '95202' };
  const person = (participantId: ParticipantId, firstName: string) => ({
    participant: { participantId, firstName, lastName: 'Okafor', language: 'en' as const, phone: null, mailingAddress: address },
    ssnHash: `ssn-${participantId}`, pinHash: null, resetPin: false,
  });
  const theCase: ParsedCase = {
    caseNumber: CASE, county: 'San Joaquin', status: 'open', payingParticipantId: PAYER, receivingParticipantId: RECEIVER,
    monthlyObligation: cents(30_000), currentMonthDue: cents(30_000), arrearsPrincipal: cents(0), arrearsInterest: cents(0), credit: cents(0),
    payments: [],
    appointments: [
      appointment(1, 'Payment plan review', 'paying'),
      appointment(2, 'Interview about the children', 'receiving'),
      appointment(3, 'Hearing to review the order', 'both'),
      appointment(4, 'Meeting loaded by an older file'),
    ],
  };
  return { participants: [person(PAYER, 'Ada'), person(RECEIVER, 'Ben')], cases: [theCase] };
}

function caseInformationContract(name: string, open: () => Promise<CaseloadStore>): void {
  describe(`case information: who hears an appointment (${name})`, function () {
    let accounts: Accounts;

    beforeEach(async function () {
      const store = await open();
      await store.replaceCaseload(caseload());
      accounts = new Accounts(store, { ssnHashKey: 'k', pinLetterKey: 'k'.repeat(32), bcryptCost: 4 }, () => NOW);
    });

    const heard = async (who: ParticipantId) => (await accounts.caseInformation(who)).appointments.map((a: Appointment) => a.description);

    it('the paying parent hears the appointments for the paying parent and for both, not those for the receiving parent', async function () {
      expect(await heard(PAYER)).to.deep.equal(['Payment plan review', 'Hearing to review the order', 'Meeting loaded by an older file']);
    });

    it('the receiving parent hears the appointments for the receiving parent and for both, not those for the paying parent', async function () {
      expect(await heard(RECEIVER)).to.deep.equal(['Interview about the children', 'Hearing to review the order', 'Meeting loaded by an older file']);
    });

    it('both still hear the case itself', async function () {
      expect((await accounts.caseInformation(PAYER)).cases).to.deep.equal([{ caseNumber: CASE, county: 'San Joaquin', status: 'open', role: 'paying' }]);
      expect((await accounts.caseInformation(RECEIVER)).cases).to.deep.equal([{ caseNumber: CASE, county: 'San Joaquin', status: 'open', role: 'receiving' }]);
    });
  });
}

caseInformationContract('in process', async () => new MemoryCaseloadStore());

describe('case information on Redis', function () {
  const prefix = uniquePrefix();
  let redis: Redis;
  let n = 0;

  before(async function () {
    redis = await testRedisClient(await testRedisUrl());
  });

  after(async function () {
    if (!redis) return;
    await flushPrefix(redis, prefix);
    redis.disconnect();
  });

  caseInformationContract('Redis', async () => new RedisCaseloadStore(redis, `${prefix}${(n += 1)}:`));
});
