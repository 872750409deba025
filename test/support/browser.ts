// Debian's Chromium driven by playwright-core, for tests that need a real browser. Playwright's
// own browser download is not reachable here (never `playwright install`): CI installs the
// `chromium` package instead (.ci/run). Launch once per suite; each page records its errors.
import { access, constants } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** A page and what went wrong in it: uncaught exceptions, and console.error lines (failed loads, CSP refusals). */
export type WatchedPage = { page: Page; pageErrors: string[]; consoleErrors: string[] };

export class TestBrowser {
  private readonly contexts = new Set<BrowserContext>();

  private constructor(private readonly browser: Browser) {}

  static async launch(): Promise<TestBrowser> {
    try {
      await access(CHROMIUM_PATH, constants.X_OK);
    } catch {
      throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH`);
    }
    // Playwright gives each launch a fresh, temporary user-data-dir and removes it on close.
    return new TestBrowser(await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS }));
  }

  /** A page in a context of its own, so cookies and storage never leak between tests. */
  async newPage(): Promise<WatchedPage> {
    const context = await this.browser.newContext();
    this.contexts.add(context);
    context.once('close', () => this.contexts.delete(context));
    const page = await context.newPage();
    const watched: WatchedPage = { page, pageErrors: [], consoleErrors: [] };
    page.on('pageerror', (error) => watched.pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') watched.consoleErrors.push(message.text());
    });
    return watched;
  }

  async close(): Promise<void> {
    await Promise.all([...this.contexts].map((context) => context.close()));
    await this.browser.close();
  }
}
