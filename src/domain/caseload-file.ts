// The caseload file (docs/caseload.md is the contract): accepts exactly that format and otherwise
// names the first bad field, e.g. `cases[2].payments[0].amount: expected "123.45"`.
// Errors never carry an SSN, PIN or PIN hash, so the caller may print or log them as they are.
// A whole document is parsed here; caseload-stream.ts reads files record by record with the
// record parsers below.
import {
  APPOINTMENT_KINDS, ATTENDEES, CASE_STATUSES, LANGUAGES, PAYMENT_METHODS,
  type Appointment, type Attendee, type Case, type CaseNumber, type MailingAddress, type Participant, type ParticipantId, type Payment,
} from './caseload.ts';
import { cents, parseMoney, type Cents } from './money.ts';

export type CaseloadVersion = 1 | 2;
export const CASELOAD_VERSIONS: readonly CaseloadVersion[] = [1, 2];

/**
 * The SSN and PIN sit beside the participant, not in it, so storing `participant` cannot store them.
 * At most one of `pin` and `pinHash` is set; `resetPin` says the agency reset the PIN, so the
 * file's PIN (or none) stands over one the line recorded.
 */
export type ParsedParticipant = { participant: Participant; ssn: string; pin: string | null; pinHash: string | null; resetPin: boolean };
export type ParsedAppointment = Appointment & { attendee: Attendee };
export type ParsedCase = Case & { payments: Payment[]; appointments: ParsedAppointment[] };
export type ParsedCaseload = { participants: ParsedParticipant[]; cases: ParsedCase[] };
export type CaseloadFileResult = { ok: true; caseload: ParsedCaseload } | { ok: false; error: string };
export type RecordResult<T> = { ok: true; record: T } | { ok: false; error: string };

/**
 * What a record is checked against beyond its own fields: the rest of the file. Each method is
 * called as the field is read, in the order of the format, and returns why the value is refused
 * (e.g. "duplicate of participants[0]") or null. A reader may also take a key now and judge
 * uniqueness later, as long as it reports the first bad field of the file.
 */
export interface CaseloadKeys {
  participantId(participantId: ParticipantId): string | null;
  ssn(ssn: string): string | null;
  caseNumber(caseNumber: CaseNumber): string | null;
  /** A case's paying or receiving participant. */
  party(participantId: ParticipantId): string | null;
}

// Thrown only inside this module, to stop at the first bad field; the exported parsers return it.
class BadField {
  constructor(readonly path: string, readonly message: string) {}
}

function fail(path: string, value: unknown, expected: string): never {
  throw new BadField(path, value === undefined ? `missing, expected ${expected}` : `expected ${expected}`);
}

type Fields = Record<string, unknown>;

// Unknown fields are checked before the known ones, so a misspelt name is reported as itself
// rather than as the field it was meant to be; so are fields this file's version does not have.
function object(value: unknown, path: string, fields: readonly string[], version: CaseloadVersion = 2, v2Fields: readonly string[] = []): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, value, 'an object');
  const keys = Object.keys(value);
  const unknown = keys.find((key) => !fields.includes(key) && !v2Fields.includes(key));
  if (unknown !== undefined) throw new BadField(join(path, unknown), 'unknown field');
  const newer = version === 1 ? keys.find((key) => v2Fields.includes(key)) : undefined;
  if (newer !== undefined) throw new BadField(join(path, newer), 'needs version 2 (this file is version 1)');
  return value as Fields;
}

function join(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return path ? `${path}.${key}` : key;
  // A stray key is echoed with long digit runs masked: it could be an SSN typed in the wrong place.
  return `${path}[${JSON.stringify(key.slice(0, 40).replace(/\d{4,}/g, (run) => '#'.repeat(run.length)))}]`;
}

function array(value: unknown, path: string): unknown[] {
  return Array.isArray(value) ? value : fail(path, value, 'an array');
}

function text(value: unknown, path: string): string {
  return typeof value === 'string' && /\S/.test(value) ? value : fail(path, value, 'a non-empty string');
}

function matching(value: unknown, path: string, pattern: RegExp, expected: string): string {
  return typeof value === 'string' && pattern.test(value) ? value : fail(path, value, expected);
}

const DIGIT_PATTERNS = new Map<string, RegExp>();

function digitString(value: unknown, path: string, min: number, max = min): string {
  const what = min === max ? `${min} digits` : `${min} to ${max} digits`;
  let pattern = DIGIT_PATTERNS.get(what);
  if (pattern === undefined) DIGIT_PATTERNS.set(what, (pattern = new RegExp(`^\\d{${min},${max}}$`)));
  // A JSON number would lose leading zeros, so say why 123456789 is not 9 digits here.
  return matching(value, path, pattern, typeof value === 'number' ? `${what} in quotes` : what);
}

