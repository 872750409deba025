// Where the report gets its calls: any function that yields the records of calls started in
// [from, to). A JSON Lines file is one source; the store can be another.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseCallRecord, type CallRecord } from '../domain/call-record.ts';

export type CallRecordSource = (from: Date, to: Date) => AsyncIterable<CallRecord>;

/** One CallRecord per line; blank lines are skipped. A bad line stops the read with an error naming the file and line. */
export function callRecordsFromJsonLines(path: string): CallRecordSource {
  return async function* (from, to) {
    const input = createReadStream(path, { encoding: 'utf8' });
    const opened = new Promise<void>((resolve, reject) => {
      input.once('ready', () => resolve());
      input.once('error', reject);
    });
    try {
      await opened;
    } catch (error) {
      const failure = error as NodeJS.ErrnoException;
      throw new Error(`cannot read records file ${path}: ${failure.code === 'ENOENT' ? 'no such file' : failure.message}`);
    }
    const lines = createInterface({ input, crlfDelay: Infinity });
    let number = 0;
    try {
      for await (const line of lines) {
        number += 1;
        if (!line.trim()) continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw new Error(`${path}:${number}: not a JSON object`);
        }
        let record: CallRecord;
        try {
          record = parseCallRecord(value);
        } catch (error) {
          throw new Error(`${path}:${number}: ${error instanceof Error ? error.message : String(error)}`);
        }
        const started = Date.parse(record.startedAt);
        if (started >= from.getTime() && started < to.getTime()) yield record;
      }
    } finally {
      lines.close();
      input.destroy();
    }
  };
}
