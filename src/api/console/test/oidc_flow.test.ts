import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { finishOidcSignIn, startOidcSignIn } from '../oidc_flow';

const kIssuer = 'https://idp.example/';
const kProvider = { issuer: kIssuer, client_id: 'portcullis-console', scopes: ['openid', 'email'] };
const kDiscovery = {
  issuer: 'https://idp.example',
  authorization_endpoint: 'https://idp.example/authorize',
  token_endpoint: 'https://idp.example/token',
};
const kPendingKey = 'portcullis.oidc.pending';

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function idToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.sig`;
}

// The browser globals the flow touches, as plain objects the test can read.
function stubBrowser(href: string) {
  const storage = new Map<string, string>();
  const url = new URL(href);
  const location = { href, origin: url.origin, search: url.search, assign: vi.fn() };
  const history = { replaceState: vi.fn() };
  vi.stubGlobal('location', location);
  vi.stubGlobal('history', history);
  vi.stubGlobal('sessionStorage', {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => void storage.set(key, value),
    removeItem: (key: string) => void storage.delete(key),
  });
  return { storage, location, history };
}

describe('the OIDC sign-in flow', () => {
  const fetchMock = vi.fn<typeof fetch>();

  beforeEach(() => {
    fetchMock.mockReset();
    vi.stubGlobal('fetch', fetchMock);
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('redirects with a challenge derived from the verifier it keeps', async () => {
    const browser = stubBrowser('https://gw.example/#/journal');
    fetchMock.mockResolvedValueOnce(jsonResponse(kDiscovery));
    await startOidcSignIn(kProvider);

    expect(fetchMock.mock.calls[0][0]).toBe('https://idp.example/.well-known/openid-configuration');
    const pending = JSON.parse(browser.storage.get(kPendingKey) ?? 'null');
    expect(pending.issuer).toBe(kIssuer);
    const target = new URL(browser.location.assign.mock.calls[0][0] as string);
    expect(target.origin + target.pathname).toBe('https://idp.example/authorize');
    expect(target.searchParams.get('state')).toBe(pending.state);
    expect(target.searchParams.get('nonce')).toBe(pending.nonce);
    expect(target.searchParams.get('redirect_uri')).toBe('https://gw.example/');
    expect(target.searchParams.get('code_challenge')).toBe(
      createHash('sha256').update(pending.verifier).digest('base64url'),
    );
  });

  it('refuses a discovery document for another issuer', async () => {
    const browser = stubBrowser('https://gw.example/');
    fetchMock.mockResolvedValueOnce(jsonResponse({ ...kDiscovery, issuer: 'https://evil.example/' }));
    await expect(startOidcSignIn(kProvider)).rejects.toThrow(/not for/);
    expect(browser.location.assign).not.toHaveBeenCalled();
    expect(browser.storage.size).toBe(0);
  });

  it('exchanges the code with the verifier and signs in with the ID token', async () => {
    const browser = stubBrowser('https://gw.example/?code=the-code&state=the-state');
    const pending = { verifier: 'v'.repeat(64), state: 'the-state', nonce: 'the-nonce', issuer: kIssuer };
    browser.storage.set(kPendingKey, JSON.stringify(pending));
    const token = idToken({ sub: 'alice', nonce: 'the-nonce' });
    fetchMock
      .mockResolvedValueOnce(jsonResponse({ oidc: [kProvider] }))
      .mockResolvedValueOnce(jsonResponse(kDiscovery))
      .mockResolvedValueOnce(jsonResponse({ id_token: token, access_token: 'at' }));

    await expect(finishOidcSignIn()).resolves.toEqual({ kind: 'signed-in', credential: token });
    expect(browser.storage.has(kPendingKey)).toBe(false);
    expect(browser.history.replaceState).toHaveBeenCalledWith(null, '', '/');
    const [tokenUrl, init] = fetchMock.mock.calls[2];
    expect(tokenUrl).toBe('https://idp.example/token');
    expect(Object.fromEntries(new URLSearchParams(String(init?.body)))).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: 'https://gw.example/',
      client_id: 'portcullis-console',
      code_verifier: 'v'.repeat(64),
    });
  });

  it('refuses a code that came back from another provider (RFC 9207 iss)', async () => {
    stubBrowser('https://gw.example/?code=c&state=the-state&iss=https%3A%2F%2Fevil.example%2F').storage.set(
      kPendingKey,
      JSON.stringify({ verifier: 'v'.repeat(64), state: 'the-state', nonce: 'n', issuer: kIssuer }),
    );
    fetchMock.mockResolvedValueOnce(jsonResponse({ oidc: [kProvider] }));
    const outcome = await finishOidcSignIn();
    expect(outcome).toEqual({ kind: 'error', message: expect.stringMatching(/evil\.example/) });
    // The code was not sent anywhere: only the gateway's configuration was read.
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('refuses a callback whose state differs, and forgets the pending sign-in', async () => {
    const browser = stubBrowser('https://gw.example/?code=c&state=forged');
    browser.storage.set(
      kPendingKey,
      JSON.stringify({ verifier: 'v'.repeat(64), state: 'the-state', nonce: 'n', issuer: kIssuer }),
    );
    const outcome = await finishOidcSignIn();
    expect(outcome.kind).toBe('error');
    expect(fetchMock).not.toHaveBeenCalled();
    expect(browser.storage.has(kPendingKey)).toBe(false);
    expect(browser.history.replaceState).toHaveBeenCalled();
  });

  it('refuses a callback with no sign-in in progress', async () => {
    stubBrowser('https://gw.example/?code=c&state=s');
    expect((await finishOidcSignIn()).kind).toBe('error');
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('shows the provider error', async () => {
    stubBrowser('https://gw.example/?error=access_denied&error_description=no+thanks');
    await expect(finishOidcSignIn()).resolves.toEqual({
      kind: 'error',
      message: 'Sign-in refused: access_denied: no thanks',
    });
  });

  it('does nothing on an ordinary page load', async () => {
    const browser = stubBrowser('https://gw.example/#/reviews');
    await expect(finishOidcSignIn()).resolves.toEqual({ kind: 'none' });
    expect(browser.history.replaceState).not.toHaveBeenCalled();
  });
});
