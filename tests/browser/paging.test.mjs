// A conversation with more statements than one page of the list holds (50): staff create it
// and add 120 statements, then a citizen without JavaScript pages through the list with its
// plain links. Every page of the list passes axe in Danish and English and fits a 375 px
// screen; the range line, the numbered links and previous/next say where the reader is.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  axeCheck,
  launchBrowser,
  login,
  newContext,
  pathOf,
  sidewaysOverflow,
  visit,
  VIEWPORTS,
} from './lib.mjs';

const STATEMENTS = 120;
const stamp = `${Date.now()}-${process.pid}`;

describe('a long statement list, page by page', { timeout: 300_000 }, () => {
  let browser;
  let slug;

  before(async () => {
    browser = await launchBrowser();
    const staff = await (await newContext(browser)).newPage();
    await login(staff, 'admin@example.org');
    await visit(staff, '/staff/consultations/new?lang=da');
    await staff.locator('#title').fill(`Mange udsagn ${stamp}`);
    await staff.locator('#summary').fill('En samtale med flere udsagn, end én side kan vise.');
    await staff.locator('#has_conversation').check();
    await staff.locator('form.stack button[type="submit"]').last().click();
    await staff.waitForLoadState('load');
    const edit = pathOf(staff).match(/^\/staff\/consultations\/([a-z0-9-]+)\/edit$/);
    assert.ok(edit, `not on the edit page after creating: ${pathOf(staff)}`);
    slug = edit[1];

    await visit(staff, `/staff/consultations/${slug}/statements`);
    const csrf = await staff.locator('input[name="csrf_token"]').first().inputValue();
    for (let i = 1; i <= STATEMENTS; i += 1) {
      const response = await staff.request.post(`/staff/consultations/${slug}/statements`, {
        form: { csrf_token: csrf, body: `Forslag ${i} om byens udvikling: ${'abcdefghij'[i % 10]} ${i * 7}` },
        maxRedirects: 0,
      });
      assert.equal(response.status(), 303, `statement ${i} was not added`);
    }

    await visit(staff, `/staff/consultations/${slug}/edit`);
    await staff.locator('form:has(input[name="to"][value="open"]) button').click();
    await staff.waitForLoadState('load');
    await staff.context().close();
  });
  after(async () => {
    await browser?.close();
  });

  it('shows 50 statements a page with links to the others, in Danish and English', async () => {
    const context = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    const list = `/consultations/${slug}/statements/all`;
    for (const [locale, range] of [
      ['da', /Udsagn 1–50 af 120/],
      ['en', /Statements 1–50 of 120/],
    ]) {
      for (const viewport of VIEWPORTS) {
        await page.setViewportSize({ width: viewport.width, height: viewport.height });
        await visit(page, `${list}?lang=${locale}`);
        assert.equal(await page.locator('html').getAttribute('lang'), locale);
        assert.match(await page.locator('#list-range').innerText(), range);
        assert.equal(await page.locator('.statement-item').count(), 50);
        const nav = page.locator('nav.pagination');
        assert.ok(await nav.getAttribute('aria-label'), 'the page links have a name');
        assert.equal(await nav.locator('.page-numbers a').count(), 3);
        assert.equal(await nav.locator('a[aria-current="page"]').innerText(), '1');
        assert.equal(await nav.locator('a[rel="prev"]').count(), 0, 'no "previous" on page 1');
        assert.ok((await sidewaysOverflow(page)) <= 0, `${list} scrolls sideways at ${viewport.name}`);
      }
      await axeCheck(page);
    }
  });

  it('follows "next" and the page numbers without JavaScript', async () => {
    const context = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    const list = `/consultations/${slug}/statements/all`;
    await visit(page, `${list}?lang=da`);
    await page.locator('nav.pagination a[rel="next"]').click();
    await page.waitForLoadState('load');
    assert.match(page.url(), /[?&]page=2\b/);
    assert.match(await page.locator('#list-range').innerText(), /Udsagn 51–100 af 120/);
    assert.equal(await page.locator('ol.statement-list').getAttribute('start'), '51');
    assert.equal(await page.locator('nav.pagination a[aria-current="page"]').innerText(), '2');
    assert.equal(await page.locator('nav.pagination a[rel="prev"]').count(), 1);

    await page.locator('nav.pagination .page-numbers a', { hasText: '3' }).click();
    await page.waitForLoadState('load');
    assert.match(await page.locator('#list-range').innerText(), /Udsagn 101–120 af 120/);
    assert.equal(await page.locator('.statement-item').count(), 20);
    assert.equal(await page.locator('nav.pagination a[rel="next"]').count(), 0, 'no "next" on the last page');
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      assert.ok((await sidewaysOverflow(page)) <= 0, `the last page scrolls sideways at ${viewport.name}`);
    }
    await axeCheck(page);
  });
});
