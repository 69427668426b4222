import { describe, expect, it } from 'vitest';
import {
  buildAuthorizationUrl,
  credentialFromTokenResponse,
  discoveryUrl,
  hasCallbackParameters,
  issuerHost,
  parsePending,
  readCallback,
  redirectUriFor,
  sameIssuer,
  sameSecret,
  serializePending,
  tokenRequestBody,
  urlWithoutCallback,
} from '../oidc';

function jwtWithClaims(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.signature`;
}

describe('OIDC URLs', () => {
  it('finds the discovery document under the issuer, with or without a trailing slash', () => {
    expect(discoveryUrl('https://idp.example/')).toBe('https://idp.example/.well-known/openid-configuration');
    expect(discoveryUrl('https://idp.example/realms/x')).toBe(
      'https://idp.example/realms/x/.well-known/openid-configuration',
    );
  });

  it('compares issuers without their trailing slash', () => {
    expect(sameIssuer('https://idp.example/', 'https://idp.example')).toBe(true);
    expect(sameIssuer('https://idp.example/', 'https://evil.example/')).toBe(false);
  });

  it('names a provider by its host', () => {
    expect(issuerHost('https://idp.example:8443/realms/a/')).toBe('idp.example:8443');
  });

  it('redirects back to the root of the console', () => {
    expect(redirectUriFor('https://gw.example:18080')).toBe('https://gw.example:18080/');
  });

  it('builds the authorization request with every PKCE parameter', () => {
    const url = new URL(
      buildAuthorizationUrl({
        authorizationEndpoint: 'https://idp.example/authorize?tenant=t1',
        clientId: 'portcullis-console',
        redirectUri: 'https://gw.example/',
        scopes: ['openid', 'profile', 'email'],
        state: 'the-state',
        nonce: 'the-nonce',
        codeChallenge: 'the-challenge',
      }),
    );
    expect(url.origin + url.pathname).toBe('https://idp.example/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 't1',
      response_type: 'code',
      client_id: 'portcullis-console',
      redirect_uri: 'https://gw.example/',
      scope: 'openid profile email',
      state: 'the-state',
      nonce: 'the-nonce',
      code_challenge: 'the-challenge',
      code_challenge_method: 'S256',
    });
  });
});

describe('OIDC callback', () => {
  it('reads a code and state', () => {
    expect(readCallback('?code=abc&state=xyz')).toEqual({ kind: 'code', code: 'abc', state: 'xyz', iss: null });
    expect(readCallback('?code=abc&state=xyz&iss=https%3A%2F%2Fidp.example%2F')).toEqual({
      kind: 'code',
      code: 'abc',
      state: 'xyz',
      iss: 'https://idp.example/',
    });
  });

  it('reads an error with its description first', () => {
    expect(readCallback('?error=access_denied&error_description=User+said+no&state=s')).toEqual({
      kind: 'error',
      message: 'access_denied: User said no',
    });
    expect(readCallback('?error=login_required')).toEqual({ kind: 'error', message: 'login_required' });
  });

  it('treats a page load without the parameters as no callback', () => {
    expect(readCallback('')).toEqual({ kind: 'none' });
    expect(readCallback('?code=only')).toEqual({ kind: 'none' });
    expect(hasCallbackParameters('?x=1')).toBe(false);
    expect(hasCallbackParameters('?state=1')).toBe(true);
  });

  it('removes only the provider parameters from the address', () => {
    expect(urlWithoutCallback('https://gw.example/?code=a&state=b&session_state=c&iss=d&keep=1#/journal')).toBe(
      '/?keep=1#/journal',
    );
    expect(urlWithoutCallback('https://gw.example/?code=a&state=b')).toBe('/');
  });

  it('accepts the state it sent and nothing else', () => {
    expect(sameSecret('abcdef', 'abcdef')).toBe(true);
    expect(sameSecret('abcdef', 'abcdeg')).toBe(false);
    expect(sameSecret('abcdef', 'abcde')).toBe(false);
    expect(sameSecret('', '')).toBe(false);
  });

  it('keeps the pending sign-in across the redirect and refuses a damaged one', () => {
    const pending = { verifier: 'v'.repeat(64), state: 's', nonce: 'n', issuer: 'https://idp.example/' };
    expect(parsePending(serializePending(pending))).toEqual(pending);
    expect(parsePending(null)).toBeNull();
    expect(parsePending('{not json')).toBeNull();
    expect(parsePending(JSON.stringify({ ...pending, verifier: '' }))).toBeNull();
    expect(parsePending(JSON.stringify({ state: 's' }))).toBeNull();
  });

  it('sends the code, the verifier and the same redirect URI to the token endpoint', () => {
    const body = tokenRequestBody({
      code: 'the code',
      redirectUri: 'https://gw.example/',
      clientId: 'portcullis-console',
      verifier: 'v'.repeat(64),
    });
    expect(Object.fromEntries(body)).toEqual({
      grant_type: 'authorization_code',
      code: 'the code',
      redirect_uri: 'https://gw.example/',
      client_id: 'portcullis-console',
      code_verifier: 'v'.repeat(64),
    });
    expect(body.toString()).toContain('code=the+code');
  });
});

describe('the credential from the token response', () => {
  it('takes the ID token when its nonce matches', () => {
    const idToken = jwtWithClaims({ sub: 'alice', nonce: 'n-1' });
    expect(credentialFromTokenResponse({ id_token: idToken, access_token: 'at' }, 'n-1')).toEqual({
      credential: idToken,
    });
  });

  it('refuses an ID token minted for another sign-in', () => {
    const idToken = jwtWithClaims({ sub: 'alice', nonce: 'other' });
    expect(credentialFromTokenResponse({ id_token: idToken }, 'n-1')).toHaveProperty('error');
    expect(credentialFromTokenResponse({ id_token: jwtWithClaims({ sub: 'a' }) }, 'n-1')).toHaveProperty('error');
    expect(credentialFromTokenResponse({ id_token: 'garbage' }, 'n-1')).toHaveProperty('error');
  });

  it('never takes the access token instead of an ID token', () => {
    expect(credentialFromTokenResponse({ access_token: 'at' }, 'n-1')).toHaveProperty('error');
  });

  it('fails without either', () => {
    expect(credentialFromTokenResponse({}, 'n-1')).toHaveProperty('error');
  });
});
