// The caseload file (CASELOAD.md is the contract): accepts exactly that format and otherwise
// names the first bad field, e.g. `cases[2].payments[0].amount: expected "123.45"`.
// Errors never carry an SSN or PIN value, so the caller may print or log them as they are.
import {
  APPOINTMENT_KINDS, CASE_STATUSES, LANGUAGES, PAYMENT_METHODS,
  type Appointment, type Case, type CaseNumber, type MailingAddress, type Participant, type ParticipantId, type Payment,
} from './caseload.ts';
import { cents, parseMoney, type Cents } from './money.ts';

export const CASELOAD_VERSION = 1;

/** The SSN and PIN sit beside the participant, not in it, so storing `participant` cannot store them. */
export type ParsedParticipant = { participant: Participant; ssn: string; pin: string | null };
export type ParsedCase = Case & { payments: Payment[]; appointments: Appointment[] };
export type ParsedCaseload = { participants: ParsedParticipant[]; cases: ParsedCase[] };
export type CaseloadFileResult = { ok: true; caseload: ParsedCaseload } | { ok: false; error: string };

// Thrown only inside this module, to stop at the first bad field; parseCaseloadFile returns it.
class BadField {
  constructor(readonly path: string, readonly message: string) {}
}

function fail(path: string, value: unknown, expected: string): never {
  throw new BadField(path, value === undefined ? `missing, expected ${expected}` : `expected ${expected}`);
}

type Fields = Record<string, unknown>;

// Unknown fields are checked before the known ones, so a misspelt name is reported as itself
// rather than as the field it was meant to be.
function object(value: unknown, path: string, fields: readonly string[]): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, value, 'an object');
  const unknown = Object.keys(value).find((key) => !fields.includes(key));
  if (unknown !== undefined) throw new BadField(join(path, unknown), 'unknown field');
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

function digitString(value: unknown, path: string, min: number, max = min): string {
  const what = min === max ? `${min} digits` : `${min} to ${max} digits`;
  // A JSON number would lose leading zeros, so say why 123456789 is not 9 digits here.
  return matching(value, path, new RegExp(`^\\d{${min},${max}}$`), typeof value === 'number' ? `${what} in quotes` : what);
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

const ISO_WITH_OFFSET = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|([+-])([01]\d|2[0-3]):([0-5]\d))$/;

// A bare local date-time is refused: the file must say which instant it means. Date.parse would
// take "2026-02-30" as March 2, so the instant is turned back into the written wall-clock time
// and must match it. Kept as a UTC instant.
function instant(value: unknown, path: string): string {
  const match = typeof value === 'string' ? ISO_WITH_OFFSET.exec(value) : null;
  if (match) {
    const [written, date, time, second, sign, offsetHours, offsetMinutes] = match;
    const offset = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) : 0;
    const ms = Date.parse(written);
    if (!Number.isNaN(ms)) {
      const wall = new Date(ms + offset * 60_000).toISOString();
      if (wall.slice(0, 10) === date && wall.slice(11, 16) === time && (second === undefined || wall.slice(17, 19) === second)) {
        return new Date(ms).toISOString();
      }
    }
  }
  return fail(path, value, 'an ISO 8601 date-time with an offset, like "2026-10-28T10:15:00-07:00"');
}

const E164 = /^\+[1-9]\d{1,14}$/;

const PARTICIPANT_FIELDS = ['participantId', 'ssn', 'pin', 'firstName', 'lastName', 'language', 'phone', 'mailingAddress'] as const;
const ADDRESS_FIELDS = ['line1', 'line2', 'city', 'state', 'zip'] as const;
const CASE_FIELDS = [
  'caseNumber', 'county', 'status', 'payingParticipantId', 'receivingParticipantId',
  'monthlyObligation', 'currentMonthDue', 'arrearsPrincipal', 'arrearsInterest', 'payments', 'appointments',
] as const;
const PAYMENT_FIELDS = ['receivedAt', 'amount', 'method'] as const;
const APPOINTMENT_FIELDS = ['at', 'kind', 'location', 'description'] as const;

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

function unique(seen: Map<string, number>, value: string, index: number, path: string, list: string): void {
  const first = seen.get(value);
  if (first !== undefined) throw new BadField(path, `duplicate of ${list}[${first}]`);
  seen.set(value, index);
}