// Optional means the field is left out; null is refused so that there is one way to say "none".
function optional<T>(fields: Fields, key: string, path: string, read: (value: unknown, path: string) => T): T | null {
  const value = fields[key];
  if (value === undefined) return null;
  if (value === null) throw new BadField(`${path}.${key}`, `null is not allowed; leave the field out for no ${key}`);
  return read(value, `${path}.${key}`);
}

function oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  if ((options as readonly unknown[]).includes(value)) return value as T;
  const quoted = options.map((option) => `"${option}"`);
  return fail(path, value, quoted.length === 2 ? quoted.join(' or ') : `one of ${quoted.join(', ')}`);
}

function money(value: unknown, path: string): Cents {
  return (typeof value === 'string' ? parseMoney(value) : null) ?? fail(path, value, '"123.45"');
}

const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:Z|([+-])([01]\d|2[0-3]):([0-5]\d))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

// A bare local date-time is refused: the file must say which instant it means. Each part is
// checked against the calendar, since Date would take "2026-02-30" as March 2. Kept as a UTC instant.
function instant(value: unknown, path: string): string {
  const match = typeof value === 'string' ? ISO_WITH_OFFSET.exec(value) : null;
  if (match) {
    const [, yearText, monthText, dayText, hourText, minuteText, secondText = '0', fraction = '', sign, offsetHours, offsetMinutes] = match;
    const [year, month, day, hour, minute, second] = [yearText, monthText, dayText, hourText, minuteText, secondText].map(Number) as
      [number, number, number, number, number, number];
    if (month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 59) {
      const offset = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) : 0;
      const wall = Date.UTC(year, month - 1, day, hour, minute, second, Number(fraction.padEnd(3, '0')));
      // Date.UTC reads the years 0 to 99 as 1900 to 1999.
      const utc = (year < 100 ? new Date(wall).setUTCFullYear(year) : wall) - offset * 60_000;
      return new Date(utc).toISOString();
    }
  }
  return fail(path, value, 'an ISO 8601 date-time with an offset, like "2026-10-28T10:15:00-07:00"');
}

const E164 = /^\+[1-9]\d{1,14}$/;
// The modular crypt format bcrypt writes: variant, two-digit cost, then 22 characters of salt and
// 31 of hash in bcrypt's own base64 alphabet. Costs outside 4 to 15 are either refused by bcrypt or
// too slow for a caller waiting on the line.
const BCRYPT_HASH = /^\$2[aby]\$(?:0[4-9]|1[0-5])\$[./A-Za-z0-9]{53}$/;
const BCRYPT_EXPECTED = 'a bcrypt hash: "$2a$", "$2b$" or "$2y$", a cost from 04 to 15, "$" and 53 characters of ./A-Za-z0-9';
// Processors' codes are short tokens (Twilio passes the connector's charge ID); nothing else is needed.
const CONFIRMATION_CODE = /^[A-Za-z0-9_-]{1,64}$/;

const PARTICIPANT_FIELDS = ['participantId', 'ssn', 'pin', 'firstName', 'lastName', 'language', 'phone', 'mailingAddress'] as const;
const PARTICIPANT_V2_FIELDS = ['pinHash', 'resetPin'] as const;
const ADDRESS_FIELDS = ['line1', 'line2', 'city', 'state', 'zip'] as const;
const CASE_FIELDS = [
  'caseNumber', 'county', 'status', 'payingParticipantId', 'receivingParticipantId',
  'monthlyObligation', 'currentMonthDue', 'arrearsPrincipal', 'arrearsInterest', 'payments', 'appointments',
] as const;
const PAYMENT_FIELDS = ['receivedAt', 'amount', 'method'] as const;
const PAYMENT_V2_FIELDS = ['confirmationCode'] as const;
const APPOINTMENT_FIELDS = ['at', 'kind', 'location', 'description'] as const;
const APPOINTMENT_V2_FIELDS = ['attendee'] as const;

function mailingAddress(value: unknown, path: string): MailingAddress {
  const a = object(value, path, ADDRESS_FIELDS);
  const line1 = text(a.line1, `${path}.line1`);
  // null is the one way to say "no second line": an empty string would print as a blank line.
  const line2 = a.line2 === null ? null : typeof a.line2 === 'string' && /\S/.test(a.line2)
    ? a.line2 : fail(`${path}.line2`, a.line2, 'a non-empty string or null');
  return {
    line1,
    line2,
    city: text(a.city, `${path}.city`),
    state: matching(a.state, `${path}.state`, /^[A-Z]{2}$/, '2 capital letters, like "CA"'),
    zip: digitString(a.zip, `${path}.zip`, 5),
  };
}

