// Drives the line's machine with the engine's own turn (src/engine/turn.ts), without Redis or
// HTTP: one event per step, settle (invoked actors resolve asynchronously), say what was emitted
// in the caller's settled language. Live, one actor takes every step; in round-trip mode every
// step is the engine's settleTurn from the previous step's snapshot through JSON, as between webhooks.
// The machine's named actors are sinon stubs wrapped in fromPromise, answering from a tiny
// in-memory domain (FakeDomain below) unless a test tells a stub otherwise: `call.stubs.login`.
import sinon from 'sinon';
import { createActor, fromPromise } from 'xstate';
import type { CallerEvent, DialStatus, StateMeta } from '../../flows/events.ts';
import { lineMachine, type LineInput } from '../../flows/line.ts';
import type { PromptId } from '../../prompts/catalog.ts';
import { speak, type Language, type Utterance } from '../../prompts/speak.ts';
import type {
  AccountSummary, AppointmentItem, BalanceReport, CaseBalance, CaseInformation, ForgotPinResult, HistoryItem, LoginResult, ProposedPin,
} from '../../src/domain/accounts.ts';
import type { CallerKey } from '../../src/domain/identification.ts';
import type { Appointment, Case, CaseNumber, ParticipantId, Payment, Role } from '../../src/domain/caseload.ts';
import { cents, type Cents } from '../../src/domain/money.ts';
import { pendingPinDigest } from '../../src/domain/crypto.ts';
import { pinProblem } from '../../src/domain/pin.ts';

import { nextOf, settleActor, settleTurn, stateName, type LineActor, type LineMachine, type LineSnapshot, type Settled } from '../../src/engine/turn.ts';

/** What each named actor of flows/line.ts is given, and what it answers. */
export type ActorInputs = {
  mayIdentify: { caller: CallerKey };
  identify: { entry: string };
  login: { candidate: ParticipantId | null; pin: string; caller: CallerKey };
  summary: { participantId: ParticipantId };
  balances: { participantId: ParticipantId };
  history: { participantId: ParticipantId };
  caseInformation: { participantId: ParticipantId };
  forgotPin: { candidate: ParticipantId | null; ssn: string; caller: CallerKey };
  proposePin: { participantId: ParticipantId; pin: string };
  confirmPin: { participantId: ParticipantId; pin: string; digest: string };
};
export type ActorOutputs = {
  mayIdentify: boolean;
  identify: ParticipantId | null;
  login: LoginResult;
  summary: AccountSummary;
  balances: BalanceReport;
  history: HistoryItem[];
  caseInformation: CaseInformation;
  forgotPin: ForgotPinResult;
  proposePin: ProposedPin;
  confirmPin: boolean;
};
export type ActorName = keyof ActorInputs;
export type ActorStubs = { [K in ActorName]: sinon.SinonStub<[ActorInputs[K]], Promise<ActorOutputs[K]>> };

// ---------------------------------------------------------------------------------------------
// The fake domain: three participants, cases in both roles, payments and appointments.
// It keeps the domain's promises (newest payment first, soonest appointment first, paying cases
// first, at most 5 cases in a balance) so the machine tests hear what a caller would.

export const NOW = '2026-11-24T18:00:00Z'; // Tuesday, November 24, 2026, 10:00 AM Pacific

const pid = (text: string) => text as ParticipantId;
const caseNo = (text: string) => text as CaseNumber;

/** Who can call, with the secrets only the fake knows (the real store keeps hashes). */
export const PEOPLE = {
  /** Pays on two open cases and a closed one, receives on a third; payments and appointments. */
  maria: { participantId: pid('4071239658'), ssn: '572914386', pin: '739152' },
  /** Receives on Maria's two paying cases; asked for a new PIN yesterday. */
  james: { participantId: pid('6120948375'), ssn: '683025147', pin: '5820' },
  /** No cases at all. */
  ana: { participantId: pid('8306152497'), ssn: '461870293', pin: '94617' },
} as const;

/** The other parent on Maria's receiving case; not someone who calls in these tests. */
const STRANGER = pid('9990001112');

