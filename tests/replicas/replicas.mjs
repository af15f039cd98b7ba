// Two Samskab replicas on one PostgreSQL behind nginx (started by tests/replicas/run).
//
//   node replicas.mjs checks      sessions, votes, mail, scheduler, retention, throttle, logs,
//                                 metrics across both
//   node replicas.mjs load FILE   anonymous voters through the proxy until FILE exists;
//                                 prints the counts as JSON
//
// Environment: PROXY_URL, REPLICA_A, REPLICA_B (base URLs), PSQL (a psql command line as JSON
// array), METRICS_TOKEN, LOG_FILES (space separated), MAILDIR, DEPLOY_DIR.
// Every check counts side effects in the database or the mail sink, not log lines.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const PROXY = env.PROXY_URL;
const A = env.REPLICA_A;
const B = env.REPLICA_B;
const PSQL = JSON.parse(env.PSQL ?? '[]');
const DEMO_EMAILS = ['borger@example.org', 'moderator@example.org', 'admin@example.org', 'politiker@example.org'];
const DEMO_PASSWORD = 'demo-password';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sql(query) {
    const [cmd, ...args] = PSQL;
    return execFileSync(cmd, [...args, '-At', '-c', query], { encoding: 'utf8' }).trim();
}
const num = (query) => Number(sql(query));

/** A browser of its own: cookies kept per client, redirects not followed. */
class Browser {
    // `close`: one connection per request (see `load`).
    constructor({ close = false } = {}) {
        this.close = close;
        this.cookies = new Map();
        this.seen = new Set(); // every cookie value and CSRF token handed out (for the log scan)
    }
    async request(base, path, options = {}) {
        const headers = { ...(options.headers ?? {}) };
        if (this.close) headers.connection = 'close';
        if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        const res = await fetch(base + path, { ...options, headers, redirect: 'manual', signal: AbortSignal.timeout(30000) });
        for (const c of res.headers.getSetCookie()) {
            const [pair] = c.split(';');
            const i = pair.indexOf('=');
            const name = pair.slice(0, i);
            const value = pair.slice(i + 1);
            if (value === '' || /max-age=0/i.test(c)) this.cookies.delete(name);
            else {
                this.cookies.set(name, value);
                this.seen.add(value);
            }
        }
        return res;
    }
    async get(base, path) {
        const res = await this.request(base, path);
        return { res, body: await res.text() };
    }
    async csrf(base) {
        const { body } = await this.get(base, '/privacy');
        const m = body.match(/name="csrf-token" content="([^"]+)"/);
        assert.ok(m, 'page has a csrf token');
        this.seen.add(m[1]);
        return m[1];
    }
    async post(base, path, fields, token) {
        token ??= await this.csrf(base);
        const body = new URLSearchParams({ ...fields, csrf_token: token });
        const res = await this.request(base, path, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body,
        });
        await res.arrayBuffer();
        return res;
    }
}

function target() {
    const row = sql(`SELECT c.slug FROM consultations c WHERE c.status = 'open' AND c.has_conversation
                     ORDER BY c.id LIMIT 1`);
    assert.ok(row, 'an open consultation with a conversation (demo data)');
    const ids = sql(`SELECT s.id FROM statements s JOIN consultations c ON c.id = s.consultation_id
                     WHERE c.slug = '${row}' AND s.status = 'accepted' ORDER BY s.id`)
        .split('\n').filter(Boolean).map(Number);
    assert.ok(ids.length >= 3, 'the demo conversation has statements');
    return { slug: row, ids };
}

async function waitFor(what, fn, seconds = 60) {
    const until = Date.now() + seconds * 1000;
    for (;;) {
        if (await fn()) return;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await sleep(250);
    }
}

const results = {};
const browsers = [];

