// The bench's baseline: a bare Express 5 app that parses the urlencoded body Twilio posts and
// answers every POST with one fixed TwiML menu of about 400 bytes, with no signature check and
// nothing else. It is what any Express app on this machine does at the least for a webhook, so
// line ÷ bare says what the line's own work costs.
import express from 'express';
import { PhaseMeter, closeServer, type Handler, type MeteredServer } from './phase-meter.ts';

export type BareServerOptions = { profileDir: string | null };
export type BareInfo = { url: string; replyBytes: number };

/** The load generator checks that every bare reply carries this. */
export const BARE_MARKER = 'Bare Express reference reply.';

/** A menu shaped like the line's: a <Gather> with the prompt inside, then a <Redirect> for silence. */
export function bareTwiml(publicUrl: string): string {
  const query = '?turn=1&amp;lang=en';
  return (
    '<?xml version="1.0" encoding="UTF-8"?><Response>' +
    `<Gather input="dtmf" numDigits="1" timeout="6" action="${publicUrl}/voice/input${query}" method="POST">` +
    `<Say language="en-US">${BARE_MARKER} Main menu. For payments, press 1. For a representative, press 0.</Say>` +
    `</Gather><Redirect method="POST">${publicUrl}/voice/no-input${query}</Redirect></Response>`
  );
}

export async function startBareServer(options: BareServerOptions): Promise<MeteredServer<BareInfo>> {
  const meter = await PhaseMeter.create('bare', options.profileDir);
  const http = await meter.listen();
  const twiml = bareTwiml(http.url);
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));
  app.use((req, res) => {
    if (req.method !== 'POST') {
      res.status(405).type('text/plain').send('POST only');
      return;
    }
    res.status(200).type('text/xml').send(twiml);
  });
  http.serve(app as unknown as Handler);
  return {
    info: { url: http.url, replyBytes: Buffer.byteLength(twiml) },
    begin: () => meter.begin(),
    end: () => meter.end(),
    close: async () => {
      await closeServer(http.server);
      meter.close();
    },
  };
}