export const CASES = {
  /** Maria pays, James receives. "3 4 5 6". */
  la: caseNo('190000123456'),
  /** Maria pays, James receives; has a credit. "7 7 8 8". */
  orange: caseNo('300000127788'),
  /** Maria receives. "9 0 1 2". */
  sanDiego: caseNo('370000449012'),
  /** Maria paid; closed. "1 2 3 4". */
  alameda: caseNo('010000551234'),
} as const;

const money = (n: number): Cents => cents(n);

export function fakeCases(): Case[] {
  const { maria, james } = PEOPLE;
  return [
    {
      caseNumber: CASES.la, county: 'Los Angeles', status: 'open', payingParticipantId: maria.participantId, receivingParticipantId: james.participantId,
      monthlyObligation: money(45000), currentMonthDue: money(45000), arrearsPrincipal: money(120000), arrearsInterest: money(1523), credit: money(0),
    },
    {
      caseNumber: CASES.orange, county: 'Orange', status: 'open', payingParticipantId: maria.participantId, receivingParticipantId: james.participantId,
      monthlyObligation: money(30000), currentMonthDue: money(0), arrearsPrincipal: money(50000), arrearsInterest: money(0), credit: money(2500),
    },
    {
      caseNumber: CASES.sanDiego, county: 'San Diego', status: 'open', payingParticipantId: STRANGER, receivingParticipantId: maria.participantId,
      monthlyObligation: money(60000), currentMonthDue: money(60000), arrearsPrincipal: money(0), arrearsInterest: money(0), credit: money(0),
    },
    {
      caseNumber: CASES.alameda, county: 'Alameda', status: 'closed', payingParticipantId: maria.participantId, receivingParticipantId: STRANGER,
      monthlyObligation: money(0), currentMonthDue: money(0), arrearsPrincipal: money(0), arrearsInterest: money(0), credit: money(0),
    },
  ];
}

/** Deliberately out of order: the domain sorts, newest first. */
export function fakePayments(): Record<CaseNumber, Payment[]> {
  return {
    [CASES.la]: [
      { receivedAt: '2026-09-30T19:00:00Z', amount: money(45000), method: 'wage-withholding' },
      { receivedAt: '2026-11-13T20:00:00Z', amount: money(45000), method: 'wage-withholding' },
      { receivedAt: '2026-07-06T17:00:00Z', amount: money(7500), method: 'card' },
      { receivedAt: '2026-10-28T20:00:00Z', amount: money(45000), method: 'wage-withholding' },
    ],
    [CASES.orange]: [
      { receivedAt: '2026-08-20T19:00:00Z', amount: money(123456), method: 'tax-intercept' },
      { receivedAt: '2026-10-15T18:00:00Z', amount: money(20000), method: 'check' },
    ],
    [CASES.sanDiego]: [{ receivedAt: '2026-09-02T21:00:00Z', amount: money(12550), method: 'money-order' }],
  } as Record<CaseNumber, Payment[]>;
}

/** Deliberately out of order, one already past: the domain gives those from now on, soonest first. */
export function fakeAppointments(): Record<CaseNumber, Appointment[]> {
  return {
    [CASES.la]: [
      { at: '2026-12-10T17:30:00Z', kind: 'court-hearing', location: 'Los Angeles Superior Court, 111 North Hill Street', description: 'Review of your support order.' },
      { at: '2026-10-01T16:00:00Z', kind: 'appointment', location: 'Los Angeles Child Support Services', description: 'Interview' },
    ],
    [CASES.sanDiego]: [
      { at: '2026-12-02T22:00:00Z', kind: 'appointment', location: 'San Diego Child Support Services, 3211 Kurtz Street', description: 'Interview with your caseworker' },
    ],
  } as Record<CaseNumber, Appointment[]>;
}

const MAX_CASES_READ = 5;
const DIGEST_KEY = 'fake-domain-digest-key';

