// The line listening on this machine only, for the staff tools that run one in their process
// (npm run console, call scripts) and for the tests that talk to it over real HTTP.
import type { AddressInfo } from 'node:net';
import { listenLine, type Line } from '../src/server.ts';

export type LocalListener = {
  baseUrl: string;
  /** Stops listening, drops the connections still open (a browser's keep-alive), then closes the line. */
  close(): Promise<void>;
};

/** `line` on 127.0.0.1:`port` (0: any free port). */
export async function listenLocally(line: Line, port = 0): Promise<LocalListener> {
  const server = await listenLine(line, port, '127.0.0.1');
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await line.close();
    },
  };
}
