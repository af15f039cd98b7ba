// Security the browser can see: response headers, cookie attributes, and that no page
// loads anything from another origin (no CDN, no trackers).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BASE, launchBrowser, login, logout, mainLink, newContext, visit } from './lib.mjs';

const ORIGIN = new URL(BASE).origin;

// CSP directives whose values are source lists.
const SOURCE_LIST = /-src(-elem|-attr)?$|^(form-action|frame-ancestors|base-uri|navigate-to)$/;

// Sources in a CSP that name another origin: anything but keywords ('self', 'none', nonces,
// hashes ...), data:/blob: and our own origin.
function foreignSources(csp) {
  const foreign = [];
  for (const directive of csp.split(';')) {
    const [name, ...values] = directive.trim().split(/\s+/);
    if (!name) continue;
    const lower = name.toLowerCase();
    const isReport = lower === 'report-uri' || lower === 'report-to';
    if (!SOURCE_LIST.test(lower) && !isReport) continue;
    for (const value of values) {
      if (/^'.*'$/.test(value) || value === 'data:' || value === 'blob:') continue;
      if (isReport && (value.startsWith('/') || lower === 'report-to')) continue;
      if (value.replace(/\/+$/, '') === ORIGIN) continue;
      foreign.push(`${lower} ${value}`);
    }
  }
  return foreign;
}

// Attributes of one Set-Cookie header: { name, value, attrs: Map(lowercase name -> value) }.
function parseSetCookie(header) {
  const [pair, ...attributes] = header.split(';');
  const eq = pair.indexOf('=');
  const attrs = new Map(
    attributes.map((a) => {
      const [k, ...v] = a.trim().split('=');
      return [k.toLowerCase(), v.join('=')];
    }),
  );
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs };
}

function isRemoval(cookie) {
  const expires = Date.parse(cookie.attrs.get('expires') ?? '');
  return cookie.attrs.get('max-age') === '0' || (!Number.isNaN(expires) && expires < Date.now());
}

describe('security', { timeout: 180_000 }, () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  for (const [path, status] of [['/', undefined], ['/login', undefined], ['/does-not-exist', 404]]) {
    it(`sends the security headers on ${path}`, async () => {
      const context = await newContext(browser);
      const page = await context.newPage();
      const headers = await (await visit(page, path, { status })).allHeaders();
      await context.close();

      const csp = headers['content-security-policy'];
      assert.ok(csp, `no content-security-policy header on ${path}`);
      assert.match(csp, /(^|;)\s*default-src\s+'self'(\s|;|$)/, `CSP on ${path}: ${csp}`);
      assert.deepEqual(foreignSources(csp), [], `CSP on ${path} names other origins: ${csp}`);
      assert.equal(headers['x-content-type-options']?.toLowerCase(), 'nosniff', `nosniff on ${path}`);
      assert.ok(headers['referrer-policy'], `no referrer-policy header on ${path}`);
    });
  }

  it('sets only samskab_ cookies, HttpOnly and SameSite=Lax, and loads nothing from elsewhere', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const requests = [];
    const setCookies = [];
    const pending = [];
    const cspViolations = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('response', (response) => {
      pending.push(
        response.headerValues('set-cookie').then((headers) => {
          for (const header of headers) {
            setCookies.push({ url: response.url(), cookie: parseSetCookie(header) });
          }
        }),
      );
    });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });

    // A tour that makes the app set its cookies: language, session, CSRF.
    await visit(page, '/?lang=en');
    await visit(page, '/consultations');
    const { path } = await mainLink(page, /^\/consultations\/[^/]+/);
    await visit(page, path);
    await visit(page, '/privacy');
    await visit(page, '/register');
    await login(page, 'borger@example.org');
    await visit(page, '/account');
    await visit(page, path);
    await logout(page);
    await Promise.all(pending);

    const foreign = requests.filter(
      (url) => !url.startsWith(`${BASE}/`) && url !== BASE && !/^(data|blob):/.test(url),
    );
    assert.deepEqual(foreign, [], 'requests to other origins');
    assert.deepEqual(cspViolations, [], 'the browser blocked something by CSP');

    assert.ok(setCookies.length > 0, 'the app set no cookie during a login');
    for (const { url, cookie } of setCookies) {
      const where = `cookie ${cookie.name} from ${url}`;
      assert.match(cookie.name, /^samskab_/, `${where}: name must start with samskab_`);
      if (isRemoval(cookie)) continue;
      assert.ok(cookie.attrs.has('httponly'), `${where} is not HttpOnly`);
      assert.equal(cookie.attrs.get('samesite')?.toLowerCase(), 'lax', `${where} is not SameSite=Lax`);
    }
    for (const cookie of await context.cookies()) {
      assert.match(cookie.name, /^samskab_/, `cookie ${cookie.name} in the browser`);
      assert.ok(cookie.httpOnly, `cookie ${cookie.name} in the browser is not HttpOnly`);
    }
    await context.close();
  });
});
