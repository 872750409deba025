import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  PAYMENT_METHODS, paymentHistory, parseCaseNumber, parseParticipantId, roleIn, upcoming,
  type Appointment, type ParticipantId, type Payment,
} from '../src/domain/caseload.ts';
import { parseCaseloadFile, parseCaseloadJson, type ParsedCaseload } from '../src/domain/caseload-file.ts';
import { balanceTotal, cents } from '../src/domain/money.ts';

const DEMO_TEXT = readFileSync(new URL('../src/domain/demo-caseload.json', import.meta.url), 'utf8');
// The day the demo caseload is written around (Thanksgiving 2026).
const NOW = new Date('2026-11-26T10:00:00-08:00');

const SSNS = ['518273645', '627384756'];
const PINS = ['735194', '40718263'];
// bcrypt, cost 10, of PINS[0] (the hash in docs/caseload.md).
const BCRYPT_735194 = '$2b$10$27owpFKXO3of4P6t5FR3rOSBJiwlYjuy2ZdmNcMpljq6g6bUsJbYi';

// A small valid file; each test breaks one thing in a fresh copy.
function validFile(): any {
  return {
    version: 1,
    participants: [
      {
        participantId: '4821930576', ssn: SSNS[0], pin: PINS[0], firstName: 'Dana', lastName: 'Whitfield', language: 'en',
        phone: '+19165550143',
        mailingAddress: { line1: '1412 Alder Way', line2: null, city: 'Sacramento', state: 'CA', zip: '95814' },
      },
      {
        participantId: '7719203846', ssn: SSNS[1], pin: PINS[1], firstName: 'Terrence', lastName: 'Holloway', language: 'es',
        mailingAddress: { line1: '2690 Fair Oaks Boulevard', line2: 'Apt 12', city: 'Sacramento', state: 'CA', zip: '95825' },
      },
    ],
    cases: [
      {
        caseNumber: '300000123456', county: 'Sacramento', status: 'open',
        payingParticipantId: '4821930576', receivingParticipantId: '7719203846',
        monthlyObligation: '450.00', currentMonthDue: '450.00', arrearsPrincipal: '1200.00', arrearsInterest: '34.56',
        payments: [{ receivedAt: '2026-10-28T10:15:00-07:00', amount: '450.00', method: 'wage-withholding' }],
        appointments: [{
          at: '2026-12-03T09:30:00-08:00', kind: 'court-hearing',
          location: 'Sacramento Superior Court, 3395 Power Inn Road, Department 124', description: 'Motion hearing',
        }],
      },
    ],
  };
}

const REMOVE = Symbol('remove');

/** Sets (or removes) the value at a path like `cases[0].payments[0].amount`. */
function withField(path: string, value: unknown, file = validFile()): any {
  const keys = path.split(/\.|\[(\d+)\]/).filter((key) => key !== undefined && key !== '');
  const last = keys.pop() as string;
  const parent = keys.reduce((node, key) => node[key], file);
  if (value === REMOVE) delete parent[last];
  else parent[last] = value;
  return file;
}

function errorOf(file: unknown): string {
  const result = parseCaseloadFile(file);
  if (result.ok) throw new Error('expected the file to be refused');
  return result.error;
}

function parsed(file: unknown): ParsedCaseload {
  const result = parseCaseloadFile(file);
  if (!result.ok) throw new Error(`expected the file to parse: ${result.error}`);
  return result.caseload;
}

const ISO_EXPECTED = 'expected an ISO 8601 date-time with an offset, like "2026-10-28T10:15:00-07:00"';

