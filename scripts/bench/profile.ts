// npx tsx scripts/bench/profile.ts PROFILE.cpuprofile [--top N] [--webhooks N]
// Summarises a V8 CPU profile written by `npm run bench -- --profile DIR`: where the server's
// time went — for whom (the innermost library or source file on each sample's stack), by package
// or source file (self time), and by function (self time). --webhooks N adds µs per webhook.
// --within TEXT limits the by-function list to samples spent for an owner whose name contains TEXT.
// --callers NAME shows the stacks (innermost frames first, --depth deep) a function's self time came from.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

type Frame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: Frame; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

/**
 * Who the time was spent for: each sample goes to the innermost frame on its stack that belongs
 * to a library or to our own source (so a socket write ioredis asked for counts as Redis, the
 * HTTP response written by res.send counts as Express), else to Node core or V8.
 */
const OWNERS: Array<{ name: string; match: RegExp }> = [
  { name: 'Redis client (ioredis + src/store/redis.ts)', match: /node_modules\/(ioredis|@ioredis|redis-parser|denque|cluster-key-slot|standard-as-callback)\/|\/src\/store\// },
  { name: 'XState (createActor, start, send, snapshots)', match: /node_modules\/xstate\// },
  { name: 'TwiML rendering (twilio.twiml, xmlbuilder, twiml.ts, prompts)', match: /node_modules\/(xmlbuilder|twilio\/lib\/twiml)\/|\/src\/telephony\/twiml\.ts|\/prompts\// },
  { name: 'signature check (twilio webhooks, signature.ts)', match: /node_modules\/twilio\/lib\/webhooks\/|\/src\/telephony\/signature\.ts/ },
  { name: 'engine + menus (engine.ts, flows/)', match: /\/src\/engine\/|\/flows\/|\/src\/domain\// },
  { name: 'routes.ts', match: /\/src\/telephony\/routes\.ts/ },
  { name: 'Express 5 (express, router, body-parser, qs, …)', match: /node_modules\/(express|router|body-parser|qs|raw-body|type-is|finalhandler|send|content-type|content-disposition|iconv-lite|parseurl|on-finished|etag|fresh|media-typer|mime-types|mime-db|debug|depd|http-errors|statuses|accepts|negotiator|vary|proxy-addr|encodeurl|escape-html|cookie|range-parser|unpipe|ee-first|side-channel.*|call-bound|get-intrinsic|es-.*|object-inspect|math-intrinsics)\// },
  { name: 'bench wrapper (scripts/bench/)', match: /\/scripts\/bench\// },
  { name: 'other packages', match: /node_modules\// },
];

function ownerOf(chain: Frame[]): string {
  const leaf = chain[0];
  if (leaf && leaf.url === '' && leaf.functionName.startsWith('(') && leaf.functionName !== '(anonymous)') return leaf.functionName;
  for (const frame of chain) {
    if (!frame.url || frame.url.startsWith('node:')) continue;
    for (const owner of OWNERS) if (owner.match.test(frame.url)) return owner.name;
    return `other: ${where(frame)}`;
  }
  return 'Node core only on the stack (HTTP parser, socket reads, timers, microtasks)';
}

/** The checkout's root, so our own files show as src/..., flows/... */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function where(frame: Frame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  if (url.startsWith('node:')) return url;
  const path = url.replace(/^file:\/\//, '');
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : url;
}

process.stdout.on('error', () => process.exit(0));

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, webhooks: { type: 'string' }, callers: { type: 'string' }, within: { type: 'string' }, depth: { type: 'string' } } });
  if (positionals.length === 0) {
    process.stderr.write('Usage: npx tsx scripts/bench/profile.ts PROFILE.cpuprofile... [--top N] [--webhooks N] [--within TEXT] [--callers NAME [--depth N]]\n');
    process.exitCode = 2;
    return;
  }
  const top = Number(values.top ?? 25);
  const webhooks = values.webhooks ? Number(values.webhooks) : null;
  const depth = Number(values.depth ?? 6);
  const add = (map: Map<string, number>, key: string, ms: number): void => {
    map.set(key, (map.get(key) ?? 0) + ms);
  };
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const byCallers = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  // Several profiles (one per measured slice) add up.
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const selfByNode = new Map<number, number>();
    profile.samples.forEach((id, i) => selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
    for (const [id, ms] of selfByNode) {
      const frame = byId.get(id)!.callFrame;
      totalMs += ms;
      if (frame.functionName === '(idle)') idleMs += ms;
      const chain: Frame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) chain.push(byId.get(at)!.callFrame);
      add(byPlace, where(frame), ms);
      const owner = ownerOf(chain);
      add(byOwner, owner, ms);
      if (values.within && !owner.includes(values.within)) continue;
      add(byFunction, `${frame.functionName || '(anonymous)'}  ${where(frame)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`, ms);
      if (values.callers && frame.functionName === values.callers) {
        const callers = chain.slice(1, depth + 1).map((f) => `${f.functionName || '(anonymous)'}@${where(f)}${f.url ? `:${f.lineNumber + 1}` : ''}`);
        add(byCallers, callers.join(' < '), ms);
      }
    }
  }
  const busyMs = totalMs - idleMs;

  const out = (text = ''): void => {
    process.stdout.write(`${text}\n`);
  };
  const pct = (ms: number): string => `${((100 * ms) / busyMs).toFixed(1).padStart(5)}%`;
  const perHook = (ms: number): string => (webhooks ? `${((ms / webhooks) * 1000).toFixed(1).padStart(7)} µs/webhook` : '');
  const list = (title: string, map: Map<string, number>, n: number): void => {
    out(title);
    for (const [key, ms] of [...map].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, n)) {
      out(`  ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms ${perHook(ms)}  ${key}`);
    }
    out();
  };
  out(`${positionals.join(' ')}: ${(totalMs / 1000).toFixed(2)} s sampled, ${(busyMs / 1000).toFixed(2)} s busy (percentages are of busy time)`);
  out();
  list('Spent for (innermost library or source file on the stack):', byOwner, top);
  list('Self time by package / file:', byPlace, top);
  list(`Self time by function${values.within ? ` (spent for ${values.within}…)` : ''}:`, byFunction, top);
  if (values.callers) list(`Where ${values.callers} was called from (innermost caller first):`, byCallers, top);
}

main();