export class FakeDomain {
  readonly now = new Date(NOW);
  cases = fakeCases();
  payments = fakePayments();
  appointments = fakeAppointments();
  /** Current PINs, as the store would have them hashed. */
  pins = new Map<ParticipantId, string>(Object.values(PEOPLE).map((p) => [p.participantId, p.pin]));
  /** PINs mailed after "Forgot my PIN", not used yet. */
  pendingPins = new Map<ParticipantId, string>();
  locked = new Set<ParticipantId>();
  /** When each participant last got a new PIN mailed. */
  lastReset = new Map<ParticipantId, string>([[PEOPLE.james.participantId, '2026-11-23T22:15:00Z']]);

  private person(test: (p: (typeof PEOPLE)[keyof typeof PEOPLE]) => boolean): ParticipantId | null {
    return Object.values(PEOPLE).find(test)?.participantId ?? null;
  }

  private partyCases(participantId: ParticipantId): { c: Case; role: Role }[] {
    return this.cases.flatMap((c): { c: Case; role: Role }[] =>
      c.payingParticipantId === participantId ? [{ c, role: 'paying' }] : c.receivingParticipantId === participantId ? [{ c, role: 'receiving' }] : []);
  }

  async identify({ entry }: ActorInputs['identify']): Promise<ParticipantId | null> {
    if (/^\d{10}$/.test(entry)) return this.person((p) => p.participantId === entry);
    if (/^\d{9}$/.test(entry)) return this.person((p) => p.ssn === entry);
    return null;
  }

  /** Numbers that have used their failures for the hour. */
  throttled = new Set<CallerKey>();

  async mayIdentify({ caller }: ActorInputs['mayIdentify']): Promise<boolean> {
    return !this.throttled.has(caller);
  }

  /** A locked participant is answered like a wrong PIN: the lock is never announced. */
  async login({ candidate, pin, caller }: ActorInputs['login']): Promise<LoginResult> {
    if (this.throttled.has(caller)) return { ok: false, reason: 'throttled' };
    const current = candidate ? this.pins.get(candidate) : undefined;
    if (!candidate || current === undefined || this.locked.has(candidate)) return { ok: false, reason: 'mismatch' };
    return current === pin ? { ok: true, participantId: candidate } : { ok: false, reason: 'mismatch' };
  }

  async balances({ participantId }: ActorInputs['balances']): Promise<BalanceReport> {
    const open = this.partyCases(participantId)
      .filter(({ c }) => c.status === 'open')
      .sort((a, b) => (a.role === b.role ? a.c.caseNumber.localeCompare(b.c.caseNumber) : a.role === 'paying' ? -1 : 1));
    const cases: CaseBalance[] = open.map(({ c, role }) => ({
      caseNumber: c.caseNumber, role, monthlyObligation: c.monthlyObligation, currentMonthDue: c.currentMonthDue,
      arrearsPrincipal: c.arrearsPrincipal, arrearsInterest: c.arrearsInterest, credit: c.credit,
      total: cents(c.currentMonthDue + c.arrearsPrincipal + c.arrearsInterest),
    }));
    const totals = (['paying', 'receiving'] as const).flatMap((role) => {
      const mine = cases.filter((c) => c.role === role);
      return mine.length ? [{ role, cases: mine.length, total: cents(mine.reduce((sum, c) => sum + c.total, 0)) }] : [];
    });
    return { cases: cases.slice(0, MAX_CASES_READ), openCases: cases.length, totals };
  }

  async summary({ participantId }: ActorInputs['summary']): Promise<AccountSummary> {
    const open = this.partyCases(participantId).filter(({ c }) => c.status === 'open');
    const paying = open.filter(({ role }) => role === 'paying').map(({ c }) => c);
    const receiving = open.filter(({ role }) => role === 'receiving').map(({ c }) => c);
    const received = receiving
      .flatMap((c) => this.payments[c.caseNumber] ?? [])
      .filter((p) => Date.parse(p.receivedAt) <= this.now.getTime())
      .sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
    const last = received[0];
    return {
      paying: paying.length === 0 ? null : {
        total: cents(paying.reduce((sum, c) => sum + c.currentMonthDue + c.arrearsPrincipal + c.arrearsInterest, 0)),
        dueThisMonth: cents(paying.reduce((sum, c) => sum + c.currentMonthDue, 0)),
      },
      receiving: receiving.length === 0 ? null : { lastPayment: last ? { amount: last.amount, receivedAt: last.receivedAt } : null },
    };
  }