const REJECTED: [path: string, value: unknown, error: string][] = [
  ['version', 3, 'version: expected 1 or 2'],
  ['version', '1', 'version: expected 1 or 2'],
  ['version', REMOVE, 'version: missing, expected 1 or 2'],
  ['comment', 'made up', 'comment: unknown field'],
  ['participants', {}, 'participants: expected an array'],
  ['participants', REMOVE, 'participants: missing, expected an array'],
  ['participants[0]', 'Dana', 'participants[0]: expected an object'],
  ['participants[0].participantId', '482193057', 'participants[0].participantId: expected 10 digits'],
  ['participants[0].participantId', '48219305761', 'participants[0].participantId: expected 10 digits'],
  ['participants[0].participantId', 4821930576, 'participants[0].participantId: expected 10 digits in quotes'],
  ['participants[0].participantId', REMOVE, 'participants[0].participantId: missing, expected 10 digits'],
  ['participants[1].participantId', '4821930576', 'participants[1].participantId: duplicate of participants[0]'],
  ['participants[0].ssn', '51827364', 'participants[0].ssn: expected 9 digits'],
  ['participants[0].ssn', '518-27-3645', 'participants[0].ssn: expected 9 digits'],
  ['participants[0].ssn', 518273645, 'participants[0].ssn: expected 9 digits in quotes'],
  ['participants[0].ssn', REMOVE, 'participants[0].ssn: missing, expected 9 digits'],
  ['participants[1].ssn', SSNS[0], 'participants[1].ssn: duplicate of participants[0]'],
  ['participants[0].pin', '735', 'participants[0].pin: expected 4 to 8 digits'],
  ['participants[0].pin', '735194735', 'participants[0].pin: expected 4 to 8 digits'],
  ['participants[0].pin', 735194, 'participants[0].pin: expected 4 to 8 digits in quotes'],
  ['participants[0].pin', null, 'participants[0].pin: null is not allowed; leave the field out for no pin'],
  ['participants[0].firstName', '', 'participants[0].firstName: expected a non-empty string'],
  ['participants[0].firstName', '   ', 'participants[0].firstName: expected a non-empty string'],
  ['participants[0].lastName', REMOVE, 'participants[0].lastName: missing, expected a non-empty string'],
  ['participants[0].language', 'fr', 'participants[0].language: expected "en" or "es"'],
  ['participants[0].language', 'EN', 'participants[0].language: expected "en" or "es"'],
  ['participants[0].phone', '9165550143', 'participants[0].phone: expected E.164, like "+19165550143"'],
  ['participants[0].phone', '+1 916 555 0143', 'participants[0].phone: expected E.164, like "+19165550143"'],
  ['participants[0].phone', null, 'participants[0].phone: null is not allowed; leave the field out for no phone'],
  ['participants[0].email', 'dana@example.com', 'participants[0].email: unknown field'],
  ['participants[0].mailingAddress', REMOVE, 'participants[0].mailingAddress: missing, expected an object'],
  ['participants[0].mailingAddress.line1', '', 'participants[0].mailingAddress.line1: expected a non-empty string'],
  ['participants[0].mailingAddress.line2', '', 'participants[0].mailingAddress.line2: expected a non-empty string or null'],
  ['participants[0].mailingAddress.line2', REMOVE, 'participants[0].mailingAddress.line2: missing, expected a non-empty string or null'],
  ['participants[0].mailingAddress.city', REMOVE, 'participants[0].mailingAddress.city: missing, expected a non-empty string'],
  ['participants[0].mailingAddress.state', 'ca', 'participants[0].mailingAddress.state: expected 2 capital letters, like "CA"'],
  ['participants[0].mailingAddress.state', 'Calif', 'participants[0].mailingAddress.state: expected 2 capital letters, like "CA"'],
  ['participants[0].mailingAddress.zip', '95814-1234', 'participants[0].mailingAddress.zip: expected 5 digits'],
  ['participants[0].mailingAddress.zip', 95814, 'participants[0].mailingAddress.zip: expected 5 digits in quotes'],
  ['participants[0].mailingAddress.country', 'US', 'participants[0].mailingAddress.country: unknown field'],
  ['cases', REMOVE, 'cases: missing, expected an array'],
  ['cases[0].caseNumber', '12345', 'cases[0].caseNumber: expected 6 to 15 digits'],
  ['cases[0].caseNumber', '1234567890123456', 'cases[0].caseNumber: expected 6 to 15 digits'],
  ['cases[0].county', '', 'cases[0].county: expected a non-empty string'],
  ['cases[0].status', 'pending', 'cases[0].status: expected "open" or "closed"'],
  ['cases[0].payingParticipantId', '1234567890', 'cases[0].payingParticipantId: no participant 1234567890'],
  ['cases[0].payingParticipantId', SSNS[0], 'cases[0].payingParticipantId: expected 10 digits'],
  ['cases[0].receivingParticipantId', '4821930576', 'cases[0].receivingParticipantId: same participant as payingParticipantId'],
  ['cases[0].receivingParticipantId', REMOVE, 'cases[0].receivingParticipantId: missing, expected 10 digits'],
  ['cases[0].monthlyObligation', '450', 'cases[0].monthlyObligation: expected "123.45"'],
  ['cases[0].monthlyObligation', 450, 'cases[0].monthlyObligation: expected "123.45"'],
  ['cases[0].currentMonthDue', '-1.00', 'cases[0].currentMonthDue: expected "123.45"'],
  ['cases[0].arrearsPrincipal', '1,200.00', 'cases[0].arrearsPrincipal: expected "123.45"'],
  ['cases[0].arrearsInterest', '34.5', 'cases[0].arrearsInterest: expected "123.45"'],
  ['cases[0].arrearsInterest', REMOVE, 'cases[0].arrearsInterest: missing, expected "123.45"'],
  ['cases[0].credit', '0.00', 'cases[0].credit: unknown field'],
  ['cases[0].payments', REMOVE, 'cases[0].payments: missing, expected an array'],
  ['cases[0].payments[0].receivedAt', '2026-10-28T10:15:00', `cases[0].payments[0].receivedAt: ${ISO_EXPECTED}`],
  ['cases[0].payments[0].receivedAt', '2026-10-28', `cases[0].payments[0].receivedAt: ${ISO_EXPECTED}`],
  ['cases[0].payments[0].receivedAt', '2026-10-28 10:15:00-07:00', `cases[0].payments[0].receivedAt: ${ISO_EXPECTED}`],
  ['cases[0].payments[0].receivedAt', '2026-10-28T10:15:00-0700', `cases[0].payments[0].receivedAt: ${ISO_EXPECTED}`],
  ['cases[0].payments[0].receivedAt', '2026-02-30T10:15:00-08:00', `cases[0].payments[0].receivedAt: ${ISO_EXPECTED}`],
  ['cases[0].payments[0].receivedAt', '2026-10-28T24:00:00-07:00', `cases[0].payments[0].receivedAt: ${ISO_EXPECTED}`],
  ['cases[0].payments[0].receivedAt', '2026-10-28T10:15:60Z', `cases[0].payments[0].receivedAt: ${ISO_EXPECTED}`],
  ['cases[0].payments[0].receivedAt', 1793208900000, `cases[0].payments[0].receivedAt: ${ISO_EXPECTED}`],
  ['cases[0].payments[0].amount', '450', 'cases[0].payments[0].amount: expected "123.45"'],
  ['cases[0].payments[0].amount', '0.00', 'cases[0].payments[0].amount: expected more than "0.00"'],
  ['cases[0].payments[0].method', 'paypal',
    'cases[0].payments[0].method: expected one of "wage-withholding", "check", "money-order", "card", "eft", "cash", "tax-intercept"'],
  ['cases[0].payments[0].confirmationCode', 'ABC123', 'cases[0].payments[0].confirmationCode: needs version 2 (this file is version 1)'],
  ['cases[0].payments[0].confirmationCod', 'ABC123', 'cases[0].payments[0].confirmationCod: unknown field'],
  ['participants[0].pinHash', BCRYPT_735194, 'participants[0].pinHash: needs version 2 (this file is version 1)'],
  ['participants[0].resetPin', true, 'participants[0].resetPin: needs version 2 (this file is version 1)'],
  ['cases[0].appointments[0].attendee', 'paying', 'cases[0].appointments[0].attendee: needs version 2 (this file is version 1)'],
  ['cases[0].appointments', {}, 'cases[0].appointments: expected an array'],
  ['cases[0].appointments[0].at', '2026-12-03T09:30:00', `cases[0].appointments[0].at: ${ISO_EXPECTED}`],
  ['cases[0].appointments[0].kind', 'hearing', 'cases[0].appointments[0].kind: expected "court-hearing" or "appointment"'],
  ['cases[0].appointments[0].location', '', 'cases[0].appointments[0].location: expected a non-empty string'],
  ['cases[0].appointments[0].description', REMOVE, 'cases[0].appointments[0].description: missing, expected a non-empty string'],
];

