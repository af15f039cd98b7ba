// The citizen service desk: a moderator helps a citizen with an existing account, without
// JavaScript; every desk page passes axe in Danish and English and fits a 375 px screen.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_PASSWORD, checkPage, launchBrowser, login, newContext, pathOf, visit } from './lib.mjs';

const SLUG = 'sikre-cykelruter-til-skole-i-aarhus-vest';
const STAFF = 'moderator@example.org';
const CITIZEN = 'borger@example.org';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function fitsPhone(page, path) {
  await page.setViewportSize({ width: 375, height: 800 });
  await visit(page, path);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(wide, false, `${path} scrolls sideways at 375 px`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function startWithAccount(page) {
  await visit(page, '/staff/desk?lang=da');
  await page.locator('#desk-email').fill(CITIZEN);
  await page.locator('#desk-password').fill(DEMO_PASSWORD);
  await page.locator('#desk-password').locator('xpath=ancestor::form[1]').locator('button[type="submit"]').click();
  await page.waitForLoadState('load');
  assert.equal(pathOf(page), '/staff/desk/session');
}

describe('the citizen service desk', { timeout: 240_000 }, () => {
  it('works without JavaScript: a vote as the citizen, then a receipt', async () => {
    const context = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await login(page, STAFF);
    await startWithAccount(page);
    assert.match(await page.locator('#desk-citizen').innerText(), /Birgitte Borger/);
    await visit(page, `/staff/desk/c/${SLUG}`);
    const first = page.locator('fieldset.desk-statement').first();
    await first.locator('input[value="agree"]').check();
    await first.locator('xpath=ancestor::form[1]').locator('button[type="submit"]').click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), `/staff/desk/c/${SLUG}`);
    await visit(page, '/staff/desk/session');
    await page.locator('form[action="/staff/desk/end"] button').click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), '/staff/desk/receipt');
    assert.ok((await page.locator('.desk-line').count()) >= 1, 'the vote is on the receipt');
    await context.close();
  });

  it('every desk page passes axe in Danish and English and fits a phone', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await login(page, STAFF);
    for (const locale of ['da', 'en']) {
      await visit(page, `/staff/desk?lang=${locale}`);
      await checkPage(page, { locale });
    }
    await fitsPhone(page, '/staff/desk');
    await startWithAccount(page);
    for (const locale of ['da', 'en']) {
      await visit(page, `/staff/desk/session?lang=${locale}`);
      await checkPage(page, { locale });
      await visit(page, `/staff/desk/c/${SLUG}?lang=${locale}`);
      await checkPage(page, { locale });
    }
    await fitsPhone(page, '/staff/desk/session');
    await fitsPhone(page, `/staff/desk/c/${SLUG}`);
    await visit(page, '/staff/desk/session');
    await page.locator('form[action="/staff/desk/end"] button').click();
    await page.waitForLoadState('load');
    for (const locale of ['da', 'en']) {
      await visit(page, `/staff/desk/receipt?lang=${locale}`);
      await checkPage(page, { locale });
    }
    await fitsPhone(page, '/staff/desk/receipt');
    await context.close();
  });

  it('a statement like an existing one asks "is it the same as …?" first, in Danish and English', async () => {
    const context = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await visit(page, `/consultations/${SLUG}/statements/all`);
    const existing = (await page.locator('.statement-text').first().innerText()).trim();
    for (const locale of ['da', 'en']) {
      await visit(page, `/consultations/${SLUG}/statements?lang=${locale}`);
      await page.locator('#body').fill(`${existing} ${locale === 'da' ? 'også' : 'igen'}`);
      await page.locator('#body').locator('xpath=ancestor::form[1]').locator('button[type="submit"], button:not([type])').first().click();
      await page.waitForLoadState('load');
      assert.ok((await page.locator('.similar-item').count()) >= 1, 'similar statements are listed');
    }
    await context.close();
    // With JavaScript on for the keyboard and axe checks.
    const checked = await newContext(browser);
    const p2 = await checked.newPage();
    for (const locale of ['da', 'en']) {
      await visit(p2, `/consultations/${SLUG}/statements?lang=${locale}`);
      await p2.locator('#body').fill(`${existing} nu`);
      await p2.locator('#body').locator('xpath=ancestor::form[1]').locator('button[type="submit"], button:not([type])').first().click();
      await p2.waitForLoadState('load');
      assert.ok((await p2.locator('.similar-item').count()) >= 1);
      await checkPage(p2, { locale });
      const wide = await p2.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      assert.equal(wide, false);
    }
    await checked.close();
  });

  it('the duplicate form on an item history passes axe', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await login(page, STAFF);
    await visit(page, '/staff/moderation/log?lang=da');
    const link = page.locator('main tbody a[href^="/staff/moderation/history/statement/"]').first();
    if ((await link.count()) > 0) {
      const href = await link.getAttribute('href');
      for (const locale of ['da', 'en']) {
        await visit(page, `${href}?lang=${locale}`);
        await checkPage(page, { locale });
      }
    }
    await context.close();
  });
});

