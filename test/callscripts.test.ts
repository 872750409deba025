import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import express from 'express';
import sinon from 'sinon';
import { DEMO_CASELOAD_PATH } from '../src/domain/caseload-loader.ts';
import type { CaseloadStore } from '../src/domain/caseload-store.ts';
import type { ParticipantId } from '../src/domain/caseload.ts';
import { representativesAvailable } from '../src/domain/hours.ts';
import { Engine } from '../src/engine/engine.ts';
import type { Reply } from '../src/engine/reply.ts';
import { replyUrls } from '../src/telephony/routes.ts';
import { renderReply } from '../src/telephony/twiml.ts';
import { renderReference } from './support/twiml-reference.ts';
import {
  CallScriptError,
  findCallScripts,
  loadCallScript,
  parseCallScript,
  runCallScript,
  type CallScript,
  type CallScriptResult,
} from '../src/simulator/call-script.ts';
import { formatRun, playCallScripts, startLocalLine, whySkip, type LineConditions } from '../scripts/callscript.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const scriptsDir = path.join(here, 'calls');
const files = await findCallScripts([scriptsDir]);
// A script that does not parse is reported by its own test below; here it is left out.
const scripts = (await Promise.all(files.map((file) => loadCallScript(file).catch(() => null)))).filter((script): script is CallScript => script !== null);

const DEMO = JSON.parse(readFileSync(DEMO_CASELOAD_PATH, 'utf8')) as { participants: { participantId: string; ssn: string }[] };
const participantBySsn = new Map(DEMO.participants.map((p) => [p.ssn, p.participantId]));
const participantIds = new Set(DEMO.participants.map((p) => p.participantId));
const CLOCK_NEEDS = new Set(['pinned-clock', 'office-hours', 'outside-office-hours']);

/** What the line keeps about each demo participant that a later call could hear: PINs, phone, balances, payments. */
async function lineState(caseload: CaseloadStore): Promise<string> {
  const state = await Promise.all(DEMO.participants.map(async ({ participantId }) => {
    const id = participantId as ParticipantId;
    const cases = await caseload.casesOf(id);
    const payments = await Promise.all(cases.map((c) => caseload.payments(c.caseNumber)));
    return { participant: await caseload.participant(id), credentials: await caseload.credentials(id), cases, payments };
  }));
  return JSON.stringify(state);
}

/** Failed identifications the line logged (never which participant: only how many, and why). */
const failuresLogged = (logs: readonly string[], counted: boolean) =>
  logs.filter((line) => line.includes('"event":"identification-failed"') && (!counted || !line.includes('"reason":"unknown"'))).length;