function participants(value: unknown): ParsedParticipant[] {
  const byId = new Map<string, number>();
  const bySsn = new Map<string, number>();
  return array(value, 'participants').map((item, i) => {
    const path = `participants[${i}]`;
    const p = object(item, path, PARTICIPANT_FIELDS);
    const participantId = digitString(p.participantId, `${path}.participantId`, 10) as ParticipantId;
    unique(byId, participantId, i, `${path}.participantId`, 'participants');
    const ssn = digitString(p.ssn, `${path}.ssn`, 9);
    unique(bySsn, ssn, i, `${path}.ssn`, 'participants');
    const pin = optional(p, 'pin', path, (v, at) => digitString(v, at, 4, 8));
    const firstName = text(p.firstName, `${path}.firstName`);
    const lastName = text(p.lastName, `${path}.lastName`);
    const language = oneOf(p.language, `${path}.language`, LANGUAGES);
    const phone = optional(p, 'phone', path, (v, at) => matching(v, at, E164, 'E.164, like "+19165550143"'));
    const address = mailingAddress(p.mailingAddress, `${path}.mailingAddress`);
    return { participant: { participantId, firstName, lastName, language, phone, mailingAddress: address }, ssn, pin };
  });
}

function participantRef(value: unknown, path: string, known: ReadonlySet<string>): ParticipantId {
  const id = digitString(value, path, 10);
  if (!known.has(id)) throw new BadField(path, `no participant ${id}`);
  return id as ParticipantId;
}

function payment(value: unknown, path: string): Payment {
  const p = object(value, path, PAYMENT_FIELDS);
  const receivedAt = instant(p.receivedAt, `${path}.receivedAt`);
  const amount = money(p.amount, `${path}.amount`);
  // A payment of nothing is a mistake in the file, and applyPayment would refuse it.
  if (amount === 0) throw new BadField(`${path}.amount`, 'expected more than "0.00"');
  return { receivedAt, amount, method: oneOf(p.method, `${path}.method`, PAYMENT_METHODS) };
}

function appointment(value: unknown, path: string): Appointment {
  const a = object(value, path, APPOINTMENT_FIELDS);
  return {
    at: instant(a.at, `${path}.at`),
    kind: oneOf(a.kind, `${path}.kind`, APPOINTMENT_KINDS),
    location: text(a.location, `${path}.location`),
    description: text(a.description, `${path}.description`),
  };
}

function cases(value: unknown, participantIds: ReadonlySet<string>): ParsedCase[] {
  const byNumber = new Map<string, number>();
  return array(value, 'cases').map((item, i) => {
    const path = `cases[${i}]`;
    const c = object(item, path, CASE_FIELDS);
    const caseNumber = digitString(c.caseNumber, `${path}.caseNumber`, 6, 15) as CaseNumber;
    unique(byNumber, caseNumber, i, `${path}.caseNumber`, 'cases');
    const county = text(c.county, `${path}.county`);
    const status = oneOf(c.status, `${path}.status`, CASE_STATUSES);
    const payingParticipantId = participantRef(c.payingParticipantId, `${path}.payingParticipantId`, participantIds);
    const receivingParticipantId = participantRef(c.receivingParticipantId, `${path}.receivingParticipantId`, participantIds);
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
      payments: array(c.payments, `${path}.payments`).map((p, j) => payment(p, `${path}.payments[${j}]`)),
      appointments: array(c.appointments, `${path}.appointments`).map((a, j) => appointment(a, `${path}.appointments[${j}]`)),
    };
  });
}

export function parseCaseloadFile(json: unknown): CaseloadFileResult {
  try {
    const file = object(json, '', ['version', 'participants', 'cases']);
    if (file.version !== CASELOAD_VERSION) fail('version', file.version, String(CASELOAD_VERSION));
    const people = participants(file.participants);
    const ids = new Set<string>(people.map(({ participant }) => participant.participantId));
    return { ok: true, caseload: { participants: people, cases: cases(file.cases, ids) } };
  } catch (error) {
    if (!(error instanceof BadField)) throw error;
    return { ok: false, error: error.path ? `${error.path}: ${error.message}` : error.message };
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
