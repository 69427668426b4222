// A stand-in OpenID provider for the console's sign-in test: no real provider (Keycloak, Dex,
// an identity cloud) is packaged in Debian to run here. It does what a provider does for a
// public client that uses the authorization-code flow with PKCE (RFC 7636), and checks what a
// strict one checks: the redirect URI and client, S256 only, a code used once within a minute,
// the verifier against the challenge. The user is fixed (--subject, --groups): signing in at
// /authorize needs no form.
//
//   node stand_in_idp.mjs --client-id ID --jwks-file FILE [--subject S] [--groups a,b]
//
// Writes the public key set to FILE (the gateway's `jwks_file`), then prints {"port": N} on a
// line once listening on 127.0.0.1; its issuer is http://127.0.0.1:N/. Every refusal is
// printed as {"refused": "..."}; every token issued as {"issued": SUBJECT}.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const clientId = argument('--client-id');
const jwksFile = argument('--jwks-file');
const subject = argument('--subject', 'lee');
const groups = argument('--groups', 'leads').split(',');
if (!clientId || !jwksFile) {
  console.error('usage: stand_in_idp.mjs --client-id ID --jwks-file FILE');
  process.exit(2);
}

const base64url = (bytes) => Buffer.from(bytes).toString('base64url');
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keyId = 'stand-in-1';
writeFileSync(
  jwksFile,
  JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: keyId, alg: 'RS256', use: 'sig' }] }),
);

function idToken(issuer, nonce) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: keyId }));
  const claims = base64url(
    JSON.stringify({ iss: issuer, aud: clientId, sub: subject, groups, nonce, iat: now, exp: now + 600 }),
  );
  const signature = sign('sha256', Buffer.from(`${header}.${claims}`), privateKey);
  return `${header}.${claims}.${base64url(signature)}`;
}

// Codes handed out at /authorize, by code: what /token must be asked with.
const codes = new Map();

function reply(response, status, body, headers = {}) {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

function refuse(response, status, error, headers = {}) {
  print({ refused: error });
  reply(response, status, { error }, headers);
}

const server = createServer((request, response) => {
  const issuer = `http://127.0.0.1:${server.address().port}/`;
  const url = new URL(request.url, issuer);
  // The console fetches discovery and the token endpoint from its own origin.
  const cors = { 'Access-Control-Allow-Origin': request.headers.origin ?? '*' };
  if (request.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
    return reply(
      response,
      200,
      {
        issuer,
        authorization_endpoint: `${issuer}authorize`,
        token_endpoint: `${issuer}token`,
        jwks_uri: `${issuer}jwks`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      },
      cors,
    );
  }
  if (request.method === 'GET' && url.pathname === '/authorize') {
    const p = url.searchParams;
    if (p.get('client_id') !== clientId) return refuse(response, 400, 'unknown client');
    if (p.get('response_type') !== 'code') return refuse(response, 400, 'unsupported response type');
    if (p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge'))
      return refuse(response, 400, 'PKCE with S256 is required');
    const redirect = p.get('redirect_uri');
    if (!redirect) return refuse(response, 400, 'no redirect_uri');
    const code = base64url(randomBytes(24));
    codes.set(code, {
      challenge: p.get('code_challenge'),
      redirect,
      nonce: p.get('nonce'),
      expires: Date.now() + 60_000,
    });
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    if (p.get('state') !== null) back.searchParams.set('state', p.get('state'));
    response.writeHead(302, { Location: back.href });
    return response.end();
  }
  if (request.method === 'POST' && url.pathname === '/token') {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const form = new URLSearchParams(body);
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (form.get('grant_type') !== 'authorization_code')
        return refuse(response, 400, 'unsupported_grant_type', cors);
      if (!grant || grant.expires < Date.now()) return refuse(response, 400, 'invalid_grant: code', cors);
      if (form.get('client_id') !== clientId) return refuse(response, 400, 'invalid_client', cors);
      if (form.get('redirect_uri') !== grant.redirect)
        return refuse(response, 400, 'invalid_grant: redirect_uri', cors);
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier) || challenge !== grant.challenge)
        return refuse(response, 400, 'invalid_grant: code_verifier', cors);
      print({ issued: subject });
      return reply(
        response,
        200,
        {
          token_type: 'Bearer',
          access_token: base64url(randomBytes(24)),
          id_token: idToken(issuer, grant.nonce),
          expires_in: 600,
        },
        cors,
      );
    });
    return undefined;
  }
  return refuse(response, 404, `no such endpoint ${request.method} ${url.pathname}`);
});

server.listen(0, '127.0.0.1', () => print({ port: server.address().port }));
