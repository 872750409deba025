// The login mix's callers (scripts/bench/login-mix.ts), as the load generator plays them:
// answer, English, main menu 1 (account), a demo participant ID + #, the PIN + #, account menu 1
// (balance), hang up (status callback). One call in four first enters a wrong PIN, is told so,
// and then enters the right one: two PIN checks in that call.
//
// The lockout. Six failed PINs in 24 hours lock a participant, and the line's clock is pinned,
// so failures would pile up. Before every slice that has logins the bench loads the demo caseload
// anew and clears the failures the line recorded (its own side of the store, which a load keeps),
// and says so ("reseeded"); within a slice each
// participant gets at most lockAfter − 1 wrong PINs, and a wrong entry beyond that budget uses an
// ID that names nobody instead, which the line checks against a dummy hash: the same bcrypt work,
// no failure recorded.
import { readFile } from 'node:fs/promises';
import { DEMO_CASELOAD_PATH } from '../../src/domain/caseload-loader.ts';
import { parseCaseloadJson } from '../../src/domain/caseload-file.ts';
import { DEFAULT_IDENTIFICATION_POLICY } from '../../src/domain/identification.ts';
import type { Step } from './walk.ts';

/** A participant of the demo caseload who has a PIN. */
type Person = { id: string; pin: string };

/** An ID of the right length that names nobody in the demo caseload. */
const NOBODY = '2000000002';
/** Wrong PINs a participant may be given per seeding: one fewer than locks them. */
const WRONG_PIN_BUDGET = DEFAULT_IDENTIFICATION_POLICY.lockAfter - 1;
/** One login call in this many starts with a wrong PIN. */
export const WRONG_EVERY = 4;

export async function demoPeople(): Promise<Person[]> {
  const parsed = parseCaseloadJson(await readFile(DEMO_CASELOAD_PATH, 'utf8'));
  if (!parsed.ok) throw new Error(`${DEMO_CASELOAD_PATH}: ${parsed.error}`);
  const people = parsed.caseload.participants.flatMap(({ participant, pin }) => (pin === null ? [] : [{ id: participant.participantId, pin }]));
  if (people.length === 0) throw new Error(`${DEMO_CASELOAD_PATH}: no participant has a PIN`);
  if (people.some((p) => p.id === NOBODY)) throw new Error(`${NOBODY} is in the demo caseload: pick another ID for "nobody"`);
  return people;
}

const wrongPinFor = (pin: string): string => (pin === '246802' ? '135791' : '246802');

/** Who calls next, and whether they mistype their PIN first; the wrong-PIN budget lasts until the next seeding. */
export class LoginPlan {
  private n = 0;
  private wrongSoFar = new Map<string, number>();
  constructor(private readonly people: Person[]) {}

  reseeded(): void {
    this.wrongSoFar.clear();
  }

  next(): { person: Person; wrong: null | { id: string; pin: string; kind: 'wrongPin' | 'unknownId' } } {
    const k = this.n++;
    const count = this.people.length;
    const person = this.people[k % count]!;
    // Every WRONG_EVERY-th call, shifted by one each pass over the people, so the wrong PINs
    // fall on each of them in turn rather than always on the same few.
    if ((k + Math.floor(k / count)) % WRONG_EVERY !== WRONG_EVERY - 1) return { person, wrong: null };
    const used = this.wrongSoFar.get(person.id) ?? 0;
    if (used >= WRONG_PIN_BUDGET) return { person, wrong: { id: NOBODY, pin: person.pin, kind: 'unknownId' } };
    this.wrongSoFar.set(person.id, used + 1);
    return { person, wrong: { id: person.id, pin: wrongPinFor(person.pin), kind: 'wrongPin' } };
  }
}

export type LoginTally = {
  pinChecks: number;
  successes: number;
  wrongPin: number;
  unknownId: number;
  /** The PIN webhook: the request whose handler awaits bcrypt.compare. */
  pinMs: number[];
  /** The login callers' other webhooks (menus, ID entry, balance, status). */
  restMs: number[];
};

export const newLoginTally = (): LoginTally => ({ pinChecks: 0, successes: 0, wrongPin: 0, unknownId: 0, pinMs: [], restMs: [] });

const EXPECT = {
  answer: ['For English, press 1.'],
  english: ['Main menu.'],
  login: ['enter your 10-digit participant ID'],
  id: ['Now enter your PIN'],
  verified: ['Account menu.'],
  mismatch: ['We could not verify that participant ID and PIN.', 'To try again, press 1.'],
  retry: ['enter your 10-digit participant ID'],
  balance: ['To repeat, press 9.'],
  status: ['<Response'],
};

/** Posts one step of the call and answers the reply and its latency (null: the call was left where it was). */
export type Exchange = (step: Step) => Promise<{ text: string; ms: number } | null>;

/** One login call; throws when the line answers something else than a login expects. */
export async function loginCall(exchange: Exchange, plan: LoginPlan, tally: LoginTally): Promise<void> {
  const { person, wrong } = plan.next();
  const step = async (s: Step, pin = false): Promise<string> => {
    const reply = await exchange(s);
    if (reply === null) throw new Error('a login call was cut off');
    (pin ? tally.pinMs : tally.restMs).push(reply.ms);
    return reply.text;
  };
  await step({ kind: 'answer', expect: EXPECT.answer });
  await step({ kind: 'press', digits: '1', expect: EXPECT.english });
  await step({ kind: 'press', digits: '1', expect: EXPECT.login });
  if (wrong) {
    await step({ kind: 'press', digits: wrong.id, pound: true, expect: EXPECT.id });
    await step({ kind: 'press', digits: wrong.pin, pound: true, expect: EXPECT.mismatch }, true);
    tally.pinChecks += 1;
    tally[wrong.kind] += 1;
    await step({ kind: 'press', digits: '1', expect: EXPECT.retry });
  }
  await step({ kind: 'press', digits: person.id, pound: true, expect: EXPECT.id });
  await step({ kind: 'press', digits: person.pin, pound: true, expect: EXPECT.verified }, true);
  tally.pinChecks += 1;
  tally.successes += 1;
  const balance = await step({ kind: 'press', digits: '1', expect: EXPECT.balance });
  if (!/total balance|no open cases/i.test(balance)) throw new Error(`the balance for ${person.id} says neither a total nor "no open cases": ${balance.slice(0, 200)}`);
  await step({ kind: 'status', expect: EXPECT.status });
}