  async history({ participantId }: ActorInputs['history']): Promise<HistoryItem[]> {
    return this.partyCases(participantId)
      .flatMap(({ c }) => (this.payments[c.caseNumber] ?? []).map((p) => ({ caseNumber: c.caseNumber, receivedAt: p.receivedAt, amount: p.amount, method: p.method })))
      .filter((item) => Date.parse(item.receivedAt) <= this.now.getTime())
      .sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt));
  }

  async caseInformation({ participantId }: ActorInputs['caseInformation']): Promise<CaseInformation> {
    const mine = this.partyCases(participantId);
    const appointments: AppointmentItem[] = mine
      .flatMap(({ c }) => (this.appointments[c.caseNumber] ?? []).map((a) => ({ ...a, caseNumber: c.caseNumber })))
      .filter((a) => Date.parse(a.at) >= this.now.getTime())
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return {
      cases: mine
        .sort((a, b) => (a.c.status === b.c.status ? a.c.caseNumber.localeCompare(b.c.caseNumber) : a.c.status === 'open' ? -1 : 1))
        .map(({ c, role }) => ({ caseNumber: c.caseNumber, county: c.county, status: c.status, role })),
      appointments,
    };
  }

  async forgotPin({ candidate, ssn, caller }: ActorInputs['forgotPin']): Promise<ForgotPinResult> {
    if (this.throttled.has(caller)) return { ok: false, reason: 'throttled' };
    const bySsn = /^\d{9}$/.test(ssn) ? this.person((p) => p.ssn === ssn) : null;
    if (!candidate || bySsn !== candidate) return { ok: false, reason: 'mismatch' };
    const last = this.lastReset.get(candidate);
    if (last && this.now.getTime() - Date.parse(last) < 24 * 3600_000) return { ok: false, reason: 'recently-reset', lastResetAt: last };
    this.lastReset.set(candidate, this.now.toISOString());
    this.pendingPins.set(candidate, '246813'); // "mailed"; never spoken; the current PIN keeps working
    this.locked.delete(candidate);
    return { ok: true };
  }

  async proposePin({ participantId, pin }: ActorInputs['proposePin']): Promise<ProposedPin> {
    const problem = pinProblem(pin);
    if (problem) return { ok: false, reason: problem };
    if (this.pins.get(participantId) === pin) return { ok: false, reason: 'same-as-old' };
    return { ok: true, digest: pendingPinDigest(participantId, pin, DIGEST_KEY) };
  }

  async confirmPin({ participantId, pin, digest }: ActorInputs['confirmPin']): Promise<boolean> {
    if (pendingPinDigest(participantId, pin, DIGEST_KEY) !== digest) return false;
    this.pins.set(participantId, pin);
    return true;
  }
}

/** Every actor a sinon stub that answers from the domain until a test says otherwise (made on first use: stubs are not free). */
export function stubsFor(domain: FakeDomain): ActorStubs {
  const answers: { [K in ActorName]: (input: ActorInputs[K]) => Promise<ActorOutputs[K]> } = {
    mayIdentify: (input) => domain.mayIdentify(input),
    identify: (input) => domain.identify(input),
    login: (input) => domain.login(input),
    summary: (input) => domain.summary(input),
    balances: (input) => domain.balances(input),
    history: (input) => domain.history(input),
    caseInformation: (input) => domain.caseInformation(input),
    forgotPin: (input) => domain.forgotPin(input),
    proposePin: (input) => domain.proposePin(input),
    confirmPin: (input) => domain.confirmPin(input),
  };
  const made = new Map<ActorName, sinon.SinonStub>();
  const stubs = {};
  for (const name of Object.keys(answers) as ActorName[]) {
    Object.defineProperty(stubs, name, {
      enumerable: true,
      get: () => made.get(name) ?? made.set(name, sinon.stub().callsFake(answers[name])).get(name),
    });
  }
  return stubs as ActorStubs;
}

