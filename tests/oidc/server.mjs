// Test OpenID Provider for Samskab: an `oidc-provider` instance issuing MitID-shaped
// claims (sub, birthdate, level of assurance, municipality code) for test users.
//
//   PORT=9400 node tests/oidc/server.mjs
//
// Issuer: http://127.0.0.1:$PORT. Two confidential clients:
//   client id     $OIDC_CLIENT_ID     (default "samskab")
//   client secret $OIDC_CLIENT_SECRET (default "samskab-test-secret")
// and the staff directory's client "samskab-staff" / "samskab-staff-secret" (scope `groups`).
// Any redirect URI on http://127.0.0.1 or http://localhost ending in /callback is accepted,
// so the app may run on any port.
//
// Log in at the built-in form (GET/POST /interaction/:uid, fields prompt=login, login=<user>,
// password=<anything>). Known users are below; any other login name becomes a user of
// that `sub` with the defaults. Consent is granted automatically.
//
// Test-only behaviour, chosen per user:
//   groups               staff groups (scope `groups`), e.g. for the staff directory client
//   userinfo_only: true  the ID token carries only `sub`; the other claims come from userinfo
//   expired_id_token     the ID token is issued already expired
// The signing key is generated at every start, so a restart on the same port is a key
// rotation. GET /test/counts tells how often discovery and the JWKS were fetched.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const PORT = Number(process.env.PORT || 9400);
const ISSUER = `http://127.0.0.1:${PORT}`;

// MitID-shaped test users. Extra or changed users: OIDC_TEST_USERS='{"name": {...}}'.
const USERS = {
  anna: { birthdate: '1990-05-01', mitid_loa: 'SUBSTANTIAL', municipality_code: '0751', name: 'Anna Andersen' },
  bo: { birthdate: '2012-03-15', mitid_loa: 'SUBSTANTIAL', municipality_code: '0751', name: 'Bo Berg' },
  carl: { birthdate: '1955-11-30', mitid_loa: 'HIGH', municipality_code: '0101', name: 'Carl Christensen' },
  dorte: { birthdate: '1980-01-01', mitid_loa: 'LOW', municipality_code: '0751', name: 'Dorte Dam' },
  eva: { birthdate: '1970-02-02', mitid_loa: 'HIGH', municipality_code: '0751', expired_id_token: true },
  ulla: { birthdate: '1960-07-07', mitid_loa: 'HIGH', municipality_code: '0101', userinfo_only: true },
  // Staff directory users.
  mads: { name: 'Mads Moderator', groups: ['samskab-moderatorer', 'medarbejdere'] },
  alma: { name: 'Alma Admin', groups: ['samskab-admins'] },
  per: { name: 'Per Politiker', groups: ['byraadet'] },
  sif: { name: 'Sif Sagsbehandler', groups: ['medarbejdere'] },
  ...JSON.parse(process.env.OIDC_TEST_USERS || '{}'),
};
const DEFAULTS = { birthdate: '1985-06-15', mitid_loa: 'SUBSTANTIAL', municipality_code: '0751' };
const TEST_FLAGS = ['userinfo_only', 'expired_id_token'];

const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: randomUUID(),
  use: 'sig',
  alg: 'RS256',
};

const configuration = {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID || 'samskab',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'samskab-test-secret',
      redirect_uris: [`http://127.0.0.1:8080/auth/oidc/mitid/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    {
      client_id: 'samskab-staff',
      client_secret: 'samskab-staff-secret',
      redirect_uris: [`http://127.0.0.1:8080/auth/oidc/aarhus/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [signingKey] },
  claims: {
    openid: ['sub'],
    mitid: ['mitid_loa', 'birthdate', 'municipality_code'],
    profile: ['name', 'birthdate'],
    groups: ['groups'],
  },
  // Claims of the requested scopes go into the ID token too (as MitID brokers do).
  conformIdTokenClaims: false,
  cookies: { keys: ['samskab-test-op-cookie-key'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    // Grant everything that was asked for: the test OP has no consent screen.
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, sub) {
    const user = { ...DEFAULTS, ...(USERS[sub] || {}) };
    for (const flag of TEST_FLAGS) delete user[flag];
    return {
      accountId: sub,
      async claims(use) {
        if (use === 'id_token' && USERS[sub]?.userinfo_only) return { sub };
        return { sub, ...user };
      },
    };
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
};

const provider = new Provider(ISSUER, configuration);
provider.proxy = false;

// An ID token that expired ten minutes ago, for users marked `expired_id_token`.
const issue = provider.IdToken.prototype.issue;
provider.IdToken.prototype.issue = function issueMaybeExpired(options = {}) {
  if (options.use === 'idtoken' && USERS[this.available?.sub]?.expired_id_token) {
    return issue.call(this, { ...options, expiresAt: Math.floor(Date.now() / 1000) - 600 });
  }
  return issue.call(this, options);
};

// How often metadata was fetched, so tests can see that relying parties cache it.
const counts = { discovery: 0, jwks: 0 };
provider.use(async (ctx, next) => {
  if (ctx.path === '/test/counts') {
    ctx.body = counts;
    return;
  }
  if (ctx.path === '/.well-known/openid-configuration') counts.discovery += 1;
  if (ctx.path === '/jwks') counts.jwks += 1;
  await next();
});

// Loopback redirect URIs on any port (the app under test binds a free port).
const loopback = /^http:\/\/(127\.0\.0\.1|localhost):\d+\/.*\/callback$/;
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  return loopback.test(value);
};

provider.on('server_error', (_ctx, err) => console.error('server_error', err));
provider.listen(PORT, '127.0.0.1', () => {
  console.log(`test OpenID Provider: issuer ${ISSUER}`);
});