async function sessions() {
    const b = new Browser();
    browsers.push(b);
    const res = await b.post(A, '/login', { email: DEMO_EMAILS[0], password: DEMO_PASSWORD });
    assert.equal(res.status, 303, 'login on A');
    assert.equal((await b.get(B, '/account')).res.status, 200, 'the session from A is valid on B');
    const out = await b.post(B, '/logout', {});
    assert.equal(out.status, 303, 'logout on B');
    // The same cookie as before the logout, sent to A: the session is gone there too.
    const stale = new Browser();
    stale.cookies = new Map(b.cookies);
    const after = await stale.get(A, '/account');
    assert.equal(after.res.status, 303, 'after logout on B, A sends to the login page');
    results.sessions = 'login on A valid on B; logout on B ended it on A';
}

async function votes() {
    const { slug, ids } = target();
    const before = num('SELECT count(*) FROM votes') ;
    const hbefore = num('SELECT count(*) FROM vote_history');
    const voters = [new Browser(), new Browser(), new Browser()];
    browsers.push(...voters);
    let acknowledged = 0;
    for (const [n, v] of voters.entries()) {
        // One session (made on A), used on both replicas. Its first vote goes to A
        // alone: that request gives the anonymous visitor their participant token.
        // (Two simultaneous *first* requests of a fresh session still make two
        // participants, on one replica as on two: a known limit, see the changelog.)
        const token = await v.csrf(A);
        const first = await v.post(A, `/consultations/${slug}/statements/${ids[0]}/vote`, { vote: 'pass' }, token);
        assert.equal(first.status, 303);
        acknowledged += 1;
        for (const id of ids) {
            const path = `/consultations/${slug}/statements/${id}/vote`;
            const vote = n % 2 ? 'agree' : 'disagree';
            // The same vote sent to both replicas at once: stored once.
            const [ra, rb] = await Promise.all([v.post(A, path, { vote }, token), v.post(B, path, { vote }, token)]);
            assert.equal(ra.status, 303);
            assert.equal(rb.status, 303);
            acknowledged += 1;
        }
    }
    const stored = num('SELECT count(*) FROM votes') - before;
    const history = num('SELECT count(*) FROM vote_history') - hbefore;
    // The first 'pass' and the later vote on the same statement are two history entries.
    assert.equal(history, acknowledged, 'and appears once in the history');
    assert.equal(stored, acknowledged - voters.length, 'one current vote per statement and voter');
    // The recompute workers of both replicas: one snapshot per state of the votes.
    const cid = num(`SELECT id FROM consultations WHERE slug = '${slug}'`);
    await waitFor('a snapshot of the latest votes', () =>
        num(`SELECT count(*) FROM opinion_snapshots WHERE consultation_id = ${cid}
             AND vote_high_water_mark = (SELECT max(id) FROM vote_history WHERE consultation_id = ${cid})`) > 0);
    await sleep(1500); // several more rounds of both workers
    const dup = num(`SELECT count(*) FROM (SELECT consultation_id, kind, vote_high_water_mark FROM opinion_snapshots
                     GROUP BY 1, 2, 3 HAVING count(*) > 1) d`);
    assert.equal(dup, 0, 'no snapshot computed twice for the same votes');
    results.votes = { sent_twice: acknowledged, stored, history, duplicate_snapshots: dup };
}

function mailCount(address) {
    let n = 0;
    for (const sub of ['new', 'cur']) {
        const dir = join(env.MAILDIR, sub);
        if (!existsSync(dir)) continue;
        for (const f of readdirSync(dir)) {
            const text = readFileSync(join(dir, f), 'utf8');
            const to = text.match(/^To: (.*)$/im);
            if (to && to[1].includes(address)) n += 1;
        }
    }
    return n;
}

