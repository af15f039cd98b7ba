// MitID login in the browser, through the real test OpenID Provider (tests/oidc), which
// tests/run starts and configures as the app's `mitid` provider: the button on the login
// page, the provider's login form, the display-name page of a first login (also with a
// refused name), and the error page when the person cancels at the provider. Every page of
// the app on the way passes checkPage (html lang, skip link, h1, axe-core), in da and en.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BASE, checkPage, launchBrowser, logoutButton, newContext, pathOf, visit } from './lib.mjs';

const OP = (() => {
  const issuer = process.env.SAMSKAB_TEST_OIDC_ISSUER;
  if (!issuer) {
    throw new Error('SAMSKAB_TEST_OIDC_ISSUER is not set: run the browser tests through tests/run');
  }
  return new URL(issuer).origin;
})();

const TEXT = {
  da: {
    button: 'Log ind med MitID',
    welcome: 'Vælg dit visningsnavn',
    linked: 'Din konto er forbundet med MitID',
    cancelled: 'Login blev afbrudt',
  },
  en: {
    button: 'Log in with MitID',
    welcome: 'Choose your display name',
    linked: 'Your account is connected to MitID',
    cancelled: 'The login was cancelled',
  },
};

// From the app's login page to the test OP's login form.
async function toProvider(page, locale) {
  await visit(page, `/?lang=${locale}`);
  await visit(page, '/login');
  await checkPage(page, { locale });
  const button = page.locator('main a[href^="/auth/oidc/mitid/start"]');
  assert.equal((await button.innerText()).trim(), TEXT[locale].button);
  await button.click();
  await page.waitForURL((url) => url.origin === OP && url.pathname.startsWith('/interaction/'));
}

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const locale of ['da', 'en']) {
  describe(`MitID login (${locale})`, { timeout: 120_000 }, () => {
    let context;
    let page;
    before(async () => {
      context = await newContext(browser);
      page = await context.newPage();
    });
    after(async () => {
      await context?.close();
    });

    it('a first login asks for a display name, then the citizen is logged in', async () => {
      await toProvider(page, locale);
      // Any login name is a test user with MitID-shaped defaults at the test OP.
      await page.locator('input[name="login"]').fill(`browser-${locale}-${Date.now()}`);
      await page.locator('input[name="password"]').fill('any password');
      await page.locator('form button[type="submit"]').click();
      await page.waitForURL(`${BASE}/auth/oidc/welcome`);
      assert.equal((await page.locator('h1').innerText()).trim(), TEXT[locale].welcome);
      await checkPage(page, { locale });

      // A refused name: the form again, with the error tied to the field.
      const name = page.locator('main input[name="display_name"]');
      await name.fill('A');
      await page.locator('main form button[type="submit"]').click();
      await page.waitForLoadState('load');
      assert.equal(pathOf(page), '/auth/oidc/welcome');
      assert.equal(await name.getAttribute('aria-invalid'), 'true');
      assert.ok(await page.locator('#display_name-error').isVisible());
      await checkPage(page, { locale });

      await name.fill(`Borger ${locale}`);
      await page.locator('main form button[type="submit"]').click();
      await page.waitForURL(`${BASE}/account`);
      assert.ok(await logoutButton(page).isVisible(), 'logged in');
      assert.ok((await page.locator('main').innerText()).includes(TEXT[locale].linked));
      await checkPage(page, { locale });
    });

    it('cancelling at the provider ends on a clear error page', async () => {
      const fresh = await newContext(browser);
      try {
        const other = await fresh.newPage();
        await toProvider(other, locale);
        await other.getByText('[ Cancel ]').click();
        await other.waitForURL((url) => url.origin === new URL(BASE).origin);
        assert.equal(pathOf(other), '/auth/oidc/mitid/callback');
        assert.ok((await other.locator('main').innerText()).includes(TEXT[locale].cancelled));
        assert.ok(await other.locator('main a[href="/login"]').isVisible(), 'a way back');
        await checkPage(other, { locale });
      } finally {
        await fresh.close();
      }
    });
  });
}
