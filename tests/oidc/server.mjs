// Test OpenID Provider for Samskab: an `oidc-provider` instance issuing MitID-shaped
// claims (sub, birthdate, level of assurance, municipality code) for test users.
//
//   PORT=9400 node tests/oidc/server.mjs
//
// Issuer: http://127.0.0.1:$PORT. One confidential client:
//   client id     $OIDC_CLIENT_ID     (default "samskab")
//   client secret $OIDC_CLIENT_SECRET (default "samskab-test-secret")
// Any redirect URI on http://127.0.0.1 or http://localhost ending in /callback is accepted,
// so the app may run on any port.
//
// Log in at the built-in form (GET/POST /interaction/:uid, fields prompt=login, login=<user>,
// password=<anything>). Known users are below; any other login name becomes a user of
// that `sub` with the defaults. Consent is granted automatically.
import Provider from 'oidc-provider';

const PORT = Number(process.env.PORT || 9400);
const ISSUER = `http://127.0.0.1:${PORT}`;

// MitID-shaped test users. Extra or changed users: OIDC_TEST_USERS='{"name": {...}}'.
const USERS = {
  anna: { birthdate: '1990-05-01', mitid_loa: 'SUBSTANTIAL', municipality_code: '0751', name: 'Anna Andersen' },
  bo: { birthdate: '2012-03-15', mitid_loa: 'SUBSTANTIAL', municipality_code: '0751', name: 'Bo Berg' },
  carl: { birthdate: '1955-11-30', mitid_loa: 'HIGH', municipality_code: '0101', name: 'Carl Christensen' },
  dorte: { birthdate: '1980-01-01', mitid_loa: 'LOW', municipality_code: '0751', name: 'Dorte Dam' },
  ...JSON.parse(process.env.OIDC_TEST_USERS || '{}'),
};
const DEFAULTS = { birthdate: '1985-06-15', mitid_loa: 'SUBSTANTIAL', municipality_code: '0751' };

const configuration = {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID || 'samskab',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'samskab-test-secret',
      redirect_uris: [`http://127.0.0.1:8080/auth/oidc/mitid/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  claims: {
    openid: ['sub'],
    mitid: ['mitid_loa', 'birthdate', 'municipality_code'],
    profile: ['name', 'birthdate'],
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
    return {
      accountId: sub,
      async claims() {
        return { sub, ...user };
      },
    };
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
};

const provider = new Provider(ISSUER, configuration);
provider.proxy = false;

// Loopback redirect URIs on any port (the app under test binds a free port).
const loopback = /^http:\/\/(127\.0\.0\.1|localhost):\d+\/.*\/callback$/;
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  return loopback.test(value);
};

provider.on('server_error', (_ctx, err) => console.error('server_error', err));
provider.listen(PORT, '127.0.0.1', () => {
  console.log(`test OpenID Provider: issuer ${ISSUER}`);
});
