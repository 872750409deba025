// Files the jobs write for others to pick up (letters to print, the agency's export): each appears
// complete or not at all, and a run never replaces one another run wrote. Every step can be
// repeated, so a run that stops anywhere leaves nothing a later run cannot finish.
import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { access, link, open, readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

// A temporary file is written and linked in seconds; one this old was left by a run that died.
const ABANDONED_TEMP_MS = 3600_000;

const hasCode = (error: unknown, code: string): boolean => error instanceof Error && (error as NodeJS.ErrnoException).code === code;

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return false;
    throw error;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `path` unless it exists: `write` fills a temporary file beside it (`.<tempPrefix><uuid>.tmp`),
 * which is synced, then linked into place. A link, not a rename: a rename would replace a file a
 * concurrent run has just written, a link refuses. False if the file was there already, or
 * appeared while this run failed to write it.
 */
export async function writeOnce(path: string, tempPrefix: string, write: (file: FileHandle) => Promise<void>): Promise<boolean> {
  const dir = dirname(path);
  const temp = join(dir, `.${tempPrefix}${randomUUID()}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, path);
  } catch (error) {
    if (hasCode(error, 'EEXIST') || (await exists(path))) return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
  // The new name must be on disk before the run tells the store the file is done.
  await syncDir(dir);
  return true;
}

/** Temporary files (`.<tempPrefix>…tmp`) a dead run left: they may hold a letter, even a PIN, in clear. */
export async function removeAbandonedTemps(dir: string, tempPrefix: string, now: Date): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(`.${tempPrefix}`) || !name.endsWith('.tmp')) continue;
    const path = join(dir, name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now.getTime() }));
    if (now.getTime() - mtimeMs > ABANDONED_TEMP_MS) await unlink(path).catch(() => {});
  }
}
