// The shell around each staff command: options or usage, then the work, then an exit code.
// Bad options print the usage and exit 2; --help prints it and exits 0; a crash exits 2.

export function runCli<Options>(
  usage: string,
  readOptions: () => Options | null,
  main: (options: Options) => Promise<number>,
  settings: { exit?: 'now' | 'when-idle'; failurePrefix?: string } = {},
): void {
  const finish = (code: number) => {
    // 'now' for commands that leave stdin or sockets open behind them; 'when-idle' lets clean-up run.
    if (settings.exit === 'when-idle') process.exitCode = code;
    else process.exit(code);
  };
  let options: Options | null;
  try {
    options = readOptions();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage}\n`);
    finish(2);
    return;
  }
  if (!options) {
    process.stdout.write(`${usage}\n`);
    finish(0);
    return;
  }
  main(options).then(finish, (error: unknown) => {
    process.stderr.write(`${settings.failurePrefix ?? ''}${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    finish(2);
  });
}