/** The demo participants a script identifies as: IDs it enters, and SSNs it enters where an ID may go (not as the second half of ID + SSN). */
function participantsNamed(script: CallScript): Set<string> {
  const named = new Set<string>();
  let previous = '';
  for (const step of script.steps) {
    if (step.kind !== 'press') continue;
    const entry = step.keys.replace(/#$/, '');
    const participant = /^\d{10}$/.test(entry) ? entry : /^\d{9}$/.test(entry) && !/^\d{10}$/.test(previous) ? participantBySsn.get(entry) : undefined;
    if (participant && participantIds.has(participant)) named.add(participant);
    previous = entry;
  }
  return named;
}

/** Every reply the engine gave while the scripts played, to hold the renderer to twilio's own. */
const replies: Reply[] = [];

describe('call scripts (test/calls)', () => {
  let take: sinon.SinonSpy<Parameters<Engine['take']>, ReturnType<Engine['take']>>;
  before(() => {
    const original = Engine.prototype.take;
    take = sinon.stub(Engine.prototype, 'take').callsFake(async function (this: Engine, turn) {
      const reply = await original.call(this, turn);
      replies.push(reply);
      return reply;
    });
  });
  after(() => take.restore());

  it('has call scripts to play', () => {
    expect(files, `no *.yaml in ${scriptsDir}`).not.to.be.empty;
  });

  for (const file of files) {
    it(path.relative(scriptsDir, file), async function () {
      this.timeout(60_000);
      const script = await loadCallScript(file);
      const line = await startLocalLine(script.at ? { at: script.at } : {});
      let result: CallScriptResult;
      let before: string;
      let after: string;
      try {
        before = await lineState(line.caseload);
        result = await runCallScript(script, line);
        after = await lineState(line.caseload);
      } finally {
        await line.close();
      }
      if (!result.passed) {
        const problems = line.logs.filter((entry) => !entry.includes('"level":"info"'));
        expect.fail(`\n${formatRun(result)}${problems.length > 0 ? `\n\nthe line logged:\n${problems.join('\n')}` : ''}\n`);
      }
      // "changes: caseload" is what lets the runner and the next test keep scripts apart: it must be true.
      const changed = before !== after || failuresLogged(line.logs, true) > 0;
      expect(changed, changed
        ? 'this script changes what the line keeps (a payment, a PIN, a phone number or a counted failed identification): declare "changes: caseload"'
        : 'this script changes nothing the line keeps: leave out "changes: caseload"').to.equal(script.changes.includes('caseload'));
      if (failuresLogged(line.logs, false) > 0) {
        expect(script.from, 'its calls fail to identify: leave out "from:", so each play calls from a number of its own and no number runs out of tries').to.equal(null);
      }
    });
  }

  it('gives each script that changes the caseload participants no other script identifies as', () => {
    const users = new Map<string, string[]>();
    for (const script of scripts) {
      for (const participant of participantsNamed(script)) users.set(participant, [...(users.get(participant) ?? []), script.file]);
    }
    for (const script of scripts.filter((s) => s.changes.includes('caseload'))) {
      for (const participant of participantsNamed(script)) {
        expect(users.get(participant), `${path.basename(script.file)} changes what the line keeps about ${participant}, so no other script may identify as them`).to.deep.equal([script.file]);
      }
    }
  });
});

// A script that declares no clock need must not hang on the hour or the date: play it again at a
// clock years from its own and on the other side of office hours from now, so together with the
// test above (at the real time) both sides of office hours are tried on every run.
describe('call scripts without a clock need, at a far-off clock', () => {
  const far = representativesAvailable(new Date()) ? new Date('2031-07-05T22:00:00-07:00') : new Date('2030-03-12T10:00:00-07:00');
  for (const script of scripts.filter((s) => !s.needs.some((need) => CLOCK_NEEDS.has(need)))) {
    it(`${path.relative(scriptsDir, script.file)} at ${far.toISOString()}`, async function () {
      this.timeout(60_000);
      const line = await startLocalLine({ at: far });
      let result: CallScriptResult;
      try {
        result = await runCallScript(script, line);
      } finally {
        await line.close();
      }
      if (!result.passed) expect.fail(`\nit depends on the clock: declare what it needs (needs: pinned-clock, office-hours or outside-office-hours)\n${formatRun(result)}\n`);
    });
  }
});

describe('the rendered TwiML of every reply the call scripts reached', () => {
  it('is byte for byte what twilio\'s VoiceResponse builds', () => {
    expect(replies, 'the call scripts ran first and gave replies').not.to.be.empty;
    const urlsFor = replyUrls('https://ivr.example.test', 'equivalence-secret');
    const kinds = new Set<string>();
    for (const reply of replies) {
      const urls = urlsFor(reply.turn, reply.language, reply.pay);
      const settings = { paymentConnector: 'Connector A&B' };
      expect(renderReply(reply, urls, '+19165550100', settings)).to.equal(renderReference(reply, urls, '+19165550100', settings));
      kinds.add('input' in reply.next ? reply.next.input : reply.next.end);
    }
    // The scripts reach every kind of reply: menus, entries, transfers, <Pay>, and endings.
    expect([...kinds].sort()).to.deep.equal(['dial', 'digits', 'hangup', 'menu', 'pay']);
  });
});

describe('the call script format', () => {
  const parse = (source: string) => parseCallScript(source, 'test/calls/example.yaml');
  const problem = (source: string): string => {
    try {
      parse(source);
    } catch (error) {
      if (error instanceof CallScriptError) return error.message;
      throw error;
    }
    throw new Error('the script was accepted');
  };

  it('reads every step kind, keeps keys and numbers as written, and takes expect as text or a list', () => {
    const script = parse(`
name: Caller checks a balance
at: 2026-11-24T10:00:00-08:00
from: +19165550143
steps:
  - expect: Thank you for calling
  - press: "0123 #"
  - expect: [one, "two"]
  - expect-not: three
  - silence
  - say: balance please
  - retry
  - hangup
  - expect-ended
`);
    expect(script.name).to.equal('Caller checks a balance');
    expect(script.at?.toISOString()).to.equal('2026-11-24T18:00:00.000Z');
    expect(script.from).to.equal('+19165550143');
    expect(script.steps.map((step) => step.kind)).to.deep.equal(['expect', 'press', 'expect', 'expect-not', 'silence', 'say', 'retry', 'hangup', 'expect-ended']);
    expect(script.steps[1]).to.deep.include({ keys: '0123#', line: 7 });
    expect(script.steps[2]).to.deep.include({ texts: ['one', 'two'] });
    expect(script.steps[5]).to.deep.include({ words: 'balance please' });
  });

  it('names the file, line and step of an unknown step kind, with a suggestion', () => {
    expect(problem('steps:\n  - expect: hi\n  - pres: "1"\n')).to.equal(
      'test/calls/example.yaml:3: step 2: unknown step kind "pres" (did you mean "press"?); known kinds: expect, expect-not, press, say, pay, silence, retry, retry-pay, hangup, expect-ended, redial',
    );
  });

  it('reads pay as a card number alone or as a map of card details', () => {
    const script = parse(`
steps:
  - pay: "4242 4242 4242 4242"
  - pay: 4000000000000002
  - pay: { card: "378282246310005", expiry: "0130", security-code: "1234", postal-code: "90012" }
  - pay:
      card: "5555555555554444"
      postal-code: "95814"
  - press: "*"
  - retry-pay
`);
    expect(script.steps.map((step) => step.kind)).to.deep.equal(['pay', 'pay', 'pay', 'pay', 'press', 'retry-pay']);
    expect(script.steps[0]).to.deep.equal({ kind: 'pay', card: '4242424242424242', line: 3 });
    expect(script.steps[1]).to.deep.include({ card: '4000000000000002' });
    expect(script.steps[2]).to.deep.include({ card: '378282246310005', expiry: '0130', securityCode: '1234', postalCode: '90012' });
    expect(script.steps[3]).to.deep.equal({ kind: 'pay', card: '5555555555554444', postalCode: '95814', line: 6 });
  });

  for (const [what, source, message] of [
    ['a pay without a card', 'steps:\n  - pay:\n', /step 1: pay needs a value \(a card number/],
    ['a card number with letters', 'steps:\n  - pay: 4242-abcd\n', /step 1: pay card must be digits; got "4242abcd"/],
    ['a pay map without a card', 'steps:\n  - pay: { expiry: "1230" }\n', /step 1: pay needs a card/],
    ['an unknown pay detail', 'steps:\n  - pay: { card: "4242424242424242", security_code: "123" }\n', /step 1: pay has no "security_code" \(did you mean "security-code"\?\); it takes card, expiry, security-code, postal-code/],
    ['a value on retry-pay', 'steps:\n  - retry-pay: now\n', /step 1: retry-pay takes no value/],
    ['an unquoted star', 'steps:\n  - press: *\n', /quote keys that start with \* or #/],
    ['a # that YAML would read as a comment', 'steps:\n  - press: 1234 #\n', /step 1: " #" starts a YAML comment/],
    ['keys that are not on a keypad', 'steps:\n  - press: 12a\n', /step 1: press takes phone keys 0-9, \* and #/],
    ['a press without keys', 'steps:\n  - press:\n', /step 1: press needs a value/],
    ['a value on silence', 'steps:\n  - silence: please\n', /step 1: silence takes no value/],
    ['two kinds in one step', 'steps:\n  - press: "1"\n    expect: hi\n', /step 1 has several kinds \(press, expect\)/],
    ['an empty expect', 'steps:\n  - expect: ""\n', /step 1: expect needs a value/],
    ['a time without an offset', 'at: 2026-11-24T10:00:00\nsteps:\n  - silence\n', /at must be a date and time with its offset/],
    ['a date that does not exist', 'at: 2026-02-30T10:00:00-08:00\nsteps:\n  - silence\n', /at must be/],
    ['a caller number not in E.164', 'from: 916-555-0143\nsteps:\n  - silence\n', /from must be a phone number in E\.164/],
    ['an unknown setting', 'nmae: x\nsteps:\n  - silence\n', /unknown setting "nmae" \(did you mean "name"\?\)/],
    ['no steps', 'name: x\n', /steps must be a list with at least one step/],
    ['a list at the top', '- silence\n', /a call script is a mapping/],
  ] as const) {
    it(`refuses ${what}`, () => {
      expect(problem(source)).to.match(message);
    });
  }

  it('reads needs and changes as one word or a list, and at is optional', () => {
    const plain = parse('steps:\n  - silence\n');
    expect(plain).to.deep.include({ at: null, needs: [], changes: [] });
    const office = parse('at: 2026-11-24T10:00:00-08:00\nneeds: office-hours\nchanges: caseload\nsteps:\n  - silence\n');
    expect(office).to.deep.include({ needs: ['office-hours'], changes: ['caseload'] });
    const both = parse('at: 2026-11-26T10:00:00-08:00\nneeds: [pinned-clock, fresh-caseload]\nsteps:\n  - silence\n');
    expect(both.needs).to.deep.equal(['pinned-clock', 'fresh-caseload']);
  });

  for (const [what, source, message] of [
    ['an unknown need, with a suggestion', 'needs: pinned-clok\nsteps:\n  - silence\n', /needs has no "pinned-clok" \(did you mean "pinned-clock"\?\); it takes pinned-clock, office-hours, outside-office-hours, fresh-caseload/],
    ['an unknown change', 'changes: payments\nsteps:\n  - silence\n', /changes has no "payments"; it takes caseload/],
    ['a need named twice', 'needs: [fresh-caseload, fresh-caseload]\nsteps:\n  - silence\n', /needs names "fresh-caseload" twice/],
    ['a clock need without at', 'needs: pinned-clock\nsteps:\n  - silence\n', /example.yaml:1: needs: pinned-clock goes with "at:"/],
    ['office-hours at a time outside them', 'at: 2026-11-26T10:00:00-08:00\nneeds: office-hours\nsteps:\n  - silence\n', /needs: office-hours, but at: 2026-11-26T10:00:00-08:00 is outside office hours/],
    ['outside-office-hours at a time in them', 'at: 2026-11-24T10:00:00-08:00\nneeds: outside-office-hours\nsteps:\n  - silence\n', /is in office hours/],
    ['two clock needs', 'at: 2026-11-24T21:00:00-08:00\nneeds: [pinned-clock, outside-office-hours]\nsteps:\n  - silence\n', /needs names pinned-clock and outside-office-hours: give one/],
  ] as const) {
    it(`refuses ${what}`, () => {
      expect(problem(source)).to.match(message);
    });
  }

  it('finds scripts in directories and takes files as given', async () => {
    const found = await findCallScripts([scriptsDir, path.join(scriptsDir, 'en-office-hours.yaml')]);
    expect(found).to.include(path.join(scriptsDir, 'en-office-hours.yaml'));
    expect(new Set(found).size).to.equal(found.length);
  });
});

describe('which scripts a line can play faithfully', () => {
  const script = (source: string) => parseCallScript(source, 'test/calls/example.yaml');
  const running = (now: string, readOnly = false): LineConditions => ({ clockPinned: false, freshCaseload: false, now: new Date(now), readOnly });
  const TUESDAY_MORNING = '2026-12-01T10:00:00-08:00';
  const TUESDAY_EVENING = '2026-12-01T21:00:00-08:00';

  it('plays everything on a fresh in-process line', () => {
    const fresh: LineConditions = { clockPinned: true, freshCaseload: true, now: new Date(TUESDAY_EVENING), readOnly: false };
    expect(whySkip(script('at: 2026-11-24T10:00:00-08:00\nneeds: [office-hours, fresh-caseload]\nsteps:\n  - silence\n'), fresh)).to.equal(null);
  });

  it('skips a pinned clock and a fresh caseload on a running line, saying why', () => {
    expect(whySkip(script('at: 2026-11-26T10:00:00-08:00\nneeds: pinned-clock\nsteps:\n  - silence\n'), running(TUESDAY_MORNING))).to.deep.equal({
      because: 'pinned-clock', why: "it needs the line's clock at 2026-11-26T10:00:00-08:00 (needs: pinned-clock), and a running line keeps its own clock",
    });
    expect(whySkip(script('needs: fresh-caseload\nsteps:\n  - silence\n'), running(TUESDAY_MORNING))?.because).to.equal('fresh-caseload');
    expect(whySkip(script('at: 2026-11-26T10:00:00-08:00\nneeds: pinned-clock\nsteps:\n  - silence\n'), { ...running(TUESDAY_MORNING), clockPinned: true })).to.equal(null);
  });

  it('plays an office-hours script only while representatives answer, and not within minutes of the change', () => {
    const open = script('at: 2026-11-24T10:00:00-08:00\nneeds: office-hours\nsteps:\n  - silence\n');
    const closed = script('at: 2026-11-24T21:00:00-08:00\nneeds: outside-office-hours\nsteps:\n  - silence\n');
    expect(whySkip(open, running(TUESDAY_MORNING))).to.equal(null);
    expect(whySkip(closed, running(TUESDAY_MORNING))?.why).to.equal(
      "it needs the line's clock outside office hours (needs: outside-office-hours), and it is Tuesday, December 1, 10:00 AM Pacific",
    );
    expect(whySkip(open, running('2026-11-26T10:00:00-08:00'))?.why).to.match(/and it is Thursday, November 26, 10:00 AM Pacific, Thanksgiving Day$/);
    expect(whySkip(closed, running(TUESDAY_EVENING))).to.equal(null);
    expect(whySkip(open, running('2026-12-01T19:59:00-08:00'))?.why).to.match(/office hours end within 2 minutes/);
    expect(whySkip(closed, running('2026-12-01T06:59:00-08:00'))?.why).to.match(/office hours begin within 2 minutes/);
  });

  it('leaves out scripts that change the caseload when asked to', () => {
    const changing = script('changes: caseload\nsteps:\n  - silence\n');
    expect(whySkip(changing, running(TUESDAY_MORNING))).to.equal(null);
    expect(whySkip(changing, running(TUESDAY_MORNING, true))?.because).to.equal('changes');
  });
});

describe('playing a call script', () => {
  const TOKEN = 'runner-test-token';
  let server: Server;
  let baseUrl: string;
  type Answer = { status: number; body: string };
  let answers: Record<string, Answer | (() => Answer)>;
  let statusCalls = 0;
  let callersSeen: string[] = [];

  const twiml = (inner: string) => ({ status: 200, body: `<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>` });

  before(async () => {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.post('/{*path}', (req, res) => {
      if (req.path === '/voice/status') statusCalls++;
      if (req.path === '/voice') callersSeen.push(String((req.body as Record<string, unknown>).From));
      const found = answers[req.path] ?? { status: 404, body: 'not found' };
      const answer = typeof found === 'function' ? found() : found;
      res.status(answer.status).type('text/xml').send(answer.body);
    });
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  });
  beforeEach(() => {
    statusCalls = 0;
    callersSeen = [];
    answers = {
      '/voice': twiml('<Gather action="/voice/menu" numDigits="1"><Say>Main menu. For hours, press 5.</Say></Gather><Say>Goodbye.</Say>'),
      '/voice/menu': twiml('<Say>We are open 24 hours.</Say><Hangup/>'),
      '/voice/status': twiml(''),
    };
  });

  const play = (source: string) => runCallScript(parseCallScript(source, 'inline.yaml'), { baseUrl, authToken: TOKEN });

  it('passes when every expectation holds, ignoring case and spacing, and hangs up at the end', async () => {
    const result = await play('steps:\n  - expect: "MAIN   menu"\n  - expect-not: goodbye\n');
    expect(result.passed, formatRun(result)).to.equal(true);
    expect(statusCalls).to.equal(1);
    expect(result.events.at(-2)).to.deep.equal({ kind: 'caller', text: '(hangs up)' });
  });

  it('calls from the script\'s number; without one, from a made-up number kept for the redial', async () => {
    expect((await play('from: "+15305550121"\nsteps:\n  - redial\n')).passed).to.equal(true);
    expect((await play('steps:\n  - redial\n')).passed).to.equal(true);
    expect(callersSeen.slice(0, 2)).to.deep.equal(['+15305550121', '+15305550121']);
    expect(callersSeen[2]).to.match(/^\+1\d{3}55501\d{2}$/);
    expect(callersSeen[3]).to.equal(callersSeen[2]);
  });

  it('plays a folder against a running line: skips what it cannot play faithfully, says why, and counts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'callscripts-'));
    try {
      await writeFile(path.join(dir, 'a-menu.yaml'), 'from: "+12135550188"\nsteps:\n  - expect: main menu\n');
      await writeFile(path.join(dir, 'b-holiday.yaml'), 'at: 2026-11-26T10:00:00-08:00\nneeds: pinned-clock\nsteps:\n  - expect: main menu\n');
      await writeFile(path.join(dir, 'c-wrong.yaml'), 'steps:\n  - expect: closed on Sundays\n');
      const printed: string[] = [];
      const summary = await playCallScripts({ paths: [dir], running: { baseUrl, authToken: TOKEN }, out: (text) => printed.push(text), quiet: true });
      expect(summary).to.deep.include({ total: 3, passed: [`a-menu (${path.join(dir, 'a-menu.yaml')})`] });
      expect(summary.failed).to.have.length(1);
      expect(summary.skipped.map((skip) => skip.reason.because)).to.deep.equal(['pinned-clock']);
      expect(callersSeen[0]).to.equal('+12135550188');
      const text = printed.join('\n');
      expect(text).to.include(`○ SKIP b-holiday (${path.join(dir, 'b-holiday.yaml')}): it needs the line's clock at 2026-11-26T10:00:00-08:00 (needs: pinned-clock)`);
      expect(text).to.include('the line did not say what was expected');
      expect(printed.at(-1)).to.equal('1 passed, 1 failed, 1 skipped');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says when the simulated representative answers a <Dial> and hangs up', async () => {
    answers['/voice/menu'] = twiml('<Say>Connecting you.</Say><Dial>+19165550199</Dial>');
    const result = await play('steps:\n  - press: "5"\n  - expect: transferring to +19165550199\n  - expect-ended\n');
    expect(result.passed, formatRun(result)).to.equal(true);
    const texts = result.events.map((event) => event.text);
    const transfer = texts.indexOf('[transferring to +19165550199]');
    expect(texts.slice(transfer, transfer + 3)).to.deep.equal(['[transferring to +19165550199]', '[a representative answers]', '[the representative hangs up]']);
    expect(result.events[transfer + 1]?.kind).to.equal('system');
  });

  it('reports the failing step with what was expected and what was heard, and stops there', async () => {
    const result = await play('steps:\n  - press: "5"\n  - expect: closed on Sundays\n  - press: "1"\n');
    expect(result.passed).to.equal(false);
    expect(result.failure).to.deep.equal({
      step: 2,
      message: 'the line did not say what was expected',
      expected: '"closed on Sundays"',
      heard: 'We are open 24 hours.',
    });
    expect(formatRun(result)).to.include('✗ step 2 (expect, line 3): the line did not say what was expected');
  });

  it('only checks what was said since the last input', async () => {
    const result = await play('steps:\n  - press: "5"\n  - expect: main menu\n');
    expect(result.failure?.step).to.equal(2);
  });

  it('fails a script whose line answered with an application error, even with no expectation left', async () => {
    answers['/voice/menu'] = { status: 500, body: 'boom' };
    const result = await play('steps:\n  - press: "5"\n');
    expect(result.passed).to.equal(false);
    expect(result.failure?.step).to.equal(1);
    expect(result.failure?.message).to.match(/application error.*HTTP 500/);
  });

  it('fails when the status callback fails', async () => {
    answers['/voice/status'] = { status: 500, body: 'boom' };
    const result = await play('steps:\n  - expect: main menu\n');
    expect(result.failure?.message).to.match(/the status callback failed: HTTP 500/);
  });

  it('checks that the line, not the caller, ended the call', async () => {
    expect((await play('steps:\n  - press: "5"\n  - expect-ended\n')).passed).to.equal(true);
    expect((await play('steps:\n  - hangup\n  - expect-ended\n')).failure?.message).to.match(/the caller hung up/);
    expect((await play('steps:\n  - expect-ended\n')).failure?.message).to.match(/still waiting/);
  });

  it('fails a step that acts on a call that has ended', async () => {
    const result = await play('steps:\n  - press: "5"\n  - press: "1"\n');
    expect(result.failure).to.deep.include({ step: 2, message: 'cannot press keys: the call has ended' });
  });

  describe('at a <Pay>', () => {
    const pay = twiml(
      '<Pay action="/voice/paid?turn=3&amp;lang=en" statusCallback="/voice/pay-status" maxAttempts="2" chargeAmount="45.00" language="en-US">' +
        '<Prompt for="payment-card-number"><Say>Enter your card number.</Say></Prompt>' +
        '<Prompt for="payment-card-number" errorType="invalid-card-number"><Say>That card number is not valid.</Say></Prompt>' +
        '<Prompt for="payment-processing"><Say>One moment.</Say></Prompt>' +
      '</Pay>',
    );
    let paid: string[];
    beforeEach(() => {
      paid = [];
      answers['/voice/menu'] = pay;
      answers['/voice/pay-status'] = { status: 204, body: '' };
      answers['/voice/paid'] = () => {
        paid.push('paid');
        return twiml(`<Say>Payment result ${paid.length}.</Say><Gather action="/voice/menu" numDigits="1"><Say>To pay again, press 5.</Say></Gather>`);
      };
    });

    it('answers the card prompts with pay, and press works at them too', async () => {
      const result = await play(`steps:
  - press: "5"
  - expect: Enter your card number.
  - press: "4242424242424241#"
  - expect: That card number is not valid.
  - pay: "4242424242424242"
  - expect: [One moment., Payment result 1.]
  - press: "5"
  - pay: { card: "378282246310005", expiry: "1230", security-code: "1234", postal-code: "90012" }
  - expect: Payment result 2.
  - press: "5"
  - press: "*"
  - expect: Payment result 3.
`);
      expect(result.passed, formatRun(result)).to.equal(true);
      expect(formatRun(result)).to.include('Twilio <Pay>: Result=caller-interrupted-with-star');
    });

    it('fails retry-pay when the retried <Pay> result gets a different answer', async () => {
      const result = await play('steps:\n  - press: "5"\n  - pay: "4242424242424242"\n  - press: "1"\n  - retry-pay\n');
      expect(result.failure?.step).to.equal(4);
      expect(result.failure?.message).to.match(/retry of the <Pay> result \(POST .*\/voice\/paid\?turn=3&lang=en, same idempotency token\) got a different answer/);
    });

    it('fails the script when a <Pay> status callback is answered with an error', async () => {
      answers['/voice/pay-status'] = { status: 500, body: 'boom' };
      const result = await play('steps:\n  - press: "5"\n  - expect: Enter your card number.\n');
      expect(result.failure?.message).to.match(/a <Pay> status callback failed: HTTP 500/);
    });

    it('fails pay where the line is not running <Pay>', async () => {
      const result = await play('steps:\n  - pay: "4242424242424242"\n');
      expect(result.failure).to.deep.include({ step: 1, message: 'cannot pay: the line is waiting at a <Gather>, not running <Pay>' });
    });
  });

  it('fails a retry that gets a different answer', async () => {
    let count = 0;
    answers['/voice'] = twiml('<Gather action="/voice/count" numDigits="1"/>');
    answers['/voice/count'] = () => twiml(`<Say>answer ${++count}</Say><Gather action="/voice/count" numDigits="1"/>`);
    const result = await play('steps:\n  - press: "1"\n  - retry\n');
    expect(result.failure?.step).to.equal(2);
    expect(result.failure?.message).to.match(/retry of POST .*\/voice\/count.*got a different answer/);
  });
});
