// A publisher's web app that signs users in through Leerpoort by OpenID Connect and shows
// what it received. Node.js 20+, npm's openid-client (v6) and Node's own `http` module.
//
//   ISSUER=http://127.0.0.1:8080 CLIENT_ID=... CLIENT_SECRET=... node server.mjs
//
// Environment:
//   ISSUER         Leerpoort's issuer (default http://127.0.0.1:8080)
//   CLIENT_ID      the client id `leerpoort client add` printed (required)
//   CLIENT_SECRET  its client secret (required)
//   PORT           where this app listens on 127.0.0.1 (default 8081)
//   BASE_URL       this app's address as browsers see it (default http://127.0.0.1:PORT)
//   REDIRECT_URI   the registered redirect URI (default BASE_URL/callback)
//
// Routes: `/` (the "Inloggen via Leerpoort" button, or what the signed-in user's sign-in
// brought), `/login` (starts a sign-in; also the initiate_login_uri for school shortcuts),
// `/callback` (the redirect URI), `/logout`, and every other path is a "product page".

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import * as client from 'openid-client';

const ISSUER = process.env.ISSUER || 'http://127.0.0.1:8080';
const PORT = Number(process.env.PORT || 8081);
const BASE_URL = (process.env.BASE_URL || `http://127.0.0.1:${PORT}`).replace(/\/$/, '');
const REDIRECT_URI = process.env.REDIRECT_URI || `${BASE_URL}/callback`;
for (const name of ['CLIENT_ID', 'CLIENT_SECRET']) {
  if (!process.env[name]) throw new Error(`${name} is not set (see README.md)`);
}

// Discovery: every endpoint comes from ISSUER/.well-known/openid-configuration. The library
// refuses plain http unless told; allow it only for a Leerpoort on this machine (the demo).
const local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(ISSUER).hostname);
const config = await client.discovery(
  new URL(ISSUER),
  process.env.CLIENT_ID,
  process.env.CLIENT_SECRET,
  undefined,
  local ? { execute: [client.allowInsecureRequests] } : undefined,
);
const issuer = config.serverMetadata().issuer;

// Sessions in memory, keyed by a random cookie. A real app keeps them in its own store.
const sessions = new Map();
const COOKIE = 'voorbeeld_sessie';

function session(req, res) {
  const match = (req.headers.cookie || '').match(new RegExp(`(?:^|;\\s*)${COOKIE}=([\\w-]+)`));
  if (match && sessions.has(match[1])) return sessions.get(match[1]);
  const id = randomBytes(24).toString('base64url');
  const fresh = { pending: new Map() };
  sessions.set(id, fresh);
  // SameSite=Lax: the cookie comes along when Leerpoort redirects the browser back here.
  res.setHeader('Set-Cookie', `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`);
  return fresh;
}

// A deep link is followed only when it points into this app (OIDC Core §4: never redirect
// to a URL you do not own). Anything else lands on the home page.
function ownUrl(target) {
  try {
    const url = new URL(target);
    return url.origin === new URL(BASE_URL).origin ? url.href : null;
  } catch {
    return null;
  }
}