async function mail() {
    const before = DEMO_EMAILS.map(mailCount);
    const rows = num('SELECT count(*) FROM mail_outbox');
    for (const [i, email] of DEMO_EMAILS.entries()) {
        const b = new Browser();
        const res = await b.post(i % 2 ? B : A, '/forgot-password', { email });
        assert.equal(res.status, 200, `password reset for ${email}`);
    }
    assert.equal(num('SELECT count(*) FROM mail_outbox') - rows, DEMO_EMAILS.length);
    await waitFor('the outbox to be empty', () => num(`SELECT count(*) FROM mail_outbox WHERE status = 'pending'`) === 0);
    await sleep(2500); // more rounds of both senders: nothing is sent again
    const delivered = DEMO_EMAILS.map((e, i) => mailCount(e) - before[i]);
    assert.deepEqual(delivered, DEMO_EMAILS.map(() => 1), 'each mail delivered exactly once');
    results.mail = { queued: DEMO_EMAILS.length, delivered: delivered.reduce((a, b) => a + b, 0) };
}

const statusOf = (id) => sql(`SELECT status FROM consultations WHERE id = ${id}`);
const audits = (action, id, like = '%') => num(`SELECT count(*) FROM audit_log WHERE action = '${action}'
    AND subject_id = ${id} AND detail LIKE '${like}'`);

// The deadline scheduler runs on both replicas (every second here): each step of a
// consultation (open, reminder, close with its final snapshot) happens once.
async function scheduler() {
    const { slug } = target();
    const draft = sql(`SELECT id FROM consultations WHERE status = 'draft' ORDER BY id LIMIT 1`);
    const open = sql(`SELECT id FROM consultations WHERE status = 'open' AND slug <> '${slug}' ORDER BY id LIMIT 1`);
    assert.ok(draft && open, 'the demo has a draft and a second open consultation');
    // The draft's opening time has come and its deadline is within the reminder window;
    // the other open consultation's deadline has just passed.
    sql(`UPDATE consultations SET opens_at = now() - interval '1 minute',
         closes_at = now() + interval '1 hour', reminder_sent_at = NULL WHERE id = ${draft}`);
    sql(`UPDATE consultations SET closes_at = now() - interval '1 second' WHERE id = ${open}`);
    await waitFor('the schedulers to open, remind and close', () =>
        statusOf(draft) === 'open' && statusOf(open) === 'closed'
        && num(`SELECT count(*) FROM consultations WHERE id = ${draft} AND reminder_sent_at IS NOT NULL`) === 1);
    await sleep(3000); // several more rounds of both schedulers
    const counts = {
        opened: audits('consultation.status_changed', draft, '%(scheduled)'),
        reminded: audits('consultation.reminder_sent', draft),
        closed: audits('consultation.status_changed', open, '%(scheduled)'),
    };
    assert.deepEqual(counts, { opened: 1, reminded: 1, closed: 1 }, 'each scheduled step once');
    if (sql(`SELECT has_conversation FROM consultations WHERE id = ${open}`) === 't') {
        counts.final_snapshots = num(`SELECT count(*) FROM opinion_snapshots WHERE consultation_id = ${open}
                                      AND kind = 'final'`);
        assert.equal(counts.final_snapshots, 1, 'one final snapshot for the closing');
    }
    results.scheduler = counts;
}

