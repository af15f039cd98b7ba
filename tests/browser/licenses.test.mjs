// The licences page (/licenses) in Danish and English, on a desktop and on a 375 px phone,
// with JavaScript on and off: axe-clean, nothing wider than the screen, reached from the
// footer, and its links to the EUPL text and to security.txt answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { axeCheck, checkPage, launchBrowser, newContext, pathOf, visit } from './lib.mjs';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 375, height: 740 },
];
const HEADINGS = { da: 'Licenser og kildekode', en: 'Licences and source code' };

async function sidewaysOverflow(page) {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}

describe('the licences page', { timeout: 180_000 }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  for (const locale of ['da', 'en']) {
    it(`${locale}: reached from the footer, axe-clean on desktop and phone`, async () => {
      const context = await newContext(browser);
      const page = await context.newPage();
      await visit(page, `/?lang=${locale}`);
      await page.locator('footer a[href="/licenses"]').click();
      await page.waitForLoadState('load');
      assert.equal(pathOf(page), '/licenses');
      for (const viewport of VIEWPORTS) {
        await page.setViewportSize({ width: viewport.width, height: viewport.height });
        await visit(page, '/licenses');
        assert.equal((await page.locator('h1').innerText()).trim(), HEADINGS[locale]);
        assert.ok((await page.locator('main .crate-list li').count()) > 100, 'the crates are listed');
        await checkPage(page, { locale });
        const overflow = await sidewaysOverflow(page);
        assert.ok(overflow <= 0, `/licenses scrolls sideways by ${overflow}px at ${viewport.name}`);
      }
      await context.close();
    });

    it(`${locale}: works without JavaScript`, async () => {
      const context = await newContext(browser, { javaScriptEnabled: false });
      const page = await context.newPage();
      await page.setViewportSize({ width: 375, height: 740 });
      await visit(page, `/licenses?lang=${locale}`);
      assert.equal(await page.locator('html').getAttribute('lang'), locale);
      assert.equal((await page.locator('h1').innerText()).trim(), HEADINGS[locale]);
      // The summary's in-page links lead to the group headings.
      const first = page.locator('main .license-summary a').first();
      const target = await first.getAttribute('href');
      await first.click();
      assert.equal(new URL(page.url()).hash, target);
      assert.equal(await page.locator(`h3${target}`).count(), 1);
      await axeCheck(page);
      await context.close();
    });
  }

  it('the full EUPL text and security.txt answer as plain text', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    for (const [path, start] of [
      ['/licenses/EUPL-1.2.txt', 'EUROPEAN UNION PUBLIC LICENCE v. 1.2'],
      ['/.well-known/security.txt', '# Where to report'],
    ]) {
      const res = await page.request.get(path);
      assert.equal(res.status(), 200, path);
      assert.equal(res.headers()['content-type'], 'text/plain; charset=utf-8', path);
      assert.ok((await res.text()).startsWith(start), path);
    }
    await context.close();
  });
});