describe('caseload file', () => {
  it('accepts the small valid file these tests start from', () => {
    expect(parseCaseloadFile(validFile()).ok).to.equal(true);
  });

  describe('refuses each broken rule, naming the field', () => {
    for (const [path, value, error] of REJECTED) {
      const shown = value === REMOVE ? 'removed' : JSON.stringify(value);
      it(`${path} ${shown}`, () => {
        expect(errorOf(withField(path, value))).to.equal(error);
      });
    }

    it('refuses something that is not an object', () => {
      expect(errorOf([])).to.equal('expected an object');
      expect(errorOf(null)).to.equal('expected an object');
    });

    it('refuses a duplicate case number', () => {
      const file = validFile();
      file.cases.push({ ...file.cases[0], payingParticipantId: '7719203846', receivingParticipantId: '4821930576' });
      expect(errorOf(file)).to.equal('cases[1].caseNumber: duplicate of cases[0]');
    });

    it('names a duplicate by the first participant that had it', () => {
      const file = validFile();
      file.participants.push({ ...file.participants[1], participantId: '1586049327' }); // same SSN as participants[1]
      expect(errorOf(file)).to.equal('participants[2].ssn: duplicate of participants[1]');
    });
  });

  describe('accepts what the format allows', () => {
    const accepted: [path: string, value: unknown][] = [
      ['participants[0].pin', REMOVE],
      ['participants[0].pin', '0000'],
      ['participants[0].pin', '12345678'],
      ['participants[0].phone', REMOVE],
      ['participants[0].phone', '+525555550123'],
      ['cases[0].caseNumber', '123456'],
      ['cases[0].caseNumber', '123456789012345'],
      ['cases[0].status', 'closed'],
      ['cases[0].arrearsInterest', '0.00'],
      ['cases[0].payments', []],
      ['cases[0].appointments', []],
      ['cases[0].payments[0].receivedAt', '2026-10-28T17:15:00Z'],
      ['cases[0].payments[0].receivedAt', '2026-10-28T10:15-07:00'],
      ['cases[0].payments[0].receivedAt', '2026-10-28T10:15:00.250-07:00'],
      ['cases[0].payments[0].receivedAt', '2026-10-28T22:45:00+05:30'],
      ['cases[0].payments[0].receivedAt', '2028-02-29T10:15:00-08:00'],
      ['cases[0].payments[0].amount', '0.01'],
      ['participants', []],
    ];
    for (const [path, value] of accepted) {
      it(`${path} ${value === REMOVE ? 'left out' : JSON.stringify(value)}`, () => {
        // An empty participants list only works with no cases naming anyone.
        const file = withField(path, value);
        if (path === 'participants') file.cases = [];
        expect(parseCaseloadFile(file)).to.have.property('ok', true);
      });
    }
  });

  describe('what it gives back', () => {
    it('keeps money as cents, times as UTC instants, and the SSN and PIN beside the participant', () => {
      const caseload = parsed(validFile());
      const [dana, terrence] = caseload.participants;
      expect(dana).to.deep.equal({
        participant: {
          participantId: '4821930576', firstName: 'Dana', lastName: 'Whitfield', language: 'en', phone: '+19165550143',
          mailingAddress: { line1: '1412 Alder Way', line2: null, city: 'Sacramento', state: 'CA', zip: '95814' },
        },
        ssn: SSNS[0],
        pin: PINS[0],
        pinHash: null,
        resetPin: false,
      });
      expect(terrence?.participant.phone).to.equal(null);
      expect(caseload.cases[0]).to.deep.include({
        monthlyObligation: 45000, currentMonthDue: 45000, arrearsPrincipal: 120000, arrearsInterest: 3456, credit: 0,
      });
      expect(caseload.cases[0]?.payments).to.deep.equal([{ receivedAt: '2026-10-28T17:15:00.000Z', amount: 45000, method: 'wage-withholding' }]);
      expect(caseload.cases[0]?.appointments[0]?.at).to.equal('2026-12-03T17:30:00.000Z');
      expect(caseload.cases[0]?.appointments[0]?.attendee, 'the default').to.equal('both');
    });

    it('gives no PIN for a participant who has none', () => {
      expect(parsed(withField('participants[0].pin', REMOVE)).participants[0]?.pin).to.equal(null);
    });
  });

  describe('never puts an SSN or PIN into an error', () => {
    it('in any of the rejections above', () => {
      for (const [path, value] of REJECTED) {
        const error = errorOf(withField(path, value));
        for (const secret of [...SSNS, ...PINS]) expect(error, `${path}`).to.not.include(secret);
      }
    });

    it('whatever shape a bad SSN or PIN has', () => {
      for (const bad of ['51827364', '5182736450', '518 27 3645', '518273645 ', 'x518273645', '518273645518273645']) {
        expect(errorOf(withField('participants[0].ssn', bad))).to.equal('participants[0].ssn: expected 9 digits');
      }
      for (const bad of ['735', '735194735', '735 194', ' 735194', '73519a', '７３５１９４']) {
        expect(errorOf(withField('participants[0].pin', bad))).to.equal('participants[0].pin: expected 4 to 8 digits');
      }
    });

    it('when an SSN is typed as a field name', () => {
      const error = errorOf(withField('participants[0].518273645', 'ssn'));
      expect(error).to.equal('participants[0]["#########"]: unknown field');
    });

    it('when the file is not JSON at all', () => {
      for (const text of ['{"ssn": 518273645x}', '{"ssn": x518273645}', '{"pin": "735194"', '518273645 735194']) {
        const result = parseCaseloadJson(text);
        expect(result.ok, text).to.equal(false);
        if (!result.ok) {
          expect(result.error).to.match(/^not valid JSON/);
          expect(result.error).to.not.match(/518273645|735194/);
        }
      }
      // Where V8 says where it stopped, so do we.
      expect(parseCaseloadJson('{\n  "version": 1\n  "participants": []\n}')).to.deep.equal({ ok: false, error: 'not valid JSON (line 3, column 3)' });
    });
  });

  describe('names the first bad field, in the order of the format', () => {
    const cases: [string, [string, unknown][], string][] = [
      ['version before participants', [['version', 3], ['participants[0].ssn', 'x']], 'version: expected 1 or 2'],
      ['an earlier participant before a later one', [['participants[1].ssn', 'x'], ['participants[0].lastName', '']],
        'participants[0].lastName: expected a non-empty string'],
      ['participants before cases', [['cases[0].status', 'x'], ['participants[1].language', 'x']],
        'participants[1].language: expected "en" or "es"'],
      ['participantId before ssn', [['participants[0].ssn', 'x'], ['participants[0].participantId', 'x']],
        'participants[0].participantId: expected 10 digits'],
      ['ssn before the names', [['participants[0].lastName', ''], ['participants[0].ssn', 'x']], 'participants[0].ssn: expected 9 digits'],
      ['an unknown field before a bad known one', [['participants[0].participantId', 'x'], ['participants[0].nickname', 'D']],
        'participants[0].nickname: unknown field'],
      ['status before the participants it names', [['cases[0].payingParticipantId', '1234567890'], ['cases[0].status', 'x']],
        'cases[0].status: expected "open" or "closed"'],
      ['case money before payments', [['cases[0].payments[0].amount', 'x'], ['cases[0].monthlyObligation', 'x']],
        'cases[0].monthlyObligation: expected "123.45"'],
      ['payments before appointments', [['cases[0].appointments[0].kind', 'x'], ['cases[0].payments[0].amount', 'x']],
        'cases[0].payments[0].amount: expected "123.45"'],
    ];
    for (const [name, changes, error] of cases) {
      it(name, () => {
        const file = changes.reduce((broken, [path, value]) => withField(path, value, broken), validFile());
        expect(errorOf(file)).to.equal(error);
      });
    }
  });
});

