// Consultations with a deadline, a timeline and an outcome, as the demo shows them: an open
// consultation with its deadline, timeline, material and contact; the published one with its
// banner and "Det kom der ud af"; and the staff pages for dates, confirmation, outcome and
// material. Every page in Danish and English, on a desktop and a 375 px phone, passes axe
// and never scrolls sideways; the confirmation step works with JavaScript off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkPage, launchBrowser, login, newContext, pathOf, visit } from './lib.mjs';

const OPEN = '/consultations/sikre-cykelruter-til-skole-i-aarhus-vest';
const PUBLISHED = '/consultations/aeldres-hverdag-mad-faellesskab-og-hjaelp';
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 375, height: 740 },
];

async function everyVariant(page, path, extra = async () => {}) {
  const sep = path.includes('?') ? '&' : '?';
  for (const locale of ['da', 'en']) {
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      await visit(page, `${path}${sep}lang=${locale}`);
      await checkPage(page, { locale });
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at ${viewport.name}`);
      await extra(locale);
    }
  }
}

describe('deadlines, timeline and outcome', { timeout: 300_000 }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('shows an open consultation with its deadline and timeline', async () => {
    const page = await (await newContext(browser)).newPage();
    await everyVariant(page, OPEN, async (locale) => {
      const deadline = (await page.locator('#deadline').innerText()).trim();
      if (locale === 'da') {
        assert.match(deadline, /Høringsfrist: \d{1,2}\. [a-zæøå]+ \d{4} kl\. 12\.00/);
        assert.match(deadline, /(\d+ dage tilbage|Lukker i (dag|morgen) kl\. 12\.00)/);
      } else {
        assert.match(deadline, /Deadline: \d{1,2} [A-Z][a-z]+ \d{4} at 12:00/);
      }
      const steps = page.locator('ol#timeline > li');
      assert.equal(await steps.count(), 5);
      assert.equal(await page.locator('ol#timeline > li[aria-current="step"]').count(), 1);
      assert.ok(await page.locator('#contact').isVisible(), 'a contact person');
      assert.equal(await page.locator('#status-banner').count(), 0);
    });
  });

  it('shows the published consultation with its outcome and no participation calls', async () => {
    const page = await (await newContext(browser)).newPage();
    await everyVariant(page, PUBLISHED, async (locale) => {
      assert.ok(await page.locator('#status-banner').isVisible(), 'a banner at the top');
      const heading = (await page.locator('#outcome-heading').innerText()).trim();
      assert.equal(heading, locale === 'da' ? 'Det kom der ud af' : 'What came of it');
      assert.equal(
        await page.locator('a.button[href$="/ideas"], a.button[href$="/statements"], a[href$="/ideas/new"]').count(),
        0,
        'no calls to take part',
      );
      assert.equal(await page.locator('main form[action*="/vote"], main form[action$="/statements"]').count(), 0);
      assert.equal(await page.locator('#deadline').count(), 0);
    });
  });

  it('gives staff dates, a confirmation step, the outcome and material pages', async () => {
    const page = await (await newContext(browser)).newPage();
    await login(page, 'moderator@example.org');
    const slug = OPEN.split('/').pop();
    await everyVariant(page, `/staff/consultations/${slug}/edit`, async () => {
      assert.equal(await page.locator('input#closes_at[type="datetime-local"]').count(), 1);
    });
    await everyVariant(page, `/staff/consultations/${slug}/confirm?to=closed`, async () => {
      assert.equal(await page.locator('input[name="confirm"]').getAttribute('value'), 'yes');
    });
    await everyVariant(page, `/staff/consultations/${slug}/material`);
    const published = PUBLISHED.split('/').pop();
    await everyVariant(page, `/staff/consultations/${published}/outcome`, async () => {
      assert.ok((await page.locator('#outcome_text').inputValue()).length > 0);
    });
  });

  it('asks for confirmation before closing, without JavaScript', async () => {
    const context = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await login(page, 'moderator@example.org');
    // The closed (not published) demo consultation can be archived: the button leads to
    // the confirmation page, and cancelling leaves it as it was.
    await visit(page, '/staff/consultations?lang=da');
    const hrefs = await page.locator('main a[href$="/edit"]').evaluateAll((as) =>
      as.map((a) => a.getAttribute('href')),
    );
    let found = false;
    for (const href of hrefs) {
      await visit(page, href);
      const archive = page.locator('form[action$="/status"]:has(input[name="to"][value="archived"]) button');
      if ((await archive.count()) === 0) continue;
      await archive.click();
      await page.waitForLoadState('load');
      assert.match(pathOf(page), /\/confirm$/);
      assert.equal((await page.locator('h1').innerText()).trim(), 'Vil du arkivere høringen?');
      await page.locator('a', { hasText: 'Fortryd' }).click();
      await page.waitForLoadState('load');
      assert.match(pathOf(page), /\/edit$/);
      found = true;
      break;
    }
    assert.ok(found, 'a consultation that can be archived');
  });
});
