// The browser phone's page: plain HTML, with the menu map drawn in it as the SVG of docs/menus.svg,
// so the page can light up the box of the caller's state (its id is "state-" + the state name).
// Its look and behaviour are console.css and console.js beside it; it loads nothing else.
import { createHash } from 'node:crypto';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

export type ConsolePage = { html: string; contentSecurityPolicy: string };

// The map's SVG carries its own <style>; inline, its rules apply to the whole page, so the page
// avoids the map's class names (edge, heading, legend, id, en, es, keys, way, on, when).
export function consolePage(options: { mapSvg: string; production: boolean }): ConsolePage {
  const mapStyle = /<style>([\s\S]*?)<\/style>/.exec(options.mapSvg)?.[1];
  const styleSources = ["'self'", ...(mapStyle === undefined ? [] : [`'sha256-${createHash('sha256').update(mapStyle).digest('base64')}'`])];
  const contentSecurityPolicy = [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${styleSources.join(' ')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const keypad = KEYS.map((key) => `      <button type="button" class="key" data-key="${key}" disabled>${key}</button>`).join('\n');
  const production = options.production
    ? `\n  <p class="warning">This is the <strong>production</strong> line: calls from this page reach its real store and caseload. Card details are never entered from here.</p>`
    : '';
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Browser phone: Customer Connect</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="console/console.css">
<script type="module" src="console/console.js"></script>
</head>
<body>
<header class="masthead">
  <h1>Customer Connect: browser phone</h1>
  <p>Calls this line from a simulated phone that plays Twilio's part: signed webhooks, and the line's answers followed as Twilio follows them.</p>${production}
</header>
<main>
  <section class="phone" aria-labelledby="phone-heading">
    <h2 id="phone-heading">Phone</h2>
    <div class="call-buttons">
      <button type="button" id="call" class="call">Call</button>
      <button type="button" id="hangup" class="hangup" disabled>Hang up</button>
    </div>
    <div class="keypad" role="group" aria-label="Keypad">
${keypad}
    </div>
    <button type="button" id="silence" class="silence" disabled>Silence</button>
    <form id="speech-form" class="speech">
      <label for="speech">What the caller says</label>
      <div class="inline">
        <input id="speech" name="speech" type="text" autocomplete="off" disabled>
        <button type="submit" id="say" disabled>Say</button>
      </div>
    </form>
    <p id="phone-status" class="status" role="status">No call. Press Call to call the line.</p>
    <p id="phone-error" class="error" role="alert"></p>
  </section>

  <section class="clock" aria-labelledby="clock-heading">
    <h2 id="clock-heading">Line clock</h2>
    <p>The line's time: <output id="clock-now" for="clock-at">…</output></p>
    <p id="office"></p>
    <form id="clock-form">
      <label for="clock-at">Set the line's clock (Pacific time)</label>
      <div class="inline">
        <input id="clock-at" name="at" type="datetime-local" step="60" required>
        <button type="submit" id="clock-set">Set clock</button>
        <button type="button" id="clock-real">Real time</button>
      </div>
    </form>
    <p id="clock-message" class="status" role="status"></p>
  </section>

  <section class="transcript" aria-labelledby="transcript-heading">
    <h2 id="transcript-heading">Transcript</h2>
    <div id="transcript" class="log" role="log" aria-labelledby="transcript-heading" tabindex="0"></div>
  </section>

  <section class="map" aria-labelledby="map-heading">
    <h2 id="map-heading">Menu map</h2>
    <p id="where" class="status" role="status">Where the caller is: no call yet.</p>
    <div id="map-frame" class="map-frame" role="region" aria-label="Menu map (scrolls)" tabindex="0">
${options.mapSvg.trim()}
    </div>
  </section>

  <section class="scripts" aria-labelledby="scripts-heading">
    <h2 id="scripts-heading">Call scripts</h2>
    <p>Plays a call script (format: test/calls/README.md) on this line, with the line's clock at the script's <code>at:</code> while it runs.</p>
    <form id="script-file-form">
      <label for="script-file">Shipped script</label>
      <div class="inline">
        <select id="script-file" name="file"></select>
        <button type="submit" id="script-run">Run script</button>
      </div>
    </form>
    <form id="script-yaml-form">
      <label for="script-yaml">Or paste a script (YAML)</label>
      <textarea id="script-yaml" name="yaml" rows="10" spellcheck="false"></textarea>
      <button type="submit" id="script-run-yaml">Run pasted script</button>
    </form>
    <h3 id="script-result-heading">Script results</h3>
    <div id="script-result" class="log" role="log" aria-labelledby="script-result-heading" tabindex="0"></div>
  </section>
</main>
</body>
</html>
`;
  return { html, contentSecurityPolicy };
}
