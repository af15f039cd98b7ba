// The open data page and the downloads of the demo's published consultation, for a visitor
// who is not logged in, in both languages: axe-clean pages, working download links.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkPage, launchBrowser, newContext, visit } from './lib.mjs';

const REPORT = 'aeldres-hverdag-mad-faellesskab-og-hjaelp';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const locale of ['da', 'en']) {
  describe(`open data, ${locale}`, { timeout: 120_000 }, () => {
    let context;
    let page;

    before(async () => {
      context = await newContext(browser);
      page = await context.newPage();
      await visit(page, `/?lang=${locale}`);
    });
    after(async () => {
      await context?.close();
    });

    it('/open-data lists the published consultation with its report, downloads and licence', async () => {
      await visit(page, '/open-data');
      await checkPage(page, { locale });
      const heading = locale === 'da' ? 'Åbne data' : 'Open data';
      assert.equal((await page.locator('h1').innerText()).trim(), heading);
      assert.equal(await page.locator(`main a[href="/consultations/${REPORT}/report"]`).count(), 1);
      assert.equal(await page.locator('main a[rel="license"]').count(), 1);
      const zip = page.locator(`main a[href="/consultations/${REPORT}/export/${REPORT}.zip"]`);
      assert.equal(await zip.count(), 1);
      // The footer leads here from every page.
      assert.equal(await page.locator('footer a[href="/open-data"]').count(), 1);
    });

    it('the download links answer with the file', async () => {
      for (const [file, type] of [
        ['participants-votes.csv', 'text/csv; charset=utf-8'],
        ['export.json', 'application/json'],
        [`${REPORT}.zip`, 'application/zip'],
      ]) {
        const res = await page.request.get(`/consultations/${REPORT}/export/${file}`);
        assert.equal(res.status(), 200, file);
        assert.equal(res.headers()['content-type'], type, file);
        assert.match(res.headers()['content-disposition'], /^attachment; filename=/);
      }
    });

    it('the published consultation offers its downloads', async () => {
      await visit(page, `/consultations/${REPORT}`);
      await checkPage(page, { locale });
      assert.ok((await page.locator('.downloads a[download]').count()) >= 7);
      assert.match(await page.locator('.license-notice').innerText(), /CC BY 4\.0/);
    });
  });
}
