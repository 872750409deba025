// Every child process of `npm run bench` starts here (bench-process.ts forks it): the line, the
// bare app, a load generator, or with --inline a server and a load generator on one event loop.
import { startBareServer } from './bare-app.ts';
import { failToStart, serveParent, type ChildInfo, type ChildSpec, type Handlers } from './bench-process.ts';
import { startLineServer } from './line-server.ts';
import { LoadGenerator } from './load-generator.ts';

async function start(spec: ChildSpec): Promise<void> {
  const info: ChildInfo = { pid: process.pid };
  const handlers: Handlers = {
    usage: () => {
      const used = process.cpuUsage();
      return { cpuMs: (used.user + used.system) / 1000 };
    },
  };
  const closers: Array<() => Promise<void> | void> = [];
  const server = spec.roles.includes('line') && spec.line ? await startLineServer(spec.line) : spec.roles.includes('bare') && spec.bare ? await startBareServer(spec.bare) : null;
  if (server) {
    if ('bcryptCost' in server.info) info.line = server.info;
    else info.bare = server.info;
    handlers.begin = () => {
      server.begin();
      return null;
    };
    handlers.end = () => server.end();
    closers.push(() => server.close());
  }
  if (spec.roles.includes('load')) {
    const load = new LoadGenerator();
    Object.assign(handlers, load.handlers());
    closers.unshift(() => load.close());
  }
  serveParent(info, handlers, async () => {
    for (const close of closers) await close();
  });
}

const spec = JSON.parse(process.env.BENCH_CHILD ?? '{"roles":[]}') as ChildSpec;
start(spec).catch(failToStart);