// One provided machine serves every call (providing is the slow part of starting one): its actors
// find the call they belong to through the actor system the call's actor created.
const callOfSystem = new WeakMap<object, Call>();

function stubsOf(system: object): ActorStubs {
  const call = callOfSystem.get(system);
  if (!call) throw new Error('a named actor ran in a machine no Call started');
  return call.stubs;
}

/** The named actors as the calls' stubs; each invocation goes through the stub, so tests can read its args. */
function routedActors() {
  return {
    mayIdentify: fromPromise<ActorOutputs['mayIdentify'], ActorInputs['mayIdentify']>(({ input, system }) => stubsOf(system).mayIdentify(input)),
    identify: fromPromise<ActorOutputs['identify'], ActorInputs['identify']>(({ input, system }) => stubsOf(system).identify(input)),
    login: fromPromise<ActorOutputs['login'], ActorInputs['login']>(({ input, system }) => stubsOf(system).login(input)),
    summary: fromPromise<ActorOutputs['summary'], ActorInputs['summary']>(({ input, system }) => stubsOf(system).summary(input)),
    balances: fromPromise<ActorOutputs['balances'], ActorInputs['balances']>(({ input, system }) => stubsOf(system).balances(input)),
    history: fromPromise<ActorOutputs['history'], ActorInputs['history']>(({ input, system }) => stubsOf(system).history(input)),
    caseInformation: fromPromise<ActorOutputs['caseInformation'], ActorInputs['caseInformation']>(({ input, system }) => stubsOf(system).caseInformation(input)),
    forgotPin: fromPromise<ActorOutputs['forgotPin'], ActorInputs['forgotPin']>(({ input, system }) => stubsOf(system).forgotPin(input)),
    proposePin: fromPromise<ActorOutputs['proposePin'], ActorInputs['proposePin']>(({ input, system }) => stubsOf(system).proposePin(input)),
    confirmPin: fromPromise<ActorOutputs['confirmPin'], ActorInputs['confirmPin']>(({ input, system }) => stubsOf(system).confirmPin(input)),
  };
}

export type LineActors = ReturnType<typeof routedActors>;
const ROUTED = routedActors();
const providedMachines = new Map<boolean | undefined, LineMachine>();

function machineFor(options: CallOptions): LineMachine {
  const available = options.representativesAvailable;
  const guards = available === undefined ? {} : { guards: { representativesAvailable: () => available } };
  if (options.machine || options.actors) return (options.machine ?? lineMachine).provide({ actors: { ...ROUTED, ...options.actors }, ...guards });
  let machine = providedMachines.get(available);
  if (!machine) providedMachines.set(available, (machine = lineMachine.provide({ actors: ROUTED, ...guards })));
  return machine;
}

// ---------------------------------------------------------------------------------------------

export type CallOptions = {
  input?: LineInput;
  /** Replaces the office-hours guard; left out, the real guard reads the clock (fake it with sinon). */
  representativesAvailable?: boolean;
  /** Persist → JSON → restore the machine after every step, as the engine does between webhooks. */
  roundTrip?: boolean;
  machine?: LineMachine;
  /** The caseload the default actors answer from; a fresh FakeDomain if left out. */
  domain?: FakeDomain;
  /** Named actors to provide instead of the stubs (then `call.stubs` does not see those calls). */
  actors?: Partial<LineActors>;
};

export type Spoken = { id: PromptId; text: string; language: Language };

/** What the main menu says on entry (a resumed call hears only that), for "…, then the main menu". */
export async function mainMenuPrompt(): Promise<PromptId[]> {
  return (await Call.start({ input: { resume: true } })).ids;
}

export class Call {
  /** What the caller heard at the last step, in order. */
  spoken: Spoken[] = [];
  /** Everything the caller heard in the call. */
  readonly transcript: Spoken[] = [];
  /** The persisted snapshot as JSON after every step: what the store would hold between webhooks. */
  readonly persisted: string[] = [];
  /** Every key press, with the state it was pressed in (to know which entries were secrets). */
  readonly presses: { state: string; keys: string }[] = [];
  /** How many times the actor was rebuilt from a persisted snapshot. */
  restores = 0;
  readonly domain: FakeDomain;
  /** The named actors, as sinon stubs: read what each was given, or make one answer otherwise. */
  readonly stubs: ActorStubs;

