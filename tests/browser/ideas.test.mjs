// The citizen journey for ideas, with JavaScript on and off: a citizen proposes an idea,
// another citizen supports and comments on it, staff answer officially, and the author
// sees the answer (and a notification). Every new page passes axe.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  axeCheck,
  checkPage,
  launchBrowser,
  login,
  newContext,
  pathOf,
  submitFormOf,
  visit,
} from './lib.mjs';

// The open demo consultation that accepts ideas (see backend/src/services/demo.rs).
const IDEAS = '/consultations/sikre-cykelruter-til-skole-i-aarhus-vest/ideas';
const AUTHOR = 'borger@example.org';
const SUPPORTER = 'karen@example.org';
const STAFF = 'moderator@example.org';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const javaScriptEnabled of [true, false]) {
  describe(`ideas journey, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, { timeout: 240_000 }, () => {
    const stamp = `${Date.now()}-${process.pid}-${javaScriptEnabled ? 'js' : 'nojs'}`;
    // The two journeys propose different ideas: a second, similar one would be met by
    // "Er det det samme som …?" (desk.test.mjs covers that page).
    const title = javaScriptEnabled ? `Cykelbøjler ved skolen ${stamp}` : `Bænke ved busstoppet ${stamp}`;
    const body = javaScriptEnabled
      ? 'Der er for få **cykelbøjler**, så cyklerne ligger i bunker.'
      : 'Ældre har brug for **bænke**, mens de venter på bussen om morgenen.';
    const answer = `Byrådet sætter 40 nye cykelbøjler op (${stamp}).`;
    const contexts = [];
    let ideaPath;

    // A logged-in page for EMAIL in its own context (own cookies, own session), in Danish.
    async function pageFor(email) {
      const context = await newContext(browser, { javaScriptEnabled });
      contexts.push(context);
      const page = await context.newPage();
      await login(page, email);
      await visit(page, '/?lang=da');
      return page;
    }
    // The full page check needs JavaScript (focus order); without it, axe alone.
    const check = (page) => (javaScriptEnabled ? checkPage(page, { locale: 'da' }) : axeCheck(page));

    after(async () => {
      for (const context of contexts) await context.close();
    });

    it('a citizen proposes an idea, after fixing a mistake', async () => {
      const page = await pageFor(AUTHOR);
      await visit(page, IDEAS);
      await check(page);
      await page.locator(`main a[href="${IDEAS}/new"]`).click();
      await page.waitForLoadState('load');
      assert.equal(pathOf(page), `${IDEAS}/new`);
      await check(page);

      // An empty form comes back with messages tied to the fields.
      await submitFormOf(page, page.locator('#title'));
      assert.equal(await page.locator('#title').getAttribute('aria-invalid'), 'true');
      assert.match(await page.locator('#title-error').innerText(), /Udfyld/);
      await check(page);

      await page.locator('#title').fill(title);
      await page.locator('#body').fill(body);
      await page.locator('#category').selectOption('Cykelstier');
      await page.locator('#place').fill('Hasle Skole');
      await submitFormOf(page, page.locator('#title'));
      assert.match(pathOf(page), /^\/ideas\/\d+$/);
      ideaPath = pathOf(page);
      assert.equal((await page.locator('h1').innerText()).trim(), title);
      await check(page);
    });

    it('another citizen supports and comments', async () => {
      const page = await pageFor(SUPPORTER);
      await visit(page, ideaPath);
      await submitFormOf(page, page.locator('main form[action$="/support"] button'));
      assert.equal(pathOf(page), ideaPath);
      assert.match(await page.locator('.support-count').innerText(), /^1 har støttet/);
      await page.locator('#comment-body').fill('God idé! Min datter cykler der hver dag.');
      await submitFormOf(page, page.locator('#comment-body'));
      assert.equal(pathOf(page), ideaPath);
      assert.ok(await page.getByText('God idé! Min datter cykler der hver dag.').isVisible());
      // The redirect lands on the new comment (#comment-N); check the page as loaded afresh.
      await visit(page, ideaPath);
      await check(page);
    });

    it('staff answer officially', async () => {
      const page = await pageFor(STAFF);
      await visit(page, '/staff/ideas');
      await check(page);
      await visit(page, ideaPath);
      await check(page);
      for (const [to, response] of [
        ['under_review', 'Vi undersøger pladsen ved skolen.'],
        ['accepted', answer],
      ]) {
        await page.locator('#status-to').selectOption(to);
        await page.locator('#response').fill(response);
        await submitFormOf(page, page.locator('#response'));
        assert.equal(pathOf(page), ideaPath);
      }
      assert.match(await page.locator('.idea .badge').innerText(), /Vedtaget/);
    });

    it('the author sees the answer and the notifications', async () => {
      const page = await pageFor(AUTHOR);
      const unread = page.locator('header a[href="/notifications"] .count');
      assert.ok(await unread.isVisible(), 'an unread count in the header');
      await page.locator('header a[href="/notifications"]').click();
      await page.waitForLoadState('load');
      assert.equal(pathOf(page), '/notifications');
      assert.ok(await page.getByText(title).first().isVisible());
      await check(page);
      await visit(page, ideaPath);
      assert.match(await page.locator('.answer').innerText(), new RegExp(answer.replace(/[().]/g, '\\$&')));
      assert.equal(await page.locator('.history li').count(), 3);
      await check(page);
    });
  });
}