// The retention job runs on both replicas (every second here): an account never confirmed
// is deleted once, an inactive citizen is warned once (one queued mail, one delivered).
async function retention() {
    const stamp = Date.now();
    const unconfirmed = `ubekraeftet-${stamp}@example.org`;
    const away = `vaek-${stamp}@example.org`;
    for (const email of [unconfirmed, away]) {
        const res = await new Browser().post(PROXY, '/register', {
            display_name: 'Borger Prøve', email,
            password: 'et langt kodeord 123', password_confirm: 'et langt kodeord 123',
        });
        assert.equal(res.status, 303, `registered ${email}`);
    }
    const gone = num(`SELECT id FROM users WHERE email = '${unconfirmed}'`);
    const warned = num(`SELECT id FROM users WHERE email = '${away}'`);
    // The address confirmation mails of the registration are out before counting.
    await waitFor('the registration mails', () => num(`SELECT count(*) FROM mail_outbox
        WHERE user_id IN (${gone}, ${warned}) AND status = 'pending'`) === 0);
    await sleep(500);
    const mailsBefore = mailCount(away);
    sql(`UPDATE users SET created_at = now() - interval '8 days' WHERE id = ${gone}`);
    sql(`UPDATE users SET email_verified = true, created_at = now() - interval '4 years',
         last_login_at = now() - interval '4 years' WHERE id = ${warned}`);
    await waitFor('the retention job to delete and warn', () =>
        num(`SELECT count(*) FROM users WHERE id = ${gone} AND deleted_at IS NOT NULL`) === 1
        && num(`SELECT count(*) FROM users WHERE id = ${warned} AND inactivity_warned_at IS NOT NULL`) === 1);
    await waitFor('the warning to be sent', () => num(`SELECT count(*) FROM mail_outbox
        WHERE user_id = ${warned} AND kind = 'inactive_account' AND status = 'pending'`) === 0);
    await sleep(3000); // several more rounds of both jobs and both mail senders
    const counts = {
        deletions: audits('user.deleted', gone),
        warnings_queued: num(`SELECT count(*) FROM mail_outbox WHERE user_id = ${warned} AND kind = 'inactive_account'`),
        warnings_delivered: mailCount(away) - mailsBefore,
    };
    assert.deepEqual(counts, { deletions: 1, warnings_queued: 1, warnings_delivered: 1 }, 'each once');
    results.retention = counts;
}

async function throttle() {
    const limit = Number(env.LOGIN_LIMIT);
    const b = new Browser();
    const statuses = [];
    for (let i = 0; i < limit + 1; i++) {
        const res = await b.post(i % 2 ? B : A, '/login', { email: DEMO_EMAILS[3], password: 'wrong-password-123' });
        statuses.push(res.status);
    }
    assert.deepEqual(statuses.slice(0, limit), Array(limit).fill(401), 'failures below the limit');
    assert.equal(statuses[limit], 429, 'the limit counts failures on both replicas together');
    // The right password is refused too while the address is throttled, on either replica.
    const other = new Browser();
    const res = await other.post(limit % 2 ? A : B, '/login', { email: DEMO_EMAILS[3], password: DEMO_PASSWORD });
    assert.equal(res.status, 429);
    results.throttle = { limit, statuses };
}

