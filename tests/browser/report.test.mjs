// The consultation report: a politician reads the open cycling consultation's report and
// anyone reads the published one, in Danish and English, on a desktop and on a 375 px phone.
// Every variant passes axe; the print stylesheet hides the site's navigation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkPage, launchBrowser, login, newContext, pathOf, visit } from './lib.mjs';

const CYCLING = '/consultations/sikre-cykelruter-til-skole-i-aarhus-vest/report';
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 375, height: 740 },
];
const HEADINGS = { da: 'Deltagelse', en: 'Participation' };

// Open PATH in every language and viewport and check the page each time.
async function everyVariant(page, path, extra = async () => {}) {
  for (const locale of ['da', 'en']) {
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      await visit(page, `${path}?lang=${locale}`);
      assert.equal(
        (await page.locator('#participation-heading').innerText()).trim(),
        HEADINGS[locale],
        `${locale} ${viewport.name}`,
      );
      await checkPage(page, { locale });
      // Nothing wider than the screen: the phone never scrolls sideways.
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at ${viewport.name}`);
      await extra(locale);
    }
  }
}

describe('the consultation report', { timeout: 300_000 }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('sends an anonymous reader of an unpublished report to the login page', async () => {
    const page = await (await newContext(browser)).newPage();
    await visit(page, CYCLING);
    assert.equal(pathOf(page), '/login');
  });

  it('shows a politician the open consultation with its opinion map and groups', async () => {
    const page = await (await newContext(browser)).newPage();
    await login(page, 'politiker@example.org');
    await everyVariant(page, CYCLING, async () => {
      const map = page.locator('svg.opinion-map');
      assert.equal(await map.getAttribute('role'), 'img');
      assert.ok((await map.locator('title').textContent()).trim().length > 0, 'the map has a title');
      assert.ok((await map.locator('circle').count()) > 0, 'participants on the map');
      assert.ok((await page.locator('#groups-table tbody tr').count()) >= 2, 'a table of groups');
      assert.ok((await page.locator('.rep-sentence').count()) > 0, 'statements in plain words');
    });
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.site-header').isVisible(), false, 'no header on paper');
    assert.equal(await page.locator('.site-footer').isVisible(), false, 'no footer on paper');
    assert.ok(await page.locator('#participation-heading').isVisible());
  });

  it('shows anyone the published consultation', async () => {
    const page = await (await newContext(browser)).newPage();
    await visit(page, '/consultations?lang=da');
    const link = page.locator('main a', { hasText: 'Ældres hverdag' }).first();
    const href = await link.getAttribute('href');
    assert.match(href, /^\/consultations\/[a-z0-9-]+$/);
    // Whether the conversation has groups yet does not matter here.
    await everyVariant(page, `${href}/report`);
  });
});
