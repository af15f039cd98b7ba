// A citizen's own data in a real browser, in Danish and English, on a desktop and on a
// 375 px phone: "Mine data" (the readable export and its JSON download), the deletion
// confirmation, the privacy page's record of processing, the complaint form, and the staff
// pages for data requests and complaints. Every page is checked with axe-core and for
// sideways scrolling. Then a fresh account is deleted through the confirmation step and
// cannot log in again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  checkPage,
  launchBrowser,
  login,
  newContext,
  pathOf,
  sidewaysOverflow,
  submitFormOf,
  visit,
  VIEWPORTS,
} from './lib.mjs';

const LOCALES = ['da', 'en'];
async function checkAll(page, locale, where) {
  await checkPage(page, { locale });
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    assert.ok(
      (await sidewaysOverflow(page)) <= 0,
      `no sideways scrolling on ${where} (${viewport.name})`,
    );
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const locale of LOCALES) {
  describe(`data rights, ${locale}`, { timeout: 180_000 }, () => {
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

    it('the privacy page lists the record of processing', async () => {
      await visit(page, '/privacy');
      assert.ok(await page.locator('#inventory').isVisible());
      assert.ok((await page.locator('section.inventory').count()) >= 8);
      assert.ok(await page.locator('#complaint + p a[href="https://www.datatilsynet.dk"]').isVisible());
      await checkAll(page, locale, '/privacy');
    });

    it('a citizen sees and downloads their data', async () => {
      await login(page, 'borger@example.org');
      await visit(page, `/account?lang=${locale}`);
      await page.locator('#my-data-links a[href="/account/data"]').click();
      await page.waitForLoadState('load');
      assert.equal(pathOf(page), '/account/data');
      assert.ok((await page.locator('#my-account').innerText()).includes('borger@example.org'));
      await checkAll(page, locale, '/account/data');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('#download-json').click(),
      ]);
      const file = await download.path();
      const { readFile } = await import('node:fs/promises');
      const data = JSON.parse(await readFile(file, 'utf8'));
      assert.equal(data.account.email, 'borger@example.org');
    });

    it('the deletion step explains what happens before the click', async () => {
      await visit(page, '/account/delete');
      assert.ok(await page.locator('#delete-explained').isVisible());
      assert.ok(await page.locator('#delete-form input[name="password"]').isVisible());
      await checkAll(page, locale, '/account/delete');
      assert.equal(await page.locator('#delete-form input#confirm').getAttribute('required'), '');
    });

    it('the complaint form is reachable from the privacy page', async () => {
      await visit(page, '/privacy');
      await page.locator('#help + p a[href="/complaints/new"]').click();
      await page.waitForLoadState('load');
      assert.equal(pathOf(page), '/complaints/new');
      assert.ok(await page.locator('#complaint-form textarea#body').isVisible());
      await checkAll(page, locale, '/complaints/new');
    });

    it('an administrator finds a person for a data request', async () => {
      const staff = await newContext(browser);
      try {
        const admin = await staff.newPage();
        await visit(admin, `/?lang=${locale}`);
        await login(admin, 'admin@example.org');
        await visit(admin, `/admin/data-requests?email=borger%40example.org&lang=${locale}`);
        assert.ok((await admin.locator('#found-user').innerText()).includes('borger@example.org'));
        assert.ok(await admin.locator('#staff-delete-form textarea#reason').isVisible());
        await checkAll(admin, locale, '/admin/data-requests');
        await visit(admin, '/staff/complaints');
        await checkAll(admin, locale, '/staff/complaints');
      } finally {
        await staff.close();
      }
    });
  });
}

describe('deleting an account', { timeout: 180_000 }, () => {
  const stamp = Date.now();
  const person = {
    displayName: `Slet ${stamp}`,
    email: `slet-${stamp}@example.org`,
    password: 'en lang adgangskode til test',
  };
  let context;
  let page;

  before(async () => {
    browser ??= await launchBrowser();
    context = await newContext(browser);
    page = await context.newPage();
    await visit(page, '/?lang=da');
  });
  after(async () => {
    await context?.close();
  });

  it('registers, deletes through the confirmation step, and is gone', async () => {
    await visit(page, '/register');
    const form = page.locator('main form:has(input[name="password_confirm"])');
    await form.locator('input[name="display_name"]').fill(person.displayName);
    await form.locator('input[name="email"]').fill(person.email);
    await form.locator('input[name="password"]').fill(person.password);
    await form.locator('input[name="password_confirm"]').fill(person.password);
    await submitFormOf(page, form.locator('input[name="email"]'));
    await login(page, person.email, person.password);

    await visit(page, '/account/delete');
    const del = page.locator('#delete-form');
    await del.locator('input[name="password"]').fill(person.password);
    await del.locator('input#confirm').check();
    await submitFormOf(page, del.locator('input#confirm'));
    assert.equal(pathOf(page), '/account/deleted');
    assert.ok(await page.locator('#account-deleted').isVisible());
    await checkAll(page, 'da', '/account/deleted');

    await visit(page, '/login');
    const again = page.locator('main form:has(input[name="password"])');
    await again.locator('input[name="email"]').fill(person.email);
    await again.locator('input[name="password"]').fill(person.password);
    await submitFormOf(page, again.locator('input[name="password"]'));
    assert.equal(pathOf(page), '/login', 'the deleted account cannot log in');
  });
});