function refuse(path: string, why: string | null): void {
  if (why !== null) throw new BadField(path, why);
}

function participant(value: unknown, path: string, version: CaseloadVersion, keys: CaseloadKeys): ParsedParticipant {
  const p = object(value, path, PARTICIPANT_FIELDS, version, PARTICIPANT_V2_FIELDS);
  const participantId = digitString(p.participantId, `${path}.participantId`, 10) as ParticipantId;
  refuse(`${path}.participantId`, keys.participantId(participantId));
  const ssn = digitString(p.ssn, `${path}.ssn`, 9);
  refuse(`${path}.ssn`, keys.ssn(ssn));
  const pin = optional(p, 'pin', path, (v, at) => digitString(v, at, 4, 8));
  const pinHash = optional(p, 'pinHash', path, (v, at) => {
    if (pin !== null) throw new BadField(at, 'not allowed beside pin; give one or the other');
    return matching(v, at, BCRYPT_HASH, BCRYPT_EXPECTED);
  });
  const resetPin = optional(p, 'resetPin', path, (v, at) => (v === true ? true : fail(at, v, 'true, or leave the field out'))) ?? false;
  const firstName = text(p.firstName, `${path}.firstName`);
  const lastName = text(p.lastName, `${path}.lastName`);
  const language = oneOf(p.language, `${path}.language`, LANGUAGES);
  const phone = optional(p, 'phone', path, (v, at) => matching(v, at, E164, 'E.164, like "+19165550143"'));
  const address = mailingAddress(p.mailingAddress, `${path}.mailingAddress`);
  return { participant: { participantId, firstName, lastName, language, phone, mailingAddress: address }, ssn, pin, pinHash, resetPin };
}

function participantRef(value: unknown, path: string, keys: CaseloadKeys): ParticipantId {
  const id = digitString(value, path, 10) as ParticipantId;
  refuse(path, keys.party(id));
  return id;
}

function payment(value: unknown, path: string, version: CaseloadVersion): Payment {
  const p = object(value, path, PAYMENT_FIELDS, version, PAYMENT_V2_FIELDS);
  const receivedAt = instant(p.receivedAt, `${path}.receivedAt`);
  const amount = money(p.amount, `${path}.amount`);
  // A payment of nothing is a mistake in the file, and applyPayment would refuse it.
  if (amount === 0) throw new BadField(`${path}.amount`, 'expected more than "0.00"');
  const method = oneOf(p.method, `${path}.method`, PAYMENT_METHODS);
  const confirmationCode = optional(p, 'confirmationCode', path, (v, at) => {
    if (method !== 'card') throw new BadField(at, 'only a "card" payment has one');
    return matching(v, at, CONFIRMATION_CODE, '1 to 64 letters, digits, "_" or "-"');
  });
  return confirmationCode === null ? { receivedAt, amount, method } : { receivedAt, amount, method, confirmationCode };
}

function payments(value: unknown, path: string, version: CaseloadVersion): Payment[] {
  // One code is one payment: a code twice on a case would be counted twice.
  const codes = new Map<string, number>();
  return array(value, path).map((item, j) => {
    const read = payment(item, `${path}[${j}]`, version);
    if (read.confirmationCode !== undefined) {
      const first = codes.get(read.confirmationCode);
      if (first !== undefined) throw new BadField(`${path}[${j}].confirmationCode`, `duplicate of payments[${first}]`);
      codes.set(read.confirmationCode, j);
    }
    return read;
  });
}

function appointment(value: unknown, path: string, version: CaseloadVersion): ParsedAppointment {
  const a = object(value, path, APPOINTMENT_FIELDS, version, APPOINTMENT_V2_FIELDS);
  return {
    at: instant(a.at, `${path}.at`),
    kind: oneOf(a.kind, `${path}.kind`, APPOINTMENT_KINDS),
    location: text(a.location, `${path}.location`),
    description: text(a.description, `${path}.description`),
    attendee: optional(a, 'attendee', path, (v, at) => oneOf(v, at, ATTENDEES)) ?? 'both',
  };
}

