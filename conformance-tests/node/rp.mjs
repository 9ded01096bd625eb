// A relying party built on panva's openid-client (v6), for Leerpoort's conformance tests: a
// client nobody in this project wrote. It does discovery, the authorization code flow with
// PKCE (S256), state and nonce, the token request (client_secret_post, the library's default),
// ID token validation including its signature (non-repudiation checks on), and userinfo.
//
//   OIDC_ISSUER=http://127.0.0.1:8080 OIDC_CLIENT_ID=demo-uitgeverij \
//   OIDC_CLIENT_SECRET=... OIDC_REDIRECT_URI=http://127.0.0.1:8081/callback \
//   [OIDC_SCOPE="openid email"] node rp.mjs
//
// stdout gets one JSON line with the authorization URL. Sign in there (a browser, or the Rust
// test's browser), then give the URL the server redirected to as one line on stdin. stdout then
// gets one JSON line with the verified ID token claims, the userinfo response and the token
// metadata, or {"error": ...} with exit status 1.

import * as client from 'openid-client';
import { createInterface } from 'node:readline';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function print(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function readLine(prompt) {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    process.stderr.write(prompt);
    rl.once('line', (line) => {
      resolve(line.trim());
      rl.close();
    });
    rl.once('close', () => reject(new Error('stdin closed before a callback URL came')));
  });
}

async function main() {
  const issuer = new URL(required('OIDC_ISSUER'));
  const redirectUri = required('OIDC_REDIRECT_URI');
  const scope = process.env.OIDC_SCOPE || 'openid';

  // Loopback tests run on http; the library refuses that unless told.
  const config = await client.discovery(
    issuer,
    required('OIDC_CLIENT_ID'),
    required('OIDC_CLIENT_SECRET'),
    undefined,
    { execute: [client.allowInsecureRequests] },
  );
  client.enableNonRepudiationChecks(config);

  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  print({ authorization_url: authorizationUrl.href });

  const callback = await readLine('Sign in at authorization_url, then paste the URL you were sent to:\n');
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  print({
    id_token_claims: claims,
    userinfo,
    token_type: tokens.token_type,
    expires_in: tokens.expiresIn() ?? null,
    scope: tokens.scope ?? null,
    refresh_token_issued: typeof tokens.refresh_token === 'string',
  });
}

main().catch((err) => {
  print({ error: String(err && err.message ? err.message : err), code: err?.code ?? null, cause: err?.cause ? String(err.cause?.message ?? err.cause) : null });
  process.exitCode = 1;
});
