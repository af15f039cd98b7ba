// The staff workbench and paper input: a statement with a phone number waits for a moderator even though the
// demo conversation is post-moderated; the moderator decides it in the moderation queue with
// the keyboard only; every workbench page passes axe in Danish and English.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { axeCheck, checkPage, launchBrowser, login, newContext, pathOf, visit } from './lib.mjs';

const SLUG = 'sikre-cykelruter-til-skole-i-aarhus-vest';
const VOTING = `/consultations/${SLUG}/statements`;
const STAFF = 'moderator@example.org';
const stamp = `${Date.now()}-${process.pid}`;
// A Danish mobile number made of the stamp's last digits (starting with 2), so parallel runs differ.
const phone = `2${String(Date.now()).slice(-7)}`;
const text = `Ring til mig på ${phone} om cykelstien ${stamp}`;

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// Press Tab until the element matching SELECTOR has focus; fails after LIMIT presses.
async function tabTo(page, selector, limit = 400) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const there = await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector);
    if (there) return;
  }
  assert.fail(`Tab never reached ${selector}`);
}

describe('the staff workbench', { timeout: 240_000 }, () => {
  let item;

  it('holds a statement with a phone number and tells the citizen why', async () => {
    const context = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await visit(page, `${VOTING}?lang=da`);
    await page.locator('#body').fill(text);
    await page.locator('#body').locator('xpath=ancestor::form[1]').locator('button[type="submit"], button:not([type])').first().click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), VOTING);
    assert.match(await page.locator('main').innerText(), /telefonnummer/);
    await axeCheck(page);
    await context.close();
  });

  it('every workbench page passes axe in Danish and English', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await login(page, STAFF);
    for (const locale of ['da', 'en']) {
      await visit(page, `/staff?lang=${locale}`);
      await checkPage(page, { locale });
      await visit(page, `/staff/moderation?lang=${locale}`);
      await checkPage(page, { locale });
      await visit(page, `/staff/moderation?kind=statement&age=1&lang=${locale}`);
      await checkPage(page, { locale });
      await visit(page, `/staff/moderation/log?lang=${locale}`);
      await checkPage(page, { locale });
      await visit(page, `/staff/consultations/${SLUG}/paper?lang=${locale}`);
      await checkPage(page, { locale });
      await visit(page, `/staff/consultations/${SLUG}/paper?large=1&lang=${locale}`);
      await checkPage(page, { locale });
      await visit(page, `/staff/consultations/${SLUG}/paper/sheets?lang=${locale}`);
      await checkPage(page, { locale });
      const history = page.locator('main tbody a').first();
      if ((await history.count()) > 0) {
        await history.click();
        await page.waitForLoadState('load');
        assert.match(pathOf(page), /^\/staff\/moderation\/history\//);
        await checkPage(page, { locale });
      }
    }
    // No sideways scrolling on a phone.
    await page.setViewportSize({ width: 375, height: 800 });
    await visit(page, '/staff/moderation?lang=da');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.equal(wide, false, 'the queue scrolls sideways at 375 px');
    await context.close();
  });

  it('staff enter a returned paper sheet without JavaScript', async () => {
    const context = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await login(page, STAFF);
    const entry = `/staff/consultations/${SLUG}/paper/sheets`;
    await visit(page, `${entry}?lang=da`);
    const before = await page.locator('#sheets-entered').innerText();
    // A number no other run used.
    await page.locator('#number').fill(String((Date.now() % 9_000_000) + 1));
    await page.locator('#age_band').selectOption('65-79');
    await page.locator('fieldset.paper-answer').first().locator('input[value="agree"]').check();
    await page.locator('fieldset.paper-answer').nth(1).locator('input[value="disagree"]').check();
    await page.locator('main form button[type="submit"]').click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), entry);
    assert.match(await page.locator('.flash').first().innerText(), /Arket er gemt/);
    assert.notEqual(await page.locator('#sheets-entered').innerText(), before);
    await axeCheck(page);
    await context.close();
  });

  it('a moderator decides the statement with the keyboard only', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await login(page, STAFF);
    await visit(page, '/staff/moderation?lang=da');
    const article = page.locator('.queue-item', { hasText: stamp });
    assert.equal(await article.count(), 1, 'the held statement is in the queue');
    item = await article.getAttribute('id');
    assert.match(await article.locator('mark.personal-data').innerText(), new RegExp(phone));
    const key = item.replace(/^item-/, '');

    // Select it for the joint decision, choose a reason template, reject the selected.
    await tabTo(page, `#select-${key}`);
    await page.keyboard.press('Space');
    assert.equal(await page.locator(`#select-${key}`).isChecked(), true);
    await tabTo(page, '#bulk-tpl');
    await page.keyboard.press('ArrowDown');
    const chosen = await page.locator('#bulk-tpl').inputValue();
    assert.match(chosen, /personoplysninger/);
    await tabTo(page, '#bulk button[value="reject"]');
    await page.keyboard.press('Enter');
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), '/staff/moderation');
    assert.match(await page.locator('.flash').first().innerText(), /Afgørelsen er gemt/);
    assert.equal(await page.locator(`#${item}`).count(), 0, 'the decided statement left the queue');

    // The log names the decision and its reason.
    await visit(page, '/staff/moderation/log?lang=da');
    assert.match(await page.locator('main tbody').innerText(), /personoplysninger/);
    await context.close();
  });
});
