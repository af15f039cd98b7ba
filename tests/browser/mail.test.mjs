// The mail flows in a real browser: a new account confirms its address from the mail's link,
// and a forgotten password is reset from the mail's link. The demo app writes its mails as
// .eml files into SAMSKAB_APP_MAILDIR (set by tests/run); every page is checked with axe.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  axeCheck,
  launchBrowser,
  login,
  logout,
  newContext,
  pathOf,
  submitFormOf,
  visit,
} from './lib.mjs';

const MAILDIR = process.env.SAMSKAB_APP_MAILDIR;

// The text part of a raw message, decoded (quoted-printable or base64).
function textPart(raw) {
  const parts = raw.split(/\r?\n--[^\r\n]+\r?\n/);
  const part = parts.find((p) => /^content-type:\s*text\/plain/im.test(p));
  assert.ok(part, 'the mail has a text part');
  const [head, ...rest] = part.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n');
  if (/content-transfer-encoding:\s*base64/i.test(head)) {
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

// Wait for a mail to `to` with a link under `path`; returns the link's path and query.
async function linkFromMail(to, path) {
  for (let i = 0; i < 100; i += 1) {
    const names = await readdir(MAILDIR).catch(() => []);
    for (const name of names.sort().reverse()) {
      const raw = await readFile(join(MAILDIR, name), 'utf8');
      if (!raw.includes(to)) continue;
      const match = textPart(raw).match(new RegExp(`https?://\\S+(${path}\\?token=[0-9a-f]+)`));
      if (match) return match[1];
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  assert.fail(`no mail to ${to} with a ${path} link in ${MAILDIR}`);
}

describe('mail flows', { timeout: 180_000, skip: MAILDIR ? false : 'SAMSKAB_APP_MAILDIR not set (run tests/run)' }, () => {
  const stamp = Date.now();
  const person = {
    displayName: `Post ${stamp}`,
    email: `post-${stamp}@example.org`,
    password: 'en lang adgangskode til test',
    newPassword: 'en anden lang adgangskode',
  };
  let browser;
  let context;
  let page;

  before(async () => {
    browser = await launchBrowser();
    context = await newContext(browser);
    page = await context.newPage();
    await visit(page, '/?lang=da');
  });
  after(async () => {
    await browser?.close();
  });

  it('registers, is asked to confirm the address, and confirms it from the mail', async () => {
    await visit(page, '/register');
    const form = page.locator('main form:has(input[name="password_confirm"])');
    await form.locator('input[name="display_name"]').fill(person.displayName);
    await form.locator('input[name="email"]').fill(person.email);
    await form.locator('input[name="password"]').fill(person.password);
    await form.locator('input[name="password_confirm"]').fill(person.password);
    await submitFormOf(page, form.locator('input[name="email"]'));
    assert.equal(pathOf(page), '/register/sent');
    assert.ok(await page.locator('#register-sent').isVisible(), 'the page says to check the inbox');
    await axeCheck(page);
    await login(page, person.email, person.password);
    assert.ok(await page.locator('#verify-notice').isVisible(), 'the notice asks to confirm the address');
    await axeCheck(page);

    const link = await linkFromMail(person.email, '/verify-email');
    await visit(page, link);
    assert.ok(await page.locator('#verify-done').isVisible(), 'the address is confirmed');
    assert.equal(await page.locator('#verify-notice').count(), 0, 'the notice is gone');
    await axeCheck(page);
  });

  it('shows the mail preferences', async () => {
    await visit(page, '/account/preferences');
    assert.ok(await page.locator('input#statements').isChecked());
    await axeCheck(page);
  });

  it('resets a forgotten password from the mail', async () => {
    await logout(page);
    await visit(page, '/login');
    await page.locator('a[href="/forgot-password"]').click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), '/forgot-password');
    const email = page.locator('main input[name="email"]');
    await email.fill(person.email);
    await submitFormOf(page, email);
    assert.ok(await page.locator('#reset-sent').isVisible());
    await axeCheck(page);

    const link = await linkFromMail(person.email, '/reset-password');
    await visit(page, link);
    await page.locator('input[name="password"]').fill(person.newPassword);
    await page.locator('input[name="password_confirm"]').fill(person.newPassword);
    await axeCheck(page);
    await submitFormOf(page, page.locator('input[name="password_confirm"]'));
    assert.equal(pathOf(page), '/login');
    await login(page, person.email, person.newPassword);

    // The link works once: the second visit offers a new one.
    await visit(page, link, { status: 400 });
    assert.ok(await page.locator('a[href="/forgot-password"].button').isVisible());
    await axeCheck(page);
  });
});