function caseRecord(value: unknown, path: string, version: CaseloadVersion, keys: CaseloadKeys): ParsedCase {
  const c = object(value, path, CASE_FIELDS);
  const caseNumber = digitString(c.caseNumber, `${path}.caseNumber`, 6, 15) as CaseNumber;
  refuse(`${path}.caseNumber`, keys.caseNumber(caseNumber));
  const county = text(c.county, `${path}.county`);
  const status = oneOf(c.status, `${path}.status`, CASE_STATUSES);
  const payingParticipantId = participantRef(c.payingParticipantId, `${path}.payingParticipantId`, keys);
  const receivingParticipantId = participantRef(c.receivingParticipantId, `${path}.receivingParticipantId`, keys);
  if (receivingParticipantId === payingParticipantId) {
    throw new BadField(`${path}.receivingParticipantId`, 'same participant as payingParticipantId');
  }
  return {
    caseNumber,
    county,
    status,
    payingParticipantId,
    receivingParticipantId,
    monthlyObligation: money(c.monthlyObligation, `${path}.monthlyObligation`),
    currentMonthDue: money(c.currentMonthDue, `${path}.currentMonthDue`),
    arrearsPrincipal: money(c.arrearsPrincipal, `${path}.arrearsPrincipal`),
    arrearsInterest: money(c.arrearsInterest, `${path}.arrearsInterest`),
    credit: cents(0),
    payments: payments(c.payments, `${path}.payments`, version),
    appointments: array(c.appointments, `${path}.appointments`).map((a, j) => appointment(a, `${path}.appointments[${j}]`, version)),
  };
}

function message(error: BadField): string {
  return error.path ? `${error.path}: ${error.message}` : error.message;
}

function record<T>(read: () => T): RecordResult<T> {
  try {
    return { ok: true, record: read() };
  } catch (error) {
    if (!(error instanceof BadField)) throw error;
    return { ok: false, error: message(error) };
  }
}

/** One participant of a file, named `path` in errors (`participants[3]`, or `participant` for a line). */
export function parseParticipantRecord(value: unknown, path: string, version: CaseloadVersion, keys: CaseloadKeys): RecordResult<ParsedParticipant> {
  return record(() => participant(value, path, version, keys));
}

export function parseCaseRecord(value: unknown, path: string, version: CaseloadVersion, keys: CaseloadKeys): RecordResult<ParsedCase> {
  return record(() => caseRecord(value, path, version, keys));
}

/** The version a file declares in its `version` field, or why not. */
export function readVersion(value: unknown, path: string, accepted: readonly CaseloadVersion[]): RecordResult<CaseloadVersion> {
  return record(() => {
    if ((accepted as readonly unknown[]).includes(value)) return value as CaseloadVersion;
    return fail(path, value, accepted.join(' or '));
  });
}

// A whole document holds every key, so duplicates are named by the index of the first holder.
class DocumentKeys implements CaseloadKeys {
  index = 0;
  private readonly ids = new Map<string, number>();
  private readonly ssns = new Map<string, number>();
  private readonly caseNumbers = new Map<string, number>();

  participantId(participantId: ParticipantId): string | null {
    return this.take(this.ids, participantId, 'participants');
  }

  ssn(ssn: string): string | null {
    return this.take(this.ssns, ssn, 'participants');
  }

  caseNumber(caseNumber: CaseNumber): string | null {
    return this.take(this.caseNumbers, caseNumber, 'cases');
  }

  party(participantId: ParticipantId): string | null {
    return this.ids.has(participantId) ? null : `no participant ${participantId}`;
  }

  private take(seen: Map<string, number>, value: string, list: string): string | null {
    const first = seen.get(value);
    if (first !== undefined) return `duplicate of ${list}[${first}]`;
    seen.set(value, this.index);
    return null;
  }
}

/** The single-document form (`.json`), version 1 or 2. */
export function parseCaseloadFile(json: unknown): CaseloadFileResult {
  try {
    const file = object(json, '', ['version', 'participants', 'cases']);
    const version = readVersion(file.version, 'version', CASELOAD_VERSIONS);
    if (!version.ok) return version;
    const keys = new DocumentKeys();
    const people = array(file.participants, 'participants').map((item, i) => {
      keys.index = i;
      return participant(item, `participants[${i}]`, version.record, keys);
    });
    const cases = array(file.cases, 'cases').map((item, i) => {
      keys.index = i;
      return caseRecord(item, `cases[${i}]`, version.record, keys);
    });
    return { ok: true, caseload: { participants: people, cases } };
  } catch (error) {
    if (!(error instanceof BadField)) throw error;
    return { ok: false, error: message(error) };
  }
}

// JSON.parse's own message can quote the text around the mistake, which may hold an SSN or PIN,
// so a file that is not JSON is reported by position only (when V8 gives one).
export function parseCaseloadJson(text: string): CaseloadFileResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    if (position === undefined) return { ok: false, error: 'not valid JSON' };
    const before = text.slice(0, Number(position));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    return { ok: false, error: `not valid JSON (line ${line}, column ${column})` };
  }
  return parseCaseloadFile(json);
}
