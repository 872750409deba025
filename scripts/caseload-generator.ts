// A made-up caseload of any size in the JSON Lines form (docs/caseload.md), written as a stream,
// for loading and load-testing the line. Everything about participant or case number i is drawn
// from (seed, i) alone, so the file is the same for the same options, and `loginOf` can tell a
// participant's SSN and PIN from the ID without reading the file.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import bcrypt from 'bcrypt';

export type GenerateOptions = {
  participants: number;
  seed: string;
  /** The share of participants with a PIN (as a bcrypt `pinHash`); the others have none yet. */
  pinShare: number;
  /** bcrypt cost of the PIN hashes. */
  cost: number;
  /** The Pacific date the payments and appointments are written around, YYYY-MM-DD. */
  asOf: string;
};

export const GENERATE_DEFAULTS = { seed: '1', pinShare: 0.6, cost: 10 } as const;
// SSNs are 9 followed by 8 digits drawn without repeats, so no more than 10^8 people.
export const MAX_PARTICIPANTS = 100_000_000;

export type Login = { index: number; participantId: string; ssn: string; pin: string | null; resetPin: boolean };
export type Sample = Login & { shows: string };
export type GenerateSummary = { participants: number; cases: number; bytes: number; samples: Sample[] };
export type Progress = { participants: number; cases: number };

// bcrypt at cost 10 takes ~0.1-0.2 s a hash, so 1.2 million of them would take days: a small
// pool of PINs is hashed once and shared, which is all a test of the line needs.
const PIN_POOL_SIZE = 16;
const RESET_PIN_SHARE = 0.01;
const SPANISH_SHARE = 0.28;
const PHONE_SHARE = 0.85;
const REPEAT_PAYER_SHARE = 0.12;
const BOTH_ROLES_SHARE = 0.05;
const CLOSED_SHARE = 0.08;
const PAYMENTS_PER_CASE = 3;
const CARD_CODE_SHARE = 0.75;
const APPOINTMENT_DAYS_BACK = 180;
const APPOINTMENT_DAYS_AHEAD = 120;
const PROGRESS_EVERY = 50_000;
const FLUSH_AT = 1 << 20;

// Independent draws for each kind of thing, so adding a draw to one never shifts another.
const STREAM = { person: 1, pin: 2, city: 3, language: 4, paying: 5, receiving: 6, case: 7, pool: 8, offset: 9 } as const;

