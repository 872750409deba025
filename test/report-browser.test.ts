// The report page as people see it: opened from a file in headless Chromium, with its CSP in
// force, counting what each chart draws for the fixture's twenty calls.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { callReportHtml } from '../src/reports/call-report.ts';
import type { ReportPeriod } from '../src/reports/call-stats.ts';
import { EXPECTED, OUTSIDE_PERIOD, PERIOD, RECORDS } from './report-records.ts';
import { TestBrowser, type WatchedPage } from './support/browser.ts';

const MONDAY: ReportPeriod = { from: new Date('2025-11-03T00:00:00-08:00'), to: new Date('2025-11-04T00:00:00-08:00') };

describe('call report in a browser', function () {
  this.timeout(60_000);
  let browser: TestBrowser;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-browser-'));
    browser = await TestBrowser.launch();
  });
  after(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Opens the page from a file, as someone would, and lists every request beyond the file itself. */
  async function open(name: string, html: string): Promise<WatchedPage & { requests: string[] }> {
    const url = pathToFileURL(join(dir, `${name}.html`)).href;
    await writeFile(new URL(url), html);
    const watched = await browser.newPage();
    const requests: string[] = [];
    watched.page.on('request', (request) => {
      if (request.url() !== url) requests.push(request.url());
    });
    await watched.page.goto(url, { waitUntil: 'load' });
    return { ...watched, requests };
  }

  function expectClean(watched: WatchedPage & { requests: string[] }) {
    expect(watched.pageErrors, 'page errors').to.deep.equal([]);
    expect(watched.consoleErrors, 'console errors').to.deep.equal([]);
    expect(watched.requests, 'requests').to.deep.equal([]);
  }

  const marks = (page: Page, chart: string, series?: string) =>
    page.locator(`[data-chart="${chart}"] .mark${series ? `[data-series="${series}"]` : ''}`).count();

  describe('for three days with twenty calls', () => {
    let watched: WatchedPage & { requests: string[] };
    let page: Page;
    before(async () => {
      watched = await open('three-days', callReportHtml(RECORDS, PERIOD, { generatedAt: new Date('2025-11-04T09:00:00-08:00') }));
      page = watched.page;
    });

    it('opens without errors and without loading anything', () => {
      expectClean(watched);
    });

    it('heads the page with the period in Pacific time and the totals', async () => {
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Customer Connect: call outcomes');
      expect(await page.locator('.period').textContent()).to.include('Sat, Nov 1, 2025, 12:00 AM PDT').and.include('Tue, Nov 4, 2025, 12:00 AM PST');
      expect(await page.locator('.headline').textContent()).to.equal(
        '20 calls: 8 self-served (40% containment), 5 transferred, 4 abandoned, 2 gave up, 1 failed.');
      const total = (key: string) => page.locator(`[data-total="${key}"]`).textContent();
      expect(await total('calls')).to.equal(String(EXPECTED.calls));
      expect(await total('containment')).to.equal(EXPECTED.containmentPercent);
      expect(await total('transferred')).to.equal('5 (25%)');
      expect(await total('es')).to.equal('4 (20%)');
    });

    it('draws a bar for each hour with calls', async () => {
      expect(await marks(page, 'calls-per-hour')).to.equal(EXPECTED.hoursWithCalls);
      expect(await page.locator('[data-chart="calls-per-hour"] .mark title').allTextContents()).to.include('Mon, Nov 3, 8 AM PST — calls: 4');
    });

    it('draws a containment point for each day', async () => {
      expect(await page.getByRole('heading', { name: 'Containment per day' }).count()).to.equal(1);
      expect(await marks(page, 'containment')).to.equal(EXPECTED.days.length);
    });

    it('draws the funnel: a bar for each menu reached, another for each menu calls ended in', async () => {
      expect(await marks(page, 'funnel', 'reached')).to.equal(EXPECTED.funnel.length);
      expect(await marks(page, 'funnel', 'ended')).to.equal(EXPECTED.funnel.filter((step) => step.endedHere > 0).length);
    });

    it('draws transfers by reason, identification failures and card payments', async () => {
      expect(await marks(page, 'transfers')).to.equal(3);
      expect(await marks(page, 'identification', 'failed')).to.equal(2);
      expect(await marks(page, 'identification', 'throttled')).to.equal(1);
      expect(await marks(page, 'payments')).to.equal(4);
      expect(await marks(page, 'payments', 'spooled')).to.equal(1);
    });

    it('names every chart for assistive technology and has its numbers as a table', async () => {
      for (const name of ['Calls per hour', 'Containment per day', 'Menu funnel', 'Transfers by reason', 'Identification failures per day', 'Card payments per day']) {
        expect(await page.getByRole('img', { name, exact: true }).count(), name).to.equal(1);
      }
      const funnel = page.locator('[data-chart="funnel"]');
      await funnel.getByText('The numbers as a table').click();
      const table = funnel.getByRole('table', { name: 'Menu funnel' });
      expect(await table.getByRole('row').count()).to.equal(1 + EXPECTED.funnel.length);
      expect(await table.getByRole('row', { name: /Login \(ID and PIN\)/ }).getByRole('cell').allTextContents()).to.deep.equal(['12', '4']);
    });
  });

  it('would notice a page that throws, logs an error or loads something', async () => {
    const plain = await browser.newPage();
    await plain.page.setContent(`<script>console.error('logged'); throw new Error('thrown');</script>`);
    expect(plain.consoleErrors).to.deep.equal(['logged']);
    expect(plain.pageErrors).to.deep.equal(['thrown']);

    const tampered = callReportHtml(RECORDS, PERIOD).replace('</main>', '<img src="https://example.invalid/pixel.png" alt=""><script>document.title = "ran"</script></main>');
    const watched = await open('tampered', tampered);
    expect(watched.consoleErrors.join('\n')).to.match(/Content Security Policy/);
    expect(await watched.page.title()).to.not.equal('ran');
  });

  it('shows containment per hour for a day', async () => {
    const { page, ...rest } = await open('monday', callReportHtml(RECORDS, MONDAY));
    expectClean({ page, ...rest });
    expect(await page.getByRole('heading', { name: 'Containment per hour' }).count()).to.equal(1);
    expect(await marks(page, 'containment')).to.equal(5);
    expect(await marks(page, 'calls-per-hour')).to.equal(5);
    expect(await page.locator('[data-total="calls"]').textContent()).to.equal('10');
  });

  it('says there were no calls in an empty period', async () => {
    const watched = await open('empty', callReportHtml(OUTSIDE_PERIOD, PERIOD));
    expectClean(watched);
    expect(await watched.page.getByRole('status').textContent()).to.equal('There were no calls in this period.');
    expect(await watched.page.locator('.mark').count()).to.equal(0);
  });
});