function metricNames(text) {
    const names = new Set();
    for (const line of text.split('\n')) {
        if (!line || line.startsWith('#')) continue;
        names.add(line.split(/[{ ]/)[0]);
    }
    return names;
}

async function metrics() {
    const open = await fetch(`${A}/metrics`);
    assert.equal(open.status, 401, '/metrics needs the token');
    const viaProxy = await fetch(`${PROXY}/metrics`);
    assert.notEqual(viaProxy.status, 200, 'the proxy does not pass /metrics on');
    const res = await fetch(`${A}/metrics`, { headers: { authorization: `Bearer ${env.METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    const names = metricNames(text);
    for (const n of ['samskab_http_requests_total', 'samskab_http_request_duration_seconds_bucket',
        'samskab_db_connections', 'samskab_votes_total', 'samskab_mail_outbox_pending',
        'samskab_recompute_duration_seconds_count', 'samskab_recompute_last_success_timestamp_seconds',
        'samskab_scheduler_lag_seconds']) {
        assert.ok(names.has(n), `scrape has ${n}`);
    }
    assert.match(text, /samskab_http_requests_total\{method="POST",route="\/consultations\/\{slug\}\/statements\/\{id\}\/vote",status="3xx"\}/);
    // Dashboard and alert rules name only metrics that exist.
    const base = (n) => n.replace(/_(bucket|sum|count)$/, '');
    const known = new Set([...names].map(base));
    const used = new Set();
    const dashboard = JSON.parse(readFileSync(join(env.DEPLOY_DIR, 'grafana/samskab-dashboard.json'), 'utf8'));
    const exprs = [];
    for (const p of dashboard.panels ?? []) for (const t of p.targets ?? []) exprs.push(t.expr);
    const rules = readFileSync(join(env.DEPLOY_DIR, 'prometheus/samskab-alerts.yml'), 'utf8');
    for (const m of rules.matchAll(/^\s*expr:\s*(.+)$/gm)) exprs.push(m[1]);
    assert.ok(exprs.length >= 8, 'dashboard and rules have expressions');
    for (const e of exprs) for (const m of e.matchAll(/\bsamskab_[a-z_]+/g)) used.add(base(m[0]));
    const missing = [...used].filter((n) => !known.has(n));
    assert.deepEqual(missing, [], 'every metric in deploy/ exists in a scrape');
    results.metrics = [...known].filter((n) => n.startsWith('samskab_')).sort();
}

async function requestIds() {
    const res = await fetch(`${PROXY}/privacy`);
    const id = res.headers.get('x-request-id');
    assert.ok(id && id.length >= 16, 'X-Request-Id header');
    results.request_id = id;
}

function scanLogs() {
    const secrets = new Set();
    for (const b of browsers) for (const s of b.seen) if (s.length >= 16) secrets.add(s);
    let lines = 0;
    let foundId = false;
    for (const file of env.LOG_FILES.split(' ').filter(Boolean)) {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
            if (!line.trim()) continue;
            lines += 1;
            let obj;
            try {
                obj = JSON.parse(line);
            } catch {
                assert.fail(`not one JSON object per line in ${file}: ${line.slice(0, 200)}`);
            }
            assert.ok(obj.timestamp && obj.level, 'log lines have time and level');
            for (const e of DEMO_EMAILS) assert.ok(!line.includes(e), `${file} names ${e}`);
            for (const s of secrets) assert.ok(!line.includes(s), `${file} holds a cookie or token`);
            assert.ok(!/password=|csrf_token=|[?&]token=/.test(line), `${file}: ${line.slice(0, 200)}`);
            if (results.request_id && line.includes(results.request_id)) foundId = true;
        }
    }
    assert.ok(foundId, 'the X-Request-Id of a response is in the log');
    results.logs = { lines, secrets_checked: secrets.size };
}

async function load(stopFile) {
    const { slug, ids } = target();
    const counts = { acknowledged: 0, status_5xx: 0, other: 0, errors: 0, by_status: {} };
    const worker = async () => {
        while (!existsSync(stopFile)) {
            // A new connection per request: taking a replica out reloads nginx, whose old
            // worker closes its idle client connections, and a request sent on one in that
            // instant fails in Node's fetch (a browser sends it again; fetch does not).
            const b = new Browser({ close: true });
            for (const id of ids) {
                if (existsSync(stopFile)) break;
                try {
                    const res = await b.post(PROXY, `/consultations/${slug}/statements/${id}/vote`, { vote: 'agree' });
                    counts.by_status[res.status] = (counts.by_status[res.status] ?? 0) + 1;
                    if (res.status === 303) counts.acknowledged += 1;
                    else if (res.status >= 500) counts.status_5xx += 1;
                    else counts.other += 1;
                } catch (e) {
                    counts.errors += 1;
                    counts.last_error = String(e);
                }
            }
        }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    console.log(JSON.stringify(counts));
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'load') {
    await load(arg);
} else {
    // Each check counts its side effects in the database or the mail sink: it makes work
    // due, waits several rounds of both replicas, and counts that each unit of work
    // happened exactly once.
    const checks = [sessions, votes, mail, scheduler, retention, throttle, metrics, requestIds];
    for (const check of checks) await check();
    await sleep(500);
    scanLogs();
    console.log(JSON.stringify(results, null, 2));
}