function mix(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

function seedNumber(seed: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(seed, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return mix(hash);
}

type Draw = () => number;

/** Numbers in [0, 1) for thing `index` of one stream (mulberry32, seeded from seed, stream and index). */
function draws(seed: number, stream: number, index: number): Draw {
  let state = mix(seed ^ mix(stream * 0x9e3779b9 + mix(index)));
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(d: Draw, items: readonly T[]): T => items[Math.floor(d() * items.length)] as T;
const between = (d: Draw, low: number, high: number): number => low + Math.floor(d() * (high - low + 1));

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

/**
 * index -> base + (index * multiplier + offset) mod space: one-to-one, so IDs, SSNs and case
 * numbers never repeat, and look scattered as real ones do. The multipliers share no factor with
 * their space; the inverse turns an ID back into its index.
 */
class Scatter {
  private readonly inverse: bigint;
  constructor(private readonly base: bigint, private readonly space: bigint, private readonly multiplier: bigint) {
    this.inverse = modInverse(multiplier, space);
  }

  at(index: number, offset: bigint): string {
    return String(this.base + ((BigInt(index) * this.multiplier + offset) % this.space));
  }

  indexOf(value: string, offset: bigint): number {
    const n = BigInt(value) - this.base;
    if (n < 0n || n >= this.space) return -1;
    return Number((((n - offset) % this.space + this.space) % this.space * this.inverse) % this.space);
  }

  offset(seed: number, stream: number): bigint {
    const d = draws(seed, STREAM.offset, stream);
    return (BigInt(Math.floor(d() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(d() * 2 ** 32))) % this.space;
  }
}

const PARTICIPANT_IDS = new Scatter(1_000_000_000n, 9_000_000_000n, 7n ** 11n);
// Every made-up SSN starts with 9: the Social Security Administration never issues one that does.
const SSNS = new Scatter(900_000_000n, 100_000_000n, 7n ** 9n);
const CASE_NUMBERS = new Scatter(100_000_000_000n, 900_000_000_000n, 7n ** 13n);

type Keys = { seed: number; idOffset: bigint; ssnOffset: bigint; caseOffset: bigint };

function keysFor(seed: string): Keys {
  const n = seedNumber(seed);
  return { seed: n, idOffset: PARTICIPANT_IDS.offset(n, 1), ssnOffset: SSNS.offset(n, 2), caseOffset: CASE_NUMBERS.offset(n, 3) };
}

// The line would refuse these as a new PIN, so the made-up people do not have them either.
function weakPin(pin: string): boolean {
  const steps = [...pin].slice(1).map((digit, i) => Number(digit) - Number(pin[i]));
  return steps.every((step) => step === 0) || steps.every((step) => step === 1) || steps.every((step) => step === -1);
}

function pinPool(seed: number): string[] {
  const d = draws(seed, STREAM.pool, 0);
  const pins: string[] = [];
  while (pins.length < PIN_POOL_SIZE) {
    const pin = String(between(d, 0, 999_999)).padStart(6, '0');
    if (!weakPin(pin) && !pins.includes(pin)) pins.push(pin);
  }
  return pins;
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// Salts are drawn from the seed, not at random, so the same options give the same file. Fine for
// made-up people; the line itself always salts at random.
async function hashPool(pins: readonly string[], seed: number, cost: number): Promise<string[]> {
  const d = draws(seed, STREAM.pool, 1);
  const salts = pins.map(() => `$2b$${String(cost).padStart(2, '0')}$${Array.from({ length: 22 }, () => pick(d, [...BCRYPT_ALPHABET])).join('')}`);
  return Promise.all(pins.map((pin, i) => bcrypt.hash(pin, salts[i] as string)));
}

function pinOf(keys: Keys, pinShare: number, index: number): { pool: number | null; resetPin: boolean } {
  const d = draws(keys.seed, STREAM.pin, index);
  const has = d() < pinShare;
  const pool = Math.floor(d() * PIN_POOL_SIZE);
  return { pool: has ? pool : null, resetPin: d() < RESET_PIN_SHARE };
}

function loginAt(keys: Keys, pins: readonly string[], pinShare: number, index: number): Login {
  const { pool, resetPin } = pinOf(keys, pinShare, index);
  return {
    index,
    participantId: PARTICIPANT_IDS.at(index, keys.idOffset),
    ssn: SSNS.at(index, keys.ssnOffset),
    pin: pool === null ? null : (pins[pool] as string),
    resetPin,
  };
}

/** What a participant of a file generated with this seed and PIN share logs in with; null for an ID no such file has. */
export function loginOf(participantId: string, options: Pick<GenerateOptions, 'seed' | 'pinShare'>): Login | null {
  if (!/^\d{10}$/.test(participantId)) return null;
  const keys = keysFor(options.seed);
  const index = PARTICIPANT_IDS.indexOf(participantId, keys.idOffset);
  if (index < 0 || index >= MAX_PARTICIPANTS) return null;
  return loginAt(keys, pinPool(keys.seed), options.pinShare, index);
}

type City = { city: string; county: string; area: string; zips: readonly string[]; weight: number };

const CITIES: readonly City[] = [
  { city: 'Los Angeles', county: 'Los Angeles', area: '213', zips: ['90011', '90012', '90026', '90044'], weight: 14 },
  { city: 'Long Beach', county: 'Los Angeles', area: '562', zips: ['90802', '90805', '90813'], weight: 4 },
  { city: 'Lancaster', county: 'Los Angeles', area: '661', zips: ['93534', '93535'], weight: 3 },
  { city: 'Pasadena', county: 'Los Angeles', area: '626', zips: ['91101', '91104'], weight: 2 },
  { city: 'San Diego', county: 'San Diego', area: '619', zips: ['92101', '92105', '92113'], weight: 8 },
  { city: 'Chula Vista', county: 'San Diego', area: '619', zips: ['91910', '91911'], weight: 2 },
  { city: 'Oceanside', county: 'San Diego', area: '760', zips: ['92054', '92057'], weight: 2 },
  { city: 'San Jose', county: 'Santa Clara', area: '408', zips: ['95112', '95116', '95122'], weight: 5 },
  { city: 'San Francisco', county: 'San Francisco', area: '415', zips: ['94102', '94110', '94124'], weight: 3 },
  { city: 'Oakland', county: 'Alameda', area: '510', zips: ['94601', '94606', '94621'], weight: 4 },
  { city: 'Hayward', county: 'Alameda', area: '510', zips: ['94541', '94544'], weight: 2 },
  { city: 'Fresno', county: 'Fresno', area: '559', zips: ['93702', '93705', '93726'], weight: 5 },
  { city: 'Sacramento', county: 'Sacramento', area: '916', zips: ['95814', '95820', '95823', '95825'], weight: 6 },
  { city: 'Elk Grove', county: 'Sacramento', area: '916', zips: ['95624', '95758'], weight: 2 },
  { city: 'Bakersfield', county: 'Kern', area: '661', zips: ['93301', '93305', '93307'], weight: 4 },
  { city: 'Santa Ana', county: 'Orange', area: '714', zips: ['92701', '92703', '92704'], weight: 4 },
  { city: 'Anaheim', county: 'Orange', area: '714', zips: ['92801', '92805'], weight: 3 },
  { city: 'Riverside', county: 'Riverside', area: '951', zips: ['92501', '92503', '92504'], weight: 4 },
  { city: 'Moreno Valley', county: 'Riverside', area: '951', zips: ['92553', '92557'], weight: 2 },
  { city: 'San Bernardino', county: 'San Bernardino', area: '909', zips: ['92401', '92404', '92410'], weight: 4 },
  { city: 'Fontana', county: 'San Bernardino', area: '909', zips: ['92335', '92336'], weight: 2 },
  { city: 'Stockton', county: 'San Joaquin', area: '209', zips: ['95202', '95205', '95206'], weight: 3 },
  { city: 'Modesto', county: 'Stanislaus', area: '209', zips: ['95350', '95351', '95354'], weight: 2 },
  { city: 'Salinas', county: 'Monterey', area: '831', zips: ['93901', '93905', '93906'], weight: 2 },
  { city: 'Santa Rosa', county: 'Sonoma', area: '707', zips: ['95401', '95404', '95407'], weight: 2 },
  { city: 'Vallejo', county: 'Solano', area: '707', zips: ['94589', '94590', '94591'], weight: 1 },
  { city: 'Visalia', county: 'Tulare', area: '559', zips: ['93277', '93291', '93292'], weight: 2 },
  { city: 'Merced', county: 'Merced', area: '209', zips: ['95340', '95341', '95348'], weight: 1 },
  { city: 'Oxnard', county: 'Ventura', area: '805', zips: ['93030', '93033', '93036'], weight: 2 },
  { city: 'Santa Barbara', county: 'Santa Barbara', area: '805', zips: ['93101', '93103'], weight: 1 },
  { city: 'Redding', county: 'Shasta', area: '530', zips: ['96001', '96002', '96003'], weight: 1 },
  { city: 'Chico', county: 'Butte', area: '530', zips: ['95926', '95928'], weight: 1 },
  { city: 'Roseville', county: 'Placer', area: '916', zips: ['95661', '95678'], weight: 1 },
  { city: 'Eureka', county: 'Humboldt', area: '707', zips: ['95501', '95503'], weight: 1 },
  { city: 'El Centro', county: 'Imperial', area: '760', zips: ['92243'], weight: 1 },
];
const CITY_TABLE: readonly City[] = CITIES.flatMap((city) => Array.from({ length: city.weight }, () => city));

const FIRST_NAMES = [
  'Dana', 'Terrence', 'Kevin', 'Alicia', 'Gordon', 'Tamsin', 'Devin', 'Marcus', 'Jasmine', 'Tyler', 'Brittany', 'Andre',
  'Kayla', 'Jordan', 'Crystal', 'Darnell', 'Heather', 'Brandon', 'Nicole', 'Travis', 'Amber', 'Derek', 'Latoya', 'Shawn',
  'Megan', 'Jamal', 'Stephanie', 'Cody', 'Monique', 'Ryan', 'Tiffany', 'Aaron', 'Keisha', 'Dustin', 'Vanessa', 'Trevor',
  'Mai', 'Minh', 'Priya', 'Arjun', 'Grace', 'Kenji', 'Leilani', 'Samuel', 'Chloe', 'Isaiah', 'Hannah', 'Malik',
];
const LAST_NAMES = [
  'Whitfield', 'Holloway', 'Ashby', 'Rourke', 'Pell', 'Sato', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis',
  'Wilson', 'Anderson', 'Taylor', 'Thomas', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark',
  'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Nguyen', 'Tran', 'Patel', 'Kim', 'Chen',
  'Washington', 'Okafor', 'Sandoval',
];
const FIRST_NAMES_ES = [
  'Rafael', 'Lucía', 'José', 'María', 'Juan', 'Guadalupe', 'Luis', 'Rosa', 'Carlos', 'Ana', 'Jesús', 'Verónica', 'Miguel',
  'Alejandra', 'Francisco', 'Marisol', 'Antonio', 'Yesenia', 'Manuel', 'Araceli', 'Javier', 'Leticia', 'Ricardo', 'Maribel',
  'Alejandro', 'Carmen', 'Fernando', 'Elena', 'Ramón', 'Sofía', 'Eduardo', 'Beatriz', 'Óscar', 'Paola', 'Héctor', 'Itzel',
];
const LAST_NAMES_ES = [
  'Quintana Ortiz', 'Barragán', 'Navarro', 'García', 'Hernández', 'López', 'Martínez', 'González', 'Rodríguez', 'Pérez',
  'Sánchez', 'Ramírez', 'Torres', 'Flores', 'Rivera', 'Gómez', 'Díaz', 'Cruz', 'Morales', 'Reyes', 'Gutiérrez', 'Ortiz',
  'Chávez', 'Ruiz', 'Mendoza', 'Castillo', 'Jiménez', 'Vásquez', 'Romero', 'Herrera', 'Medina', 'Aguilar', 'Vargas',
  'Castro', 'Ramos', 'Delgado', 'Peña', 'Guzmán', 'Salazar', 'Fuentes',
];
const STREETS = [
  'Alder', 'Oak', 'Maple', 'Cedar', 'Pine', 'Walnut', 'Sycamore', 'Magnolia', 'Olive', 'Lincoln', 'Washington', 'Jefferson',
  'Madison', 'Fair Oaks', 'Mission', 'El Camino', 'San Pablo', 'Del Paso', 'Belmont', 'Shields', 'Florin', 'Stockton',
  'Franklin', 'Broadway', 'Main', 'Central', 'Vista', 'Valley View', 'Sierra', 'Sunset', 'Orange Grove', 'Palm',
  'Las Palmas', 'La Brea', 'Figueroa', 'University', 'Imperial', 'Foothill', 'Baseline', 'Mulberry',
];
const SUFFIXES = ['Street', 'Avenue', 'Boulevard', 'Way', 'Drive', 'Road', 'Court', 'Lane'];
const METHODS = [
  ['wage-withholding', 40], ['eft', 18], ['card', 15], ['check', 10], ['money-order', 6], ['cash', 6], ['tax-intercept', 5],
] as const;
const METHOD_TABLE: readonly string[] = METHODS.flatMap(([method, weight]) => Array.from({ length: weight }, () => method));
const ATTENDEE_TABLE = ['both', 'both', 'both', 'both', 'both', 'paying', 'paying', 'paying', 'receiving', 'receiving'] as const;
const DESCRIPTIONS = {
  'court-hearing': {
    en: ['Motion hearing', 'Review of your support order', 'Hearing on a request to change support', 'Order to show cause hearing'],
    es: ['Audiencia sobre una moción', 'Revisión de su orden de manutención', 'Audiencia sobre una solicitud de cambio de manutención'],
  },
  appointment: {
    en: ['Interview with your caseworker', 'Genetic testing appointment', 'Review of your case', 'Enforcement review meeting'],
    es: ['Entrevista con su trabajador social', 'Cita para prueba genética', 'Revisión de su caso de manutención infantil'],
  },
} as const;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const cityOf = (keys: Keys, index: number): City => pick(draws(keys.seed, STREAM.city, index), CITY_TABLE);
const spanishSpeaker = (keys: Keys, index: number): boolean => draws(keys.seed, STREAM.language, index)() < SPANISH_SHARE;

function participantLine(keys: Keys, index: number, pinHashes: readonly string[], pinShare: number): string {
  const d = draws(keys.seed, STREAM.person, index);
  const spanish = spanishSpeaker(keys, index);
  // Spanish-speaking parents mostly have Spanish names; others now and then.
  const hispanicName = spanish || d() < 0.15;
  const city = cityOf(keys, index);
  const { pool, resetPin } = pinOf(keys, pinShare, index);
  const line2 = d() < 0.18 ? `${pick(d, ['Apt', 'Unit', 'Apt', 'Spc'])} ${between(d, 1, 240)}` : null;
  return JSON.stringify({
    participant: {
      participantId: PARTICIPANT_IDS.at(index, keys.idOffset),
      ssn: SSNS.at(index, keys.ssnOffset),
      ...(pool === null ? {} : { pinHash: pinHashes[pool] }),
      ...(resetPin ? { resetPin: true } : {}),
      firstName: pick(d, hispanicName ? FIRST_NAMES_ES : FIRST_NAMES),
      lastName: pick(d, hispanicName ? LAST_NAMES_ES : LAST_NAMES),
      language: spanish ? 'es' : 'en',
      // 555-0100 to 0199: the numbers set aside for fiction, so nobody real gets a call.
      ...(d() < PHONE_SHARE ? { phone: `+1${city.area}55501${String(between(d, 0, 99)).padStart(2, '0')}` } : {}),
      mailingAddress: {
        line1: `${between(d, 100, 9899)} ${pick(d, STREETS)} ${pick(d, SUFFIXES)}`,
        line2,
        city: city.city,
        state: 'CA',
        zip: pick(d, city.zips),
      },
    },
  });
}

// Most cases are two people of their own; some paying parents pay on several cases, and some
// receiving parents pay on another case, as happens in a real caseload.
function payingIndex(keys: Keys, caseIndex: number): number {
  const d = draws(keys.seed, STREAM.paying, caseIndex);
  if (caseIndex > 0 && d() < REPEAT_PAYER_SHARE) return payingIndex(keys, caseIndex - 1 - Math.floor(d() * Math.min(caseIndex, 1_000)));
  return 2 * caseIndex;
}

function receivingIndex(keys: Keys, caseIndex: number, paying: number): number {
  const d = draws(keys.seed, STREAM.receiving, caseIndex);
  if (caseIndex > 0 && d() < BOTH_ROLES_SHARE) {
    const other = payingIndex(keys, caseIndex - 1 - Math.floor(d() * Math.min(caseIndex, 1_000)));
    if (other !== paying) return other;
  }
  return 2 * caseIndex + 1;
}

const money = (cents: number): string => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

type Day = { date: string; offset: string; weekday: number };

/** Pacific dates around the as-of date, with the UTC offset in force on each (payments fall between 06:00 and 21:00). */
function calendar(asOf: string, daysBefore: number, daysAfter: number): (delta: number) => Day {
  const anchor = Date.parse(`${asOf}T12:00:00Z`);
  const offsetFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', timeZoneName: 'longOffset' });
  const days = Array.from({ length: daysBefore + daysAfter + 1 }, (_, i) => {
    const noon = new Date(anchor + (i - daysBefore) * 86_400_000);
    const name = offsetFormat.formatToParts(new Date(noon.getTime() + 8 * 3_600_000)).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT-08:00';
    return { date: noon.toISOString().slice(0, 10), offset: name.slice(3), weekday: noon.getUTCDay() };
  });
  return (delta) => days[delta + daysBefore] as Day;
}

const clock = (hour: number, minute: number) => `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00`;

function caseLine(keys: Keys, caseIndex: number, day: (delta: number) => Day): string {
  const d = draws(keys.seed, STREAM.case, caseIndex);
  const paying = payingIndex(keys, caseIndex);
  const receiving = receivingIndex(keys, caseIndex, paying);
  const county = cityOf(keys, receiving).county;
  const closed = d() < CLOSED_SHARE;
  const obligation = closed ? 0 : between(d, 20, 300) * 500;
  const dueDraw = d();
  const currentMonthDue = closed ? 0 : dueDraw < 0.55 ? obligation : dueDraw < 0.9 ? 0 : Math.round(obligation * (0.2 + d() * 0.6));
  const inArrears = d() < 0.45;
  const arrearsPrincipal = inArrears ? between(d, 5_000, 3_000_000) : 0;
  const arrearsInterest = inArrears ? Math.round(arrearsPrincipal * d() * 0.1) : 0;
  const usual = obligation > 0 ? obligation : between(d, 20, 300) * 500;

  const payments = Array.from({ length: PAYMENTS_PER_CASE }, (_, j) => {
    const when = day(-(2 + 30 * j + between(d, 0, 24)));
    const method = pick(d, METHOD_TABLE);
    const amount = method === 'tax-intercept' ? between(d, 20_000, 250_000) : d() < 0.75 ? usual : Math.max(100, Math.round(usual * (0.3 + d() * 0.6)));
    const code = method === 'card' && d() < CARD_CODE_SHARE
      ? `ch_${caseIndex.toString(36)}x${j}${Array.from({ length: 10 }, () => pick(d, [...ALPHANUMERIC])).join('')}`
      : null;
    return {
      receivedAt: `${when.date}T${clock(between(d, 6, 20), between(d, 0, 59))}${when.offset}`,
      amount: money(amount),
      method,
      ...(code === null ? {} : { confirmationCode: code }),
    };
  });

  const appointmentDraw = d();
  const appointments = Array.from({ length: appointmentDraw < 0.45 ? 0 : appointmentDraw < 0.85 ? 1 : 2 }, () => {
    let delta = d() < 0.6 ? between(d, 1, APPOINTMENT_DAYS_AHEAD) : -between(d, 1, APPOINTMENT_DAYS_BACK);
    const weekday = day(delta).weekday;
    if (weekday === 6) delta += 2;
    if (weekday === 0) delta += 1;
    const when = day(delta);
    const kind = d() < 0.45 ? 'court-hearing' : 'appointment';
    const attendee = pick(d, ATTENDEE_TABLE);
    const parents = attendee === 'both' ? [paying, receiving] : [attendee === 'paying' ? paying : receiving];
    const inSpanish = parents.every((parent) => spanishSpeaker(keys, parent));
    return {
      at: `${when.date}T${clock(between(d, 8, 15), pick(d, [0, 30]))}${when.offset}`,
      kind,
      location: kind === 'court-hearing'
        ? `Superior Court of California, County of ${county}, Department ${between(d, 1, 140)}`
        : `${county} County Department of Child Support Services`,
      description: pick(d, DESCRIPTIONS[kind][inSpanish ? 'es' : 'en']),
      attendee,
    };
  });

  return JSON.stringify({
    case: {
      caseNumber: CASE_NUMBERS.at(caseIndex, keys.caseOffset),
      county,
      status: closed ? 'closed' : 'open',
      payingParticipantId: PARTICIPANT_IDS.at(paying, keys.idOffset),
      receivingParticipantId: PARTICIPANT_IDS.at(receiving, keys.idOffset),
      monthlyObligation: money(obligation),
      currentMonthDue: money(currentMonthDue),
      arrearsPrincipal: money(arrearsPrincipal),
      arrearsInterest: money(arrearsInterest),
      payments,
      appointments,
    },
  });
}

/** Lines gathered into large writes, waiting whenever the destination is behind. */
class LineWriter {
  private lines: string[] = [];
  private chars = 0;
  bytes = 0;
  constructor(private readonly out: Writable) {}

  get full(): boolean {
    return this.chars >= FLUSH_AT;
  }

  add(line: string): void {
    this.lines.push(line);
    this.chars += line.length;
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const bytes = Buffer.from(`${this.lines.join('\n')}\n`, 'utf8');
    this.lines = [];
    this.chars = 0;
    this.bytes += bytes.length;
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }
}

/** Writes the whole caseload to `out` (which it does not end), about two participants a case. */
export async function generateCaseload(options: GenerateOptions, out: Writable, onProgress?: (progress: Progress) => void): Promise<GenerateSummary> {
  const keys = keysFor(options.seed);
  const pins = pinPool(keys.seed);
  const pinHashes = await hashPool(pins, keys.seed, options.cost);
  // Payments go back up to 2 + 30 * 2 + 24 days; weekend appointments move up to 2 days later.
  const day = calendar(options.asOf, Math.max(2 + 30 * PAYMENTS_PER_CASE, APPOINTMENT_DAYS_BACK), APPOINTMENT_DAYS_AHEAD + 2);
  const writer = new LineWriter(out);
  const caseCount = Math.floor(options.participants / 2);
  const report = (participants: number, cases: number) => onProgress?.({ participants, cases });

  writer.add('{"version":2}');
  for (let i = 0; i < options.participants; i += 1) {
    writer.add(participantLine(keys, i, pinHashes, options.pinShare));
    if (writer.full) await writer.flush();
    if ((i + 1) % PROGRESS_EVERY === 0) report(i + 1, 0);
  }
  const samples = new Map<string, number>();
  for (let c = 0; c < caseCount; c += 1) {
    writer.add(caseLine(keys, c, day));
    if (writer.full) await writer.flush();
    if ((c + 1) % PROGRESS_EVERY === 0) report(options.participants, c + 1);
    if (samples.size < 2) {
      const paying = payingIndex(keys, c);
      const receiving = receivingIndex(keys, c, paying);
      const hasPin = (index: number) => pinOf(keys, options.pinShare, index).pool !== null;
      if (paying !== 2 * c && hasPin(paying) && !samples.has('pays on several cases')) samples.set('pays on several cases', paying);
      if (receiving !== 2 * c + 1 && hasPin(receiving) && !samples.has('pays on one case, receives on another')) {
        samples.set('pays on one case, receives on another', receiving);
      }
    }
  }
  await writer.flush();
  report(options.participants, caseCount);
  return { participants: options.participants, cases: caseCount, bytes: writer.bytes, samples: pickSamples(keys, pins, options, samples) };
}

function pickSamples(keys: Keys, pins: readonly string[], options: GenerateOptions, found: Map<string, number>): Sample[] {
  const inCases = 2 * Math.floor(options.participants / 2);
  const pays = (i: number) => i < inCases && i % 2 === 0 && payingIndex(keys, i / 2) === i;
  const receives = (i: number) => i < inCases && i % 2 === 1 && receivingIndex(keys, (i - 1) / 2, payingIndex(keys, (i - 1) / 2)) === i;
  const wanted: [string, (login: Login) => boolean][] = [
    ['pays on a case', (login) => login.pin !== null && pays(login.index)],
    ['receives on a case', (login) => login.pin !== null && receives(login.index)],
    ['Spanish-speaking, with a PIN', (login) => login.pin !== null && spanishSpeaker(keys, login.index) && (pays(login.index) || receives(login.index))],
    ['no PIN yet: must use Forgot my PIN', (login) => login.pin === null],
  ];
  const logins = Array.from({ length: Math.min(options.participants, 1_000) }, (_, i) => loginAt(keys, pins, options.pinShare, i));
  const samples: Sample[] = [];
  for (const [shows, fits] of wanted) {
    const login = logins.find(fits);
    if (login) samples.push({ ...login, shows });
  }
  for (const [shows, index] of found) samples.push({ ...loginAt(keys, pins, options.pinShare, index), shows });
  return samples;
}
