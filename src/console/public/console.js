// The browser phone's page: its buttons post to the console's API (console-routes.ts); what the
// line says and where the caller is arrive on the call's event feed (Server-Sent Events).
// Plain JavaScript, served as it is: no build step.

const $ = (id) => document.getElementById(id);
const api = (path) => new URL(`console/api/${path}`, location.href);

const callButton = $('call');
const hangupButton = $('hangup');
const silenceButton = $('silence');
const speechForm = $('speech-form');
const speechInput = $('speech');
const sayButton = $('say');
const keys = [...document.querySelectorAll('.keypad [data-key]')];
const phoneStatus = $('phone-status');
const phoneError = $('phone-error');
const transcript = $('transcript');
const where = $('where');
const mapFrame = $('map-frame');
const clockNow = $('clock-now');
const office = $('office');
const clockForm = $('clock-form');
const clockInput = $('clock-at');
const clockReal = $('clock-real');
const clockMessage = $('clock-message');
const scriptFileForm = $('script-file-form');
const scriptFile = $('script-file');
const scriptYamlForm = $('script-yaml-form');
const scriptYaml = $('script-yaml');
const scriptResult = $('script-result');

const LANGUAGES = { en: 'English', es: 'Spanish' };
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

let call = null; // { id, feed: EventSource }
let queue = Promise.resolve();
let highlighted = null;

async function request(method, path, body) {
  const response = await fetch(api(path), {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: `The line answered HTTP ${response.status}.` }));
  return { ok: response.ok, status: response.status, answer };
}

/** Phone actions go one after another, in the order they were pressed. */
function act(path, body) {
  queue = queue.then(async () => {
    if (!call) return;
    const { ok, answer } = await request('POST', `calls/${call.id}/${path}`, body ?? {});
    showError(ok ? '' : answer.error);
  }).catch((error) => showError(`The line did not answer: ${error.message}`));
  return queue;
}

function showError(message) {
  phoneError.textContent = message || '';
}

function setInCall(inCall) {
  callButton.disabled = inCall;
  for (const control of [hangupButton, silenceButton, speechInput, sayButton, ...keys]) control.disabled = !inCall;
}

// ---- the transcript -------------------------------------------------------------------------

function addLine(who, text, language) {
  const line = document.createElement('p');
  line.className = `said said-${who}`;
  const speaker = document.createElement('span');
  speaker.className = 'speaker';
  const tongue = language ? LANGUAGES[language.slice(0, 2)] : null;
  speaker.textContent = who === 'line' ? `Line${tongue ? ` (${tongue})` : ''}: ` : who === 'caller' ? 'Caller: ' : 'Twilio: ';
  const words = document.createElement('span');
  words.textContent = text;
  if (language) words.lang = language;
  line.append(speaker, words);
  transcript.append(line);
  transcript.scrollTop = transcript.scrollHeight;
}

// ---- the menu map ---------------------------------------------------------------------------

function highlight(state) {
  const node = state ? document.getElementById(`state-${state}`) : null;
  if (node === highlighted) return;
  highlighted?.classList.remove('current');
  highlighted?.removeAttribute('aria-current');
  highlighted = node;
  if (!node) return;
  node.classList.add('current');
  node.setAttribute('aria-current', 'step');
  const box = node.getBoundingClientRect();
  const frame = mapFrame.getBoundingClientRect();
  mapFrame.scrollBy({
    left: box.left - frame.left - (frame.width - box.width) / 2,
    top: box.top - frame.top - (frame.height - box.height) / 2,
    behavior: reducedMotion.matches ? 'auto' : 'smooth',
  });
}

function titleOf(state) {
  const node = document.getElementById(`state-${state}`);
  const title = node ? [...node.querySelectorAll('text.en')].map((line) => line.textContent).join(' ') : '';
  return title ? `${state} (${title})` : state;
}

// ---- a call ---------------------------------------------------------------------------------

function showStatus(status) {
  if (status.state) {
    highlight(status.state);
    where.textContent = `Where the caller is: ${titleOf(status.state)}${status.ended ? ', when the call ended' : ''}.`;
  }
  if (status.ended) {
    phoneStatus.textContent = 'The call has ended. Press Call to call again.';
    endCall();
    return;
  }
  const waiting = status.waiting ? `${status.waiting}.` : 'The line is not waiting for the caller.';
  const typed = status.typed ? ` Keys typed so far: ${status.typed} (they go at # or after a pause; Silence sends them now).` : '';
  phoneStatus.textContent = waiting + typed;
}

function endCall() {
  if (!call) return;
  call.feed.close();
  call = null;
  const hadFocus = [hangupButton, silenceButton, speechInput, sayButton, ...keys].includes(document.activeElement);
  setInCall(false);
  if (hadFocus) callButton.focus();
}