describe('caseload file, version 2', () => {
  // The version 1 file with every version 2 field in use.
  function validFile2(): any {
    const file = validFile();
    file.version = 2;
    delete file.participants[0].pin;
    file.participants[0].pinHash = BCRYPT_735194;
    file.participants[1].resetPin = true;
    file.cases[0].payments.push({ receivedAt: '2026-11-20T12:00:00-08:00', amount: '100.00', method: 'card', confirmationCode: 'ch_3QxZ81' });
    file.cases[0].appointments[0].attendee = 'paying';
    return file;
  }
  const with2 = (path: string, value: unknown) => withField(path, value, validFile2());
  const BCRYPT_EXPECTED = 'expected a bcrypt hash: "$2a$", "$2b$" or "$2y$", a cost from 04 to 15, "$" and 53 characters of ./A-Za-z0-9';
  const TAIL = BCRYPT_735194.slice(7);

  it('gives back the PIN hash, the reset mark, the confirmation code and whom an appointment is for', () => {
    const caseload = parsed(validFile2());
    expect(caseload.participants[0]).to.deep.include({ pin: null, pinHash: BCRYPT_735194, resetPin: false });
    expect(caseload.participants[1]).to.deep.include({ pin: PINS[1], pinHash: null, resetPin: true });
    expect(caseload.cases[0]?.payments[1]).to.deep.equal({ receivedAt: '2026-11-20T20:00:00.000Z', amount: 10000, method: 'card', confirmationCode: 'ch_3QxZ81' });
    expect(caseload.cases[0]?.payments[0]).to.not.have.property('confirmationCode');
    expect(caseload.cases[0]?.appointments[0]?.attendee).to.equal('paying');
    expect(parsed(with2('cases[0].appointments[0].attendee', REMOVE)).cases[0]?.appointments[0]?.attendee).to.equal('both');
  });

  it('accepts a version 1 file unchanged, and reads it as version 2 would', () => {
    const one = validFile();
    const two = { ...validFile(), version: 2 };
    expect(parsed(two)).to.deep.equal(parsed(one));
  });

  describe('accepts', () => {
    const accepted: [path: string, value: unknown][] = [
      ['participants[0].pinHash', '$2a$04$' + TAIL],
      ['participants[0].pinHash', '$2y$15$' + TAIL],
      ['participants[0].pinHash', '$2b$09$' + TAIL],
      ['participants[0].pinHash', REMOVE],
      ['participants[0].resetPin', true],
      ['participants[1].resetPin', REMOVE],
      ['cases[0].payments[1].confirmationCode', 'x'],
      ['cases[0].payments[1].confirmationCode', 'A-z_9'.repeat(12) + 'abcd'],
      ['cases[0].payments[1].confirmationCode', REMOVE],
      ['cases[0].appointments[0].attendee', 'receiving'],
      ['cases[0].appointments[0].attendee', 'both'],
    ];
    for (const [path, value] of accepted) {
      it(`${path} ${value === REMOVE ? 'left out' : JSON.stringify(value)}`, () => {
        expect(parseCaseloadFile(with2(path, value))).to.have.property('ok', true);
      });
    }

    it('a participant marked resetPin with no PIN at all (the agency cleared it)', () => {
      const file = with2('participants[0].pinHash', REMOVE);
      file.participants[0].resetPin = true;
      expect(parsed(file).participants[0]).to.deep.include({ pin: null, pinHash: null, resetPin: true });
    });
  });

  const REJECTED_2: [path: string, value: unknown, error: string][] = [
    ['participants[0].pinHash', '$2b$03$' + TAIL, `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', '$2b$16$' + TAIL, `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', '$2b$4$' + TAIL, `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', '$2x$10$' + TAIL, `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', '$2$10$' + TAIL, `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', BCRYPT_735194.slice(0, -1), `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', BCRYPT_735194 + 'a', `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', BCRYPT_735194.replace('q6', 'q+'), `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', ` ${BCRYPT_735194}`, `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', '735194', `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', 735194, `participants[0].pinHash: ${BCRYPT_EXPECTED}`],
    ['participants[0].pinHash', null, 'participants[0].pinHash: null is not allowed; leave the field out for no pinHash'],
    ['participants[1].pinHash', BCRYPT_735194, 'participants[1].pinHash: not allowed beside pin; give one or the other'],
    ['participants[0].resetPin', false, 'participants[0].resetPin: expected true, or leave the field out'],
    ['participants[0].resetPin', 'true', 'participants[0].resetPin: expected true, or leave the field out'],
    ['participants[0].resetPin', null, 'participants[0].resetPin: null is not allowed; leave the field out for no resetPin'],
    ['cases[0].payments[1].confirmationCode', '', 'cases[0].payments[1].confirmationCode: expected 1 to 64 letters, digits, "_" or "-"'],
    ['cases[0].payments[1].confirmationCode', 'ch 3QxZ81', 'cases[0].payments[1].confirmationCode: expected 1 to 64 letters, digits, "_" or "-"'],
    ['cases[0].payments[1].confirmationCode', 'x'.repeat(65), 'cases[0].payments[1].confirmationCode: expected 1 to 64 letters, digits, "_" or "-"'],
    ['cases[0].payments[1].confirmationCode', 12345, 'cases[0].payments[1].confirmationCode: expected 1 to 64 letters, digits, "_" or "-"'],
    ['cases[0].payments[0].confirmationCode', 'ch_1', 'cases[0].payments[0].confirmationCode: only a "card" payment has one'],
    ['cases[0].payments[0]', { receivedAt: '2026-11-20T12:00:00-08:00', amount: '5.00', method: 'card', confirmationCode: 'ch_3QxZ81' },
      'cases[0].payments[1].confirmationCode: duplicate of payments[0]'],
    ['cases[0].appointments[0].attendee', 'parent', 'cases[0].appointments[0].attendee: expected one of "paying", "receiving", "both"'],
    ['cases[0].appointments[0].attendee', null, 'cases[0].appointments[0].attendee: null is not allowed; leave the field out for no attendee'],
    ['cases[0].appointments[0].attendees', 'both', 'cases[0].appointments[0].attendees: unknown field'],
  ];

  describe('refuses, naming the field', () => {
    for (const [path, value, error] of REJECTED_2) {
      it(`${path} ${JSON.stringify(value)?.slice(0, 70)}`, () => {
        expect(errorOf(with2(path, value))).to.equal(error);
      });
    }
  });

  describe('refuses version 2 fields in a version 1 file, saying they need version 2', () => {
    const fields: [path: string, value: unknown][] = [
      ['participants[0].pinHash', BCRYPT_735194],
      ['participants[1].resetPin', true],
      ['cases[0].payments[0].confirmationCode', 'ch_1'],
      ['cases[0].appointments[0].attendee', 'both'],
    ];
    for (const [path, value] of fields) {
      it(path, () => {
        const file = withField(path, value);
        if (path === 'participants[0].pinHash') delete file.participants[0].pin;
        expect(errorOf(file)).to.equal(`${path}: needs version 2 (this file is version 1)`);
      });
    }

    it('before any other mistake in the same object', () => {
      const file = withField('participants[0].resetPin', true);
      file.participants[0].lastName = '';
      file.participants[0].ssn = 'x';
      expect(errorOf(file)).to.equal('participants[0].resetPin: needs version 2 (this file is version 1)');
    });
  });

  it('never puts a PIN hash, an SSN or a PIN into an error', () => {
    const secrets = [...SSNS, ...PINS, BCRYPT_735194, TAIL, TAIL.slice(0, 22), TAIL.slice(22)];
    for (const [path, value] of REJECTED_2) {
      const error = errorOf(with2(path, value));
      for (const secret of secrets) expect(error, path).to.not.include(secret);
    }
    for (const bad of ['$2b$10$' + TAIL.slice(1), BCRYPT_735194 + BCRYPT_735194, `$2b$10$$${TAIL}`]) {
      const error = errorOf(with2('participants[0].pinHash', bad));
      expect(error).to.equal(`participants[0].pinHash: ${BCRYPT_EXPECTED}`);
      for (const secret of secrets) expect(error).to.not.include(secret);
    }
  });
});

describe('the demo caseload', () => {
  const raw = JSON.parse(DEMO_TEXT);
  const result = parseCaseloadJson(DEMO_TEXT);
  const demo = result.ok ? result.caseload : ({ participants: [], cases: [] } as ParsedCaseload);
  const id = (text: string) => text as ParticipantId;
  const casesOf = (participantId: string) => demo.cases.filter((c) => roleIn(c, id(participantId)) !== null);

  it('is a valid caseload file', () => {
    expect(result).to.have.property('ok', true);
  });

  // 987-65-4320 to 4329 are the SSA's examples; the made-up participants of the call scripts go on
  // in area 987, and the SSA never issues an area number from 900 up.
  it('uses only SSNs never issued, so none is a real person\'s', () => {
    for (const { ssn } of demo.participants) expect(Number(ssn)).to.be.within(987654320, 987654399);
  });

  it('gives PINs the line would itself accept: 6 digits, not one digit repeated or a straight run', () => {
    const weak = /^(\d)\1+$|^(?:012345|123456|234567|345678|456789|987654|876543|765432|654321|543210)$/;
    for (const { pin } of demo.participants.filter((p) => p.pin !== null)) {
      expect(pin).to.match(/^\d{6}$/);
      expect(pin).to.not.match(weak);
    }
  });

  it('writes every time with the Pacific offset in force at that moment', () => {
    const offsetFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', timeZoneName: 'longOffset' });
    const times: string[] = raw.cases.flatMap((c: any) => [
      ...c.payments.map((p: any) => p.receivedAt),
      ...c.appointments.map((a: any) => a.at),
    ]);
    for (const time of times) {
      const pacific = offsetFormat.formatToParts(new Date(time)).find((part) => part.type === 'timeZoneName')?.value;
      expect(`GMT${time.slice(-6)}`, time).to.equal(pacific);
    }
  });

  it('has at least 8 people, someone in both roles and someone with several cases', () => {
    expect(demo.participants).to.have.length.of.at.least(8);
    const dana = id('4821930576');
    expect(casesOf(dana).map((c) => roleIn(c, dana))).to.have.members(['paying', 'receiving']);
    expect(casesOf('5302184967').filter((c) => roleIn(c, id('5302184967')) === 'paying')).to.have.length(2);
  });

  it('has a closed case, and a participant who is party to no open case', () => {
    expect(demo.cases.some((c) => c.status === 'closed')).to.equal(true);
    const noOpenCase = demo.participants.filter(({ participant }) =>
      !casesOf(participant.participantId).some((c) => c.status === 'open'));
    expect(noOpenCase.map(({ participant }) => participant.participantId)).to.deep.equal(['3675290418']);
  });

  it('has past-due principal and interest on one case, and nothing owed on another', () => {
    expect(demo.cases.some((c) => c.status === 'open' && c.arrearsPrincipal > 0 && c.arrearsInterest > 0)).to.equal(true);
    const paidUp = demo.cases.find((c) => c.caseNumber === '300000234561');
    expect(paidUp && balanceTotal(paidUp)).to.equal(0);
    expect(paidUp?.status).to.equal('open');
  });

  it('has 7 payments to page through in the last 12 months and an older one that is not heard', () => {
    const sacramento = demo.cases.find((c) => c.caseNumber === '300000123456');
    const heard = paymentHistory(sacramento?.payments ?? [], NOW);
    expect(heard).to.have.length(7);
    expect(heard[0]).to.deep.equal({ receivedAt: '2026-10-28T17:15:00.000Z', amount: 45000, method: 'wage-withholding' });
    expect(sacramento?.payments).to.have.length(8);
    expect(heard.map((p) => p.receivedAt)).to.not.include('2025-10-31T23:45:00.000Z');
  });

  it('pays by every method', () => {
    const used = new Set(demo.cases.flatMap((c) => c.payments.map((p) => p.method)));
    expect([...used]).to.have.members([...PAYMENT_METHODS]);
  });

  it('has court dates and appointments both past and to come', () => {
    const all = demo.cases.flatMap((c) => c.appointments);
    const coming = upcoming(all, NOW);
    expect(coming.length).to.be.within(1, all.length - 1);
    expect(coming.map((a) => a.kind)).to.include.members(['court-hearing', 'appointment']);
    expect(all.filter((a) => !coming.includes(a)).map((a) => a.kind)).to.include.members(['court-hearing', 'appointment']);
    expect(upcoming(demo.cases.find((c) => c.caseNumber === '300000123456')?.appointments ?? [], NOW).map((a) => a.at))
      .to.deep.equal(['2026-12-03T17:30:00.000Z', '2027-02-09T21:30:00.000Z']);
  });

  it('has a participant with no PIN and Spanish speakers whose shared case is described in Spanish', () => {
    expect(demo.participants.filter((p) => p.pin === null).map((p) => p.participant.participantId)).to.include('8093561274');
    const spanish = demo.participants.filter((p) => p.participant.language === 'es').map((p) => p.participant.participantId);
    expect(spanish).to.include.members(['6148027395', '2957416083']);
    const fresno = demo.cases.find((c) => spanish.includes(c.payingParticipantId) && spanish.includes(c.receivingParticipantId));
    expect(fresno?.appointments.map((a) => a.description).join(' ')).to.match(/manutención/);
  });
});

describe('caseload helpers', () => {
  it('checks participant IDs and case numbers once, at the edge', () => {
    expect(parseParticipantId('4821930576')).to.equal('4821930576');
    expect(parseParticipantId('482193057')).to.equal(null);
    expect(parseParticipantId('48219305761')).to.equal(null);
    expect(parseCaseNumber('123456')).to.equal('123456');
    expect(parseCaseNumber('123456789012345')).to.equal('123456789012345');
    expect(parseCaseNumber('12345')).to.equal(null);
    expect(parseCaseNumber('1234567890123456')).to.equal(null);
  });

  it('tells a participant\'s role in a case, and nothing for a stranger', () => {
    const c = { payingParticipantId: '4821930576' as ParticipantId, receivingParticipantId: '7719203846' as ParticipantId };
    expect(roleIn(c, '4821930576' as ParticipantId)).to.equal('paying');
    expect(roleIn(c, '7719203846' as ParticipantId)).to.equal('receiving');
    expect(roleIn(c, '1586049327' as ParticipantId)).to.equal(null);
  });

  describe('paymentHistory', () => {
    const pay = (receivedAt: string): Payment => ({ receivedAt, amount: cents(100), method: 'check' });

    it('runs from the same Pacific day a year ago, newest first, and leaves out the future', () => {
      const payments = [
        pay('2025-11-25T23:59:00-08:00'), // the day before: too old
        pay('2025-11-26T00:00:00-08:00'), // the same day a year ago: heard
        pay('2026-11-26T09:59:00-08:00'),
        pay('2026-06-01T12:00:00-07:00'),
        pay('2026-11-26T10:01:00-08:00'), // after now
      ];
      expect(paymentHistory(payments, NOW).map((p) => p.receivedAt)).to.deep.equal([
        '2026-11-26T09:59:00-08:00', '2026-06-01T12:00:00-07:00', '2025-11-26T00:00:00-08:00',
      ]);
    });

    it('judges the cut-off in Pacific time, not UTC', () => {
      // 2025-11-26T07:59Z is still Nov 25 in California.
      expect(paymentHistory([pay('2025-11-26T07:59:00Z'), pay('2025-11-26T08:00:00Z')], NOW).map((p) => p.receivedAt))
        .to.deep.equal(['2025-11-26T08:00:00Z']);
    });

    it('takes another window, and a year back from Feb 29 is Feb 28', () => {
      const now = new Date('2028-02-29T12:00:00-08:00');
      const payments = [pay('2027-02-27T12:00:00-08:00'), pay('2027-02-28T00:30:00-08:00'), pay('2027-12-15T12:00:00-08:00')];
      expect(paymentHistory(payments, now)).to.have.length(2);
      expect(paymentHistory(payments, now, 3).map((p) => p.receivedAt)).to.deep.equal(['2027-12-15T12:00:00-08:00']);
    });

    it('keeps whatever else the caller put on each payment', () => {
      const tagged = [{ ...pay('2026-10-01T12:00:00-07:00'), caseNumber: '300000123456' }];
      expect(paymentHistory(tagged, NOW)[0]?.caseNumber).to.equal('300000123456');
    });
  });

  describe('upcoming', () => {
    const at = (when: string): Appointment => ({ at: when, kind: 'appointment', location: 'Office', description: 'Review' });

    it('lists from now on, soonest first', () => {
      const list = [at('2027-03-18T08:30:00-07:00'), at('2026-11-26T09:59:00-08:00'), at('2026-11-26T10:00:00-08:00'), at('2026-12-03T09:30:00-08:00')];
      expect(upcoming(list, NOW).map((a) => a.at)).to.deep.equal([
        '2026-11-26T10:00:00-08:00', '2026-12-03T09:30:00-08:00', '2027-03-18T08:30:00-07:00',
      ]);
    });
  });
});
