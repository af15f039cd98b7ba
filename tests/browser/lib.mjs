// Shared helpers for Samskab's browser tests: Debian chromium driven by playwright-core,
// pages checked with axe-core. The app under test runs at SAMSKAB_BASE_URL (tests/run
// starts it with `samskab serve --demo`, whose demo users all have the password below).
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const BASE = (() => {
  const url = process.env.SAMSKAB_BASE_URL;
  if (!url) {
    throw new Error('SAMSKAB_BASE_URL is not set: run the browser tests through tests/run');
  }
  return url.replace(/\/+$/, '');
})();

export const DEMO_PASSWORD = 'demo-password';
export const CHROMIUM = process.env.SAMSKAB_CHROMIUM ?? '/usr/bin/chromium';

// Timeouts for one step; a test may take a few dozen steps.
const STEP_TIMEOUT_MS = 15_000;
const NAVIGATION_TIMEOUT_MS = 30_000;

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

const contextsWithoutJavaScript = new WeakSet();

// A fresh context: its own cookies, so its own session and locale.
export async function newContext(browser, { javaScriptEnabled = true } = {}) {
  const context = await browser.newContext({ baseURL: BASE, javaScriptEnabled });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
  if (!javaScriptEnabled) contextsWithoutJavaScript.add(context);
  return context;
}

// Path of the page the browser shows now, e.g. "/consultations".
export function pathOf(page) {
  return new URL(page.url()).pathname;
}

// Go to PATH and assert the HTTP status: below 400, or exactly `status` when given.
export async function visit(page, path, { status } = {}) {
  const response = await page.goto(path);
  assert.ok(response, `no response for ${path}`);
  if (status === undefined) {
    assert.ok(response.status() < 400, `GET ${path} answered ${response.status()}`);
  } else {
    assert.equal(response.status(), status, `GET ${path} status`);
  }
  return response;
}

// Submit the form that FIELD belongs to, by clicking its submit button, and wait for the
// resulting page. Works with JavaScript off (a real form post).
export async function submitFormOf(page, field) {
  const form = field.locator('xpath=ancestor::form[1]');
  const button = form
    .locator('button:not([type]), button[type="submit"], input[type="submit"]')
    .first();
  await button.click();
  await page.waitForLoadState('load');
}

// Log in through the form at /login and assert that it worked.
export async function login(page, email, password = DEMO_PASSWORD) {
  await visit(page, '/login');
  const form = page.locator('main form:has(input[name="password"])');
  await form.locator('input[name="email"]').fill(email);
  await form.locator('input[name="password"]').fill(password);
  await submitFormOf(page, form.locator('input[name="password"]'));
  assert.notEqual(pathOf(page), '/login', `login as ${email} did not leave /login`);
  assert.ok(await logoutButton(page).isVisible(), `no log-out button after logging in as ${email}`);
}

// The log-out button: a POST form in the page header whose action mentions "logout".
export function logoutButton(page) {
  return page
    .locator('header form[action*="logout"]')
    .locator('button, input[type="submit"]')
    .first();
}

export async function logout(page) {
  await logoutButton(page).click();
  await page.waitForLoadState('load');
  assert.equal(await logoutButton(page).count(), 0, 'still a log-out button after logging out');
}

// Run axe-core with its default rules (WCAG A/AA and best practices) and fail with a
// readable list of violations.
export async function axeCheck(page) {
  const results = contextsWithoutJavaScript.has(page.context())
    ? await axeWithoutJavaScript(page)
    : await new AxeBuilder({ page }).analyze();
  if (results.violations.length === 0) return;
  const lines = [`${results.violations.length} accessibility violation(s) on ${page.url()}:`];
  for (const v of results.violations) {
    lines.push(`- ${v.id} [${v.impact}]: ${v.help} (${v.helpUrl})`);
    for (const node of v.nodes.slice(0, 5)) {
      lines.push(`    at ${node.target.join(' ')}: ${node.failureSummary?.split('\n').slice(1).join(' ').trim() ?? ''}`);
    }
    if (v.nodes.length > 5) lines.push(`    ... and ${v.nodes.length - 5} more`);
  }
  assert.fail(lines.join('\n'));
}

// axe-core runs inside the page, and a page with JavaScript off cannot run it (its timers
// even crash the renderer). So the HTML this page shows is opened again, at the same URL and
// with the same cookies, in a scratch context with JavaScript on but every script of the app
// blocked, and checked there: same markup, same CSS, no enhancement.
async function axeWithoutJavaScript(page) {
  const url = page.url().replace(/#.*$/, '');
  const html = await page.content();
  const scratch = await page.context().browser().newContext({
    baseURL: BASE,
    storageState: await page.context().storageState(),
  });
  try {
    const copy = await scratch.newPage();
    await copy.route('**/*', (route) => {
      const request = route.request();
      if (request.isNavigationRequest() && request.url() === url) {
        return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      }
      if (request.resourceType() === 'script') return route.abort();
      return route.continue();
    });
    await copy.goto(url);
    return await new AxeBuilder({ page: copy }).analyze();
  } finally {
    await scratch.close();
  }
}

// What every page of the app must have: the locale as <html lang>, a skip link as the first
// thing Tab reaches that points at <main id="main">, and a visible <h1>; then axe.
// Needs JavaScript on (it asks the page what has focus).
export async function checkPage(page, { locale } = {}) {
  const where = pathOf(page);
  if (locale) {
    assert.equal(await page.locator('html').getAttribute('lang'), locale, `<html lang> on ${where}`);
  }
  assert.equal(await page.locator('main#main').count(), 1, `one <main id="main"> on ${where}`);
  const h1 = page.locator('h1').first();
  assert.ok(await h1.isVisible(), `a visible <h1> on ${where}`);
  assert.notEqual((await h1.innerText()).trim(), '', `a non-empty <h1> on ${where}`);

  await page.keyboard.press('Tab');
  const skip = await page.evaluate(() => {
    const el = document.activeElement;
    const href = el?.getAttribute('href') ?? '';
    const target = href.startsWith('#') ? document.getElementById(href.slice(1)) : null;
    return { href, tag: el?.tagName, leadsToMain: !!target?.closest('main') };
  });
  assert.ok(
    skip.leadsToMain,
    `Tab on ${where} reached <${skip.tag?.toLowerCase()} href="${skip.href}">, not a skip link to <main>`,
  );

  await axeCheck(page);
}

// The first link under <main> whose same-origin path matches PATTERN, as { path, locator };
// fails when there is none.
export async function mainLink(page, pattern) {
  // Attributes only, no page scripts: this works with JavaScript off too.
  const links = page.locator('main a[href]');
  const origin = new URL(BASE).origin;
  const count = await links.count();
  for (let i = 0; i < count; i += 1) {
    const url = new URL(await links.nth(i).getAttribute('href'), page.url());
    if (url.origin === origin && pattern.test(url.pathname)) {
      return { path: url.pathname, locator: links.nth(i) };
    }
  }
  assert.fail(`no link matching ${pattern} under <main> on ${pathOf(page)}`);
}

// The two screens pages are checked on: a desktop and a 375 px phone.
export const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 375, height: 740 },
];

// How far the page scrolls sideways (0 or less: it fits the screen).
export async function sidewaysOverflow(page) {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}
