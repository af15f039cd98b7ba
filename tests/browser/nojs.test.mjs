// A citizen without JavaScript: register, log out, log in again, read a consultation and log
// out on all devices.
// Every step is a plain link or form post; every page passes axe.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  axeCheck,
  launchBrowser,
  login,
  logout,
  logoutButton,
  mainLink,
  newContext,
  pathOf,
  submitFormOf,
  visit,
} from './lib.mjs';

const stamp = `${Date.now()}-${process.pid}`;
const citizen = {
  displayName: `Uden JS ${stamp}`,
  email: `nojs-${stamp}@example.org`,
  password: 'a long enough password for tests',
};

describe('without JavaScript', { timeout: 180_000 }, () => {
  let browser;
  let context;
  let page;

  before(async () => {
    browser = await launchBrowser();
    context = await newContext(browser, { javaScriptEnabled: false });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
  });

  it('registers a new account and logs in with it', async () => {
    await visit(page, '/register');
    await axeCheck(page);
    const form = page.locator('main form:has(input[name="password_confirm"])');
    await form.locator('input[name="display_name"]').fill(citizen.displayName);
    await form.locator('input[name="email"]').fill(citizen.email);
    await form.locator('input[name="password"]').fill(citizen.password);
    await form.locator('input[name="password_confirm"]').fill(citizen.password);
    await submitFormOf(page, form.locator('input[name="email"]'));

    assert.equal(pathOf(page), '/register/sent', 'registration did not say to check the inbox');
    await axeCheck(page);
    await login(page, citizen.email, citizen.password);
    assert.ok(await logoutButton(page).isVisible(), 'not logged in with the new account');
    assert.ok(
      await page.getByText(citizen.displayName).first().isVisible(),
      `the display name "${citizen.displayName}" is not shown after registering`,
    );
    await axeCheck(page);
  });

  it('logs out with the button in the header', async () => {
    await logout(page);
    assert.equal(
      await page.getByText(citizen.displayName).count(),
      0,
      'the display name is still shown after logging out',
    );
    await axeCheck(page);
  });

  it('logs in with the new account', async () => {
    await login(page, citizen.email, citizen.password);
    assert.ok(
      await page.getByText(citizen.displayName).first().isVisible(),
      `the display name "${citizen.displayName}" is not shown after logging in`,
    );
    await axeCheck(page);
  });

  it('browses to the consultations and opens one', async () => {
    await page.locator('a[href="/consultations"]:visible').first().click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), '/consultations');
    await axeCheck(page);

    const { path, locator } = await mainLink(page, /^\/consultations\/[^/]+/);
    await locator.click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), path);
    assert.ok(await page.locator('h1').first().isVisible(), `a visible <h1> on ${path}`);
    await axeCheck(page);
  });

  it('logs out on all devices from the account page', async () => {
    // A second browser of the same person, e.g. a library computer.
    const other = await newContext(browser, { javaScriptEnabled: false });
    const elsewhere = await other.newPage();
    await login(elsewhere, citizen.email, citizen.password);

    await visit(page, '/account');
    await axeCheck(page);
    const form = page.locator('main form[action="/account/log-out-everywhere"]');
    assert.ok(await form.getByText('Log ud på alle enheder').isVisible(), 'the button is shown');
    await submitFormOf(page, form.locator('button'));
    assert.equal(pathOf(page), '/login');
    assert.ok(
      await page.getByText('Du er nu logget ud på alle enheder').isVisible(),
      'the login page confirms it in words',
    );
    assert.equal(await logoutButton(page).count(), 0, 'this browser is logged out');
    await axeCheck(page);

    await visit(elsewhere, '/account');
    assert.equal(pathOf(elsewhere), '/login', 'the other browser is logged out too');
    await other.close();
  });
});