async function startCall() {
  showError('');
  callButton.disabled = true;
  if (transcript.childElementCount > 0) {
    const separator = document.createElement('p');
    separator.className = 'said said-separator';
    separator.textContent = 'A new call';
    transcript.append(separator);
  }
  const { ok, answer } = await request('POST', 'calls', {}).catch((error) => ({ ok: false, answer: { error: error.message } }));
  if (!ok) {
    showError(answer.error);
    callButton.disabled = false;
    return;
  }
  const feed = new EventSource(api(`calls/${answer.id}/events`));
  call = { id: answer.id, feed };
  setInCall(true);
  feed.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === 'entry') addLine(event.who, event.text, event.language);
    else if (event.kind === 'status') showStatus(event);
  };
  if (document.activeElement === document.body || document.activeElement === callButton) keys[0].focus();
}

callButton.addEventListener('click', () => void startCall());
hangupButton.addEventListener('click', () => void act('hangup'));
silenceButton.addEventListener('click', () => void act('silence'));
for (const key of keys) key.addEventListener('click', () => void act('keys', { keys: key.dataset.key }));
speechForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const words = speechInput.value.trim();
  if (words === '') return;
  speechInput.value = '';
  void act('speech', { words });
});
// Keys typed on the keyboard while the phone has focus press the keypad's keys.
$('phone-heading').parentElement.addEventListener('keydown', (event) => {
  if (event.target instanceof HTMLInputElement || event.ctrlKey || event.metaKey || event.altKey) return;
  const key = keys.find((button) => button.dataset.key === event.key);
  if (key && !key.disabled) {
    event.preventDefault();
    key.click();
  }
});

// ---- the line's clock -----------------------------------------------------------------------

function showClock(clock) {
  clockNow.textContent = `${clock.shown}${clock.isSet ? ' (set here)' : ''}`;
  office.textContent = clock.officeOpen
    ? 'Representatives are available: a caller who asks is transferred.'
    : `Representatives are not available${clock.holiday ? ` (${clock.holiday})` : ''}: a caller who asks hears the office hours.`;
  if (!clockInput.matches(':focus')) clockInput.value = clock.input;
  for (const control of [clockInput, $('clock-set'), clockReal]) control.disabled = !clock.settable;
  if (!clock.settable) clockMessage.textContent = 'This line runs on the real clock: start the browser phone with npm run console to set it.';
}

async function refreshClock() {
  const { ok, answer } = await request('GET', 'clock').catch(() => ({ ok: false }));
  if (ok) showClock(answer);
}

async function setClock(at) {
  const { ok, answer } = await request('PUT', 'clock', { at });
  if (answer.clock ?? ok) showClock(ok ? answer : answer.clock);
  clockMessage.textContent = ok ? (at === null ? 'The line is back on real time.' : `The line's clock now reads ${answer.shown}.`) : answer.error;
}

clockForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void setClock(clockInput.value);
});
clockReal.addEventListener('click', () => void setClock(null));

// ---- call scripts ---------------------------------------------------------------------------

function resultLine(text, className) {
  const line = document.createElement('p');
  line.className = className;
  line.textContent = text;
  scriptResult.append(line);
  return line;
}

function showRun(answer) {
  scriptResult.replaceChildren();
  for (const note of answer.notes) resultLine(note, 'said said-system');
  for (const event of answer.events) {
    if (event.kind === 'pass') resultLine(`✓ step ${event.step}: ${event.text}`, 'outcome-pass');
    else if (event.kind === 'fail') {
      resultLine(`✗ ${event.step === null ? '' : `step ${event.step}: `}${event.text}`, 'outcome-fail');
      if (event.expected !== undefined) resultLine(`expected: ${event.expected}`, 'outcome-detail');
      if (event.heard !== undefined) resultLine(`heard: ${event.heard}`, 'outcome-detail');
    } else resultLine(`${event.kind === 'line' ? 'Line' : event.kind === 'caller' ? 'Caller' : 'Twilio'}: ${event.text}`, `said said-${event.kind}`);
  }
  resultLine(`${answer.passed ? 'PASS' : 'FAIL'} ${answer.name}`, `verdict ${answer.passed ? 'outcome-pass' : 'outcome-fail'}`);
}

async function runScript(body, button) {
  button.disabled = true;
  scriptResult.replaceChildren();
  resultLine('Running…', 'said said-system');
  try {
    const { ok, answer } = await request('POST', 'scripts/run', body);
    if (ok) showRun(answer);
    else {
      scriptResult.replaceChildren();
      resultLine(answer.error, 'outcome-fail');
    }
  } catch (error) {
    scriptResult.replaceChildren();
    resultLine(`The line did not answer: ${error.message}`, 'outcome-fail');
  } finally {
    button.disabled = false;
    void refreshClock();
  }
}

scriptFileForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void runScript({ file: scriptFile.value }, $('script-run'));
});
scriptYamlForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void runScript({ yaml: scriptYaml.value }, $('script-run-yaml'));
});

async function listScripts() {
  const { ok, answer } = await request('GET', 'scripts').catch(() => ({ ok: false }));
  if (!ok) return;
  scriptFile.replaceChildren(...answer.scripts.map((file) => new Option(file, file)));
  if (answer.scripts.length === 0) scriptFile.append(new Option('(no scripts shipped with this line)', ''));
}

setInCall(false);
void refreshClock();
void listScripts();
setInterval(() => void refreshClock(), 20_000);