// GET /login: start the authorization code flow with PKCE, state and nonce. Leerpoort sends
// the browser here after a school shortcut (third-party-initiated login, OIDC Core §4) with
// `iss` and `target_link_uri`: the product the pupil opened, or this app's landing page.
async function login(url, s, res) {
  const iss = url.searchParams.get('iss');
  if (iss !== null && iss !== issuer) {
    return page(res, 400, 'Onbekende uitgever', `<p>Unknown iss: ${esc(iss)}</p>`);
  }
  const target = ownUrl(url.searchParams.get('target_link_uri') || '') || `${BASE_URL}/`;
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  s.pending.set(state, { verifier, nonce, target });
  const params = {
    redirect_uri: REDIRECT_URI,
    scope: 'openid groups', // `groups` brings the groups and niveau claims
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  // A login_hint passes on (INSTELLING_REF:<ref> takes a pupil straight to the school).
  const hint = url.searchParams.get('login_hint');
  if (hint) params.login_hint = hint;
  redirect(res, client.buildAuthorizationUrl(config, params).href);
}

// GET /callback: check state, exchange the code (PKCE), verify the ID token (signature,
// iss, aud, exp, nonce) and fetch userinfo; then open the page the sign-in was for.
async function callback(url, s, res) {
  const pending = s.pending.get(url.searchParams.get('state'));
  if (!pending) return page(res, 400, 'Inloggen mislukt', '<p>Unknown or reused state.</p>');
  s.pending.delete(url.searchParams.get('state'));
  if (url.searchParams.has('error')) {
    const why = `${url.searchParams.get('error')}: ${url.searchParams.get('error_description') || ''}`;
    return page(res, 403, 'Inloggen mislukt', `<p>${esc(why)}</p>`);
  }
  const tokens = await client.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: pending.verifier,
    expectedState: url.searchParams.get('state'),
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  s.user = { claims: { ...userinfo, ...claims }, idToken: tokens.id_token, target: pending.target };
  redirect(res, pending.target);
}

// GET /logout: RP-initiated logout when Leerpoort offers it, with the ID token as hint so
// that Leerpoort ends its session at once and sends the browser back to BASE_URL/.
function logout(s, res) {
  const user = s.user;
  delete s.user;
  if (!user || !config.serverMetadata().end_session_endpoint) return redirect(res, `${BASE_URL}/`);
  const url = client.buildEndSessionUrl(config, {
    id_token_hint: user.idToken,
    post_logout_redirect_uri: `${BASE_URL}/`,
    state: client.randomState(),
  });
  redirect(res, url.href);
}

// Every other page: the button when signed out, what Leerpoort sent when signed in.
function home(url, s, res) {
  if (!s.user) {
    return page(res, 200, 'Voorbeelduitgever',
      '<p><a class="button" href="/login">Inloggen via Leerpoort</a></p>');
  }
  const c = s.user.claims;
  const groups = (c.groups || []).map((g) => `${g.name} (${g.key})`).join(', ');
  const rows = [
    ['sub', 'sub (pairwise pseudonym)', c.sub],
    ['instelling_ref', 'school (INSTELLING_REF)', c.instelling_ref],
    ['brin6', 'BRIN6', c.brin6],
    ['role', 'role', c.role],
    ['login_context', 'login_context', c.login_context],
    ['groups', 'groups', groups],
    ['niveau', 'niveau', c.niveau === undefined ? '(not sent)' : c.niveau.join(', ')],
    ['target_link_uri', 'deep link (target_link_uri)', s.user.target],
    ['product', 'this page', url.pathname],
  ];
  const table = rows
    .map(([id, label, value]) => `<tr><th scope="row">${label}</th><td id="${id}">${esc(value ?? '')}</td></tr>`)
    .join('\n');
  page(res, 200, 'Ingelogd via Leerpoort',
    `<table>${table}</table><p><a href="/">Home</a> · <a href="/logout">Uitloggen</a></p>`);
}

function esc(value) {
  return String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function redirect(res, location) {
  res.writeHead(303, { Location: location }).end();
}

function page(res, status, title, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><main><h1>${title}</h1>${body}</main></body></html>`);
}

createServer(async (req, res) => {
  const url = new URL(req.url, BASE_URL);
  const s = session(req, res);
  try {
    if (req.method !== 'GET') return page(res, 405, 'Method not allowed', '');
    if (url.pathname === '/favicon.ico') return res.writeHead(404).end();
    if (url.pathname === '/login') return await login(url, s, res);
    if (url.pathname === new URL(REDIRECT_URI).pathname) return await callback(url, s, res);
    if (url.pathname === '/logout') return logout(s, res);
    return home(url, s, res);
  } catch (err) {
    console.error(err);
    page(res, 502, 'Inloggen mislukt', `<p>${esc(err.message)}</p>`);
  }
}).listen(PORT, '127.0.0.1', () => {
  console.log(`Listening on ${BASE_URL} (issuer ${issuer})`);
});