  private readonly machine: LineMachine;
  /** Live mode: the one actor that takes every step. Round-trip mode: none between steps. */
  private readonly actor: LineActor | null;
  /** The state after the last step (live, or as settleTurn left it). */
  private last: LineSnapshot | null = null;

  private constructor(private readonly options: CallOptions) {
    this.domain = options.domain ?? new FakeDomain();
    this.stubs = stubsFor(this.domain);
    this.machine = machineFor(options);
    this.actor = options.roundTrip ? null : this.route(createActor(this.machine, { input: options.input ?? {} }));
  }

  /** Answers the call (or resumes it, with `input: { resume: true }`) and settles. */
  static async start(options: CallOptions = {}): Promise<Call> {
    const call = new Call(options);
    await call.step(null);
    return call;
  }

  press(keys: string): Promise<Call> {
    this.presses.push({ state: this.state, keys });
    return this.step({ type: 'digits', digits: keys });
  }

  silence(): Promise<Call> {
    return this.step({ type: 'noInput' });
  }

  dialEnded(status: DialStatus): Promise<Call> {
    return this.step({ type: 'dialEnded', status });
  }

  /** The texts of the last step. */
  get lines(): string[] {
    return this.spoken.map((line) => line.text);
  }

  /** The last step as one string, for `include` checks. */
  get heard(): string {
    return this.lines.join(' ');
  }

  get ids(): PromptId[] {
    return this.spoken.map((line) => line.id);
  }

  get snapshot(): LineSnapshot {
    if (!this.last) throw new Error('the call has not started');
    return this.last;
  }

  get state(): string {
    return stateName(this.snapshot);
  }

  get meta(): StateMeta {
    const next = nextOf(this.snapshot);
    if (!next) throw new Error(`state ${this.state} neither waits nor ends`);
    return 'end' in next ? { end: 'hangup' } : { wait: next };
  }

  get language(): Language {
    return this.snapshot.context.language;
  }

  get done(): boolean {
    return this.last?.status === 'done';
  }

  private route(actor: LineActor): LineActor {
    callOfSystem.set(actor.system, this);
    return actor;
  }

  private async step(event: CallerEvent | null): Promise<Call> {
    if (this.done) throw new Error(`the call has ended (${this.state}): nothing more can happen`);
    let settled: Settled;
    if (this.actor) {
      settled = await settleActor(this.actor, event, 1000);
      this.persisted.push(JSON.stringify(this.actor.getPersistedSnapshot()));
    } else {
      const previous = this.persisted.at(-1);
      const start = previous === undefined || event === null ? { input: this.options.input ?? {} } : { snapshot: JSON.parse(previous) as unknown, event };
      const turn = await settleTurn(this.machine, start, 1000, (actor) => this.route(actor));
      settled = turn;
      this.persisted.push(JSON.stringify(turn.persisted));
    }
    this.last = settled.snapshot;
    if (!this.actor) this.checkRestore();
    // The engine renders everything said in a turn in the language the caller has when the turn settles.
    this.spoken = settled.said.map((utterance) => ({ id: utterance.id, ...speak(utterance, settled.language) }));
    this.transcript.push(...this.spoken);
    return this;
  }

  /** The step's snapshot, restored as the next webhook will restore it, must say nothing again. */
  private checkRestore(): void {
    const restored = this.route(createActor(this.machine, { snapshot: JSON.parse(this.persisted.at(-1)!) as LineSnapshot, input: {} }));
    const said: Utterance[] = [];
    restored.on('say', (event) => said.push(...event.lines));
    restored.start();
    restored.stop();
    // Entry actions must not run again on restore, or the caller would hear the menu twice.
    if (said.length) throw new Error(`restoring ${this.state} said ${said.map((u) => u.id).join(', ')}`);
    this.restores += 1;
  }
}
