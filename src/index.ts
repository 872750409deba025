import { ConfigError, loadConfig } from './config.ts';
import { jsonLogger } from './log.ts';
import { createLine, listenLine } from './server.ts';

const logger = jsonLogger();
try {
  const config = loadConfig();
  for (const warning of config.warnings) logger.warn('config', { warning });
  const line = await createLine({ config, logger });
  if (line.store.kind === 'memory') {
    process.stderr.write(
      '\n  *** No REDIS_URL: using the IN-PROCESS store with the demo caseload. ***\n' +
        '  *** Sessions live in this process only; fine for trying the line, not for production. ***\n\n',
    );
  }
  const server = await listenLine(line, config.port);
  logger.info('listening', { port: config.port, publicUrl: config.publicUrl, store: line.store.kind, env: config.env });
  const stop = () => {
    server.close(() => void line.close().then(() => process.exit(0)));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (error) {
  if (error instanceof ConfigError) {
    // Every refused setting in one line: one fix, one restart.
    logger.error('configuration refused', { error: error.message });
  } else {
    logger.error('start failed', { error: error instanceof Error ? error.message : String(error) });
  }
  process.exit(1);
}
