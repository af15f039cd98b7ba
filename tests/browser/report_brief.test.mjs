// The report a councillor reads in two minutes: a politician lands on the overview of
// consultations after logging in, the report is one click away, and the report opens with the
// brief. The overview and the report pass axe in Danish and English, on a desktop and on a
// 375 px phone, without sideways scrolling.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkPage, launchBrowser, login, newContext, pathOf, visit } from './lib.mjs';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 375, height: 740 },
];

async function everyVariant(page, path, check) {
  for (const locale of ['da', 'en']) {
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      await visit(page, `${path}?lang=${locale}`);
      await checkPage(page, { locale });
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at ${viewport.name}`);
      await check(locale, viewport);
    }
  }
}

describe('the report brief and the politician overview', { timeout: 300_000 }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('lands a politician on the overview, one click from each report', async () => {
    const page = await (await newContext(browser)).newPage();
    await login(page, 'politiker@example.org');
    assert.equal(pathOf(page), '/politician');
    await everyVariant(page, '/politician', async () => {
      assert.ok((await page.locator('#overview li').count()) > 0, 'consultations listed');
    });
    await visit(page, '/politician?lang=da');
    // The published demo consultation: its report has groups and a receipt.
    await page.locator('#overview a', { hasText: 'Ældres hverdag' }).first().click();
    await page.waitForLoadState('load');
    assert.match(pathOf(page), /^\/consultations\/[a-z0-9-]+\/report$/);
    await everyVariant(page, pathOf(page), async (locale, viewport) => {
      // The brief is the first section (after the council's decision, once there is one)
      // and fits on the first screen of a desktop.
      const first = page.locator('article.report section.report-section:not(#outcome)').first();
      assert.equal(await first.getAttribute('id'), 'brief');
      assert.equal(
        (await page.locator('#brief-heading').innerText()).trim(),
        locale === 'da' ? 'Kort fortalt' : 'In brief',
      );
      assert.ok((await page.locator('#brief-took-part').innerText()).length > 0);
      // The receipt is closed at the end.
      assert.equal(await page.locator('#receipt').getAttribute('open'), null);
      if (viewport.name === 'desktop') {
        const top = await page.locator('article.report section.report-section h2').first().boundingBox();
        assert.ok(top.y < viewport.height, 'the decision or the brief starts on the first screen');
      }
    });
  });

  it('offers the report as a PDF, draws the cross-tabs as bars and keeps table headings on a phone', async () => {
    const page = await (await newContext(browser)).newPage();
    await visit(page, '/consultations?lang=da');
    const href = await page.locator('main a', { hasText: 'Ældres hverdag' }).first().getAttribute('href');
    await everyVariant(page, `${href}/report`, async (locale, viewport) => {
      const pdf = page.locator('#report-pdf');
      assert.equal((await pdf.innerText()).trim(), locale === 'da' ? 'Hent som PDF' : 'Download as PDF');
      assert.equal(await pdf.getAttribute('href'), `${href}/report.pdf`);
      // Every column of every report table keeps its heading, also at 375 px.
      const tables = page.locator('article.report table');
      for (let i = 0; i < (await tables.count()); i += 1) {
        const table = tables.nth(i);
        if (!(await table.isVisible())) continue;
        const heads = table.locator('thead th');
        for (let j = 0; j < (await heads.count()); j += 1) {
          const box = await heads.nth(j).boundingBox();
          assert.ok(box && box.width > 0 && box.height > 0, `a heading of table ${i} is hidden at ${viewport.name}`);
        }
      }
      // The cross-tabs have bars with the groups' letters as text, not colour alone.
      const charts = page.locator('svg.crosstab-chart');
      if ((await charts.count()) > 0) {
        const letters = await charts.first().locator('text').allTextContents();
        assert.ok(letters.some((t) => /^[A-E]$/.test(t.trim())), 'group letters beside the bars');
      }
      // Axis labels on the opinion map and the vote chart.
      assert.ok((await page.locator('svg.chart text.axis-label').count()) > 0);
    });
    const res = await page.request.get(`${href}/report.pdf`);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['content-type'], 'application/pdf');
    assert.ok((await res.body()).subarray(0, 5).toString() === '%PDF-');
  });

  it('shows anyone the brief of the published consultation', async () => {
    const page = await (await newContext(browser)).newPage();
    await visit(page, '/consultations?lang=da');
    const link = page.locator('main a', { hasText: 'Ældres hverdag' }).first();
    const href = await link.getAttribute('href');
    await everyVariant(page, `${href}/report`, async () => {
      assert.ok(await page.locator('#brief').isVisible());
    });
  });
});
