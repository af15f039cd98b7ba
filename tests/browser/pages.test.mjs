// Every page, in both languages, for every kind of visitor: it answers, has a visible <h1>,
// a skip link to <main id="main">, the right <html lang>, and no axe-core violations.
import { after, before, describe, it } from 'node:test';
import {
  checkPage,
  launchBrowser,
  login,
  mainLink,
  newContext,
  visit,
} from './lib.mjs';

const LOCALES = ['da', 'en'];

// Demo users (password demo-password) and the pages each of them may see.
const VISITORS = [
  { name: 'logged out', email: null, role: 'anonymous' },
  { name: 'citizen', email: 'borger@example.org', role: 'citizen' },
  { name: 'moderator', email: 'moderator@example.org', role: 'moderator' },
  { name: 'administrator', email: 'admin@example.org', role: 'admin' },
  { name: 'politician', email: 'politiker@example.org', role: 'politician' },
];

const CONSULTATION_LINK = /^\/consultations\/[^/]+/;
const STAFF_EDIT_LINK = /^\/staff\/consultations\/.+\/edit$/;

function pagesFor(role) {
  const loggedIn = role !== 'anonymous';
  const staff = role === 'moderator' || role === 'admin';
  const pages = [
    { title: '/', path: '/' },
    { title: '/consultations', path: '/consultations' },
    { title: 'first consultation', from: '/consultations', link: CONSULTATION_LINK },
    { title: '/privacy', path: '/privacy' },
  ];
  if (!loggedIn) {
    pages.push(
      { title: '/login', path: '/login' },
      { title: '/register', path: '/register' },
      { title: '/register/sent', path: '/register/sent' },
      { title: '/forgot-password', path: '/forgot-password' },
      // A reset link that does not work: the page that offers a new one.
      { title: '/reset-password (bad link)', path: '/reset-password?token=0', status: 400 },
    );
  }
  if (loggedIn) {
    pages.push(
      { title: '/account', path: '/account' },
      { title: '/account/preferences', path: '/account/preferences' },
    );
  }
  if (staff) {
    pages.push(
      { title: '/staff/consultations', path: '/staff/consultations' },
      { title: '/staff/consultations/new', path: '/staff/consultations/new' },
      { title: 'edit first consultation', from: '/staff/consultations', link: STAFF_EDIT_LINK },
    );
  }
  if (role === 'admin') pages.push({ title: '/admin/users', path: '/admin/users' });
  pages.push({ title: '/does-not-exist (404)', path: '/does-not-exist', status: 404 });
  return pages;
}

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

for (const locale of LOCALES) {
  for (const visitor of VISITORS) {
    describe(`${locale}, ${visitor.name}`, { timeout: 180_000 }, () => {
      let context;
      let page;

      before(async () => {
        context = await newContext(browser);
        page = await context.newPage();
        // The language is chosen once and then remembered by a cookie.
        await visit(page, `/?lang=${locale}`);
        if (visitor.email) {
          await login(page, visitor.email);
          // A user's stored language may take over at login: choose again.
          await visit(page, `/?lang=${locale}`);
        }
      });
      after(async () => {
        await context?.close();
      });

      for (const target of pagesFor(visitor.role)) {
        it(target.title, async () => {
          let path = target.path;
          if (target.link) {
            await visit(page, target.from);
            ({ path } = await mainLink(page, target.link));
          }
          await visit(page, path, { status: target.status });
          await checkPage(page, { locale });
        });
      }
    });
  }
}
