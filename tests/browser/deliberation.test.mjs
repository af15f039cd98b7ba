// A citizen without JavaScript and without an account votes through the demo conversation,
// changes a vote in the list, writes a statement (first with an error), and sees their
// opinion group once the background recompute has run. Every page passes axe.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { axeCheck, launchBrowser, mainLink, newContext, pathOf, visit } from './lib.mjs';

const SLUG = 'sikre-cykelruter-til-skole-i-aarhus-vest';
const VOTING = `/consultations/${SLUG}/statements`;
const stamp = `${Date.now()}-${process.pid}`;

async function progress(page) {
  const text = await page.locator('.progress').innerText();
  const match = text.match(/(\d+) af (\d+)/);
  assert.ok(match, `no "n af m" in "${text}"`);
  return { voted: Number(match[1]), total: Number(match[2]) };
}

describe('the conversation without JavaScript', { timeout: 240_000 }, () => {
  let browser;
  let page;

  before(async () => {
    browser = await launchBrowser();
    const context = await newContext(browser, { javaScriptEnabled: false });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
  });

  it('finds the conversation from the consultation page', async () => {
    await visit(page, `/consultations/${SLUG}`);
    const link = await mainLink(page, /\/statements$/);
    await link.locator.click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), VOTING);
    assert.deepEqual(await progress(page), { voted: 0, total: 20 });
    await axeCheck(page);
  });

  it('votes on every statement, one at a time, with plain form posts', async () => {
    const choices = ['agree', 'disagree', 'pass'];
    const seen = new Set();
    for (let i = 0; ; i += 1) {
      const form = page.locator('form.vote-buttons');
      if ((await form.count()) === 0) break;
      assert.ok(i < 25, 'the conversation never ended');
      const statement = (await page.locator('#current-statement').innerText()).trim();
      assert.ok(!seen.has(statement), `"${statement}" was shown twice`);
      seen.add(statement);
      await form.locator(`button[value="${choices[i % 3]}"]`).click();
      await page.waitForLoadState('load');
      assert.equal(pathOf(page), VOTING);
      assert.equal((await progress(page)).voted, i + 1);
      if (i === 10) await axeCheck(page);
    }
    assert.equal(seen.size, 20);
    assert.ok(await page.locator('#all-voted').isVisible(), 'no "all voted" message');
    await axeCheck(page);
  });

  it('changes a vote in the list of all statements', async () => {
    await visit(page, `${VOTING}/all`);
    const first = page.locator('.statement-item').first();
    const pressed = await first.locator('[aria-pressed="true"]').getAttribute('value');
    const other = pressed === 'agree' ? 'disagree' : 'agree';
    await first.locator(`button[value="${other}"]`).click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), `${VOTING}/all`);
    assert.equal(
      await page.locator('.statement-item').first().locator('[aria-pressed="true"]').getAttribute('value'),
      other,
    );
    await axeCheck(page);
  });

  it('explains a statement that is too short, then accepts a good one', async () => {
    await visit(page, VOTING);
    const textarea = page.locator('textarea#body');
    assert.equal(await textarea.getAttribute('maxlength'), '200');
    await textarea.fill('?!');
    await page.locator('main form:has(textarea#body) button[type="submit"]').click();
    await page.waitForLoadState('load');
    const error = page.locator('#body-error');
    assert.ok(await error.isVisible(), 'no error next to the field');
    assert.match(await textarea.getAttribute('aria-describedby'), /body-error/);
    await axeCheck(page);

    const text = `Der bør være cykelhjelme til låns på skolen (${stamp})`;
    await page.locator('textarea#body').fill(text);
    await page.locator('main form:has(textarea#body) button[type="submit"]').click();
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), VOTING);
    assert.ok(await page.locator('.flash').first().isVisible(), 'no confirmation');
    assert.match(await page.locator('.my-statements').innerText(), /cykelhjelme til låns/);
    // Post-moderation: it is shown to vote on at once, so there is one more to vote on.
    assert.deepEqual(await progress(page), { voted: 20, total: 21 });
    await axeCheck(page);
  });

  it('shows the opinion group in words once the groups are recomputed', async () => {
    let found = false;
    for (let i = 0; i < 30 && !found; i += 1) {
      await visit(page, VOTING);
      found = (await page.locator('#group-heading').count()) > 0;
      if (!found) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(found, 'no opinion group shown 30 s after voting');
    assert.match(await page.locator('#group-heading').innerText(), /meningsgruppe [A-E]/);
    await axeCheck(page);
  });
});
